// The storage-core demo: opens an engine in ./holdfast-demo-data (or the directory given as the
// first argument), writes three player records, reads them back, closes, reopens, and reads them
// again — printing each step. Every run adds 10 gold to each player, so runs are visible.
//
// It uses Holdfast's internal storage layer directly because the session API is not there yet;
// the demo game server replaces it.
#include <cstdio>
#include <string>

#include "engine_core.h"
#include "holdfast/holdfast.h"
#include "key_codec.h"
#include "records.h"
#include "storage.h"

namespace {

using holdfast::Status;
using namespace holdfast::internal;

int Fail(const Status& s) {
  std::fprintf(stderr, "demo: %s\n", s.ToString().c_str());
  return 1;
}

// Reads a player's record; a player never seen before starts with version 0 and 0 gold.
holdfast::Result<ProfileRecord> Load(Storage& storage, const std::string& key) {
  std::string bytes;
  Status s = storage.Get(Family::kData, key, &bytes);
  if (s.code() == holdfast::StatusCode::kNotFound) return ProfileRecord{0, "gold=0", "bytes", 0, 0};
  if (!s.ok()) return s;
  return DecodeProfileRecord(bytes);
}

int Gold(const std::string& payload) { return std::stoi(payload.substr(payload.find('=') + 1)); }

}  // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : "holdfast-demo-data";
  const char* players[] = {"alice", "bob", "carol"};

  auto engine = holdfast::Engine::Open(path, holdfast::EngineOptions{});
  if (!engine.ok()) return Fail(engine.status());
  holdfast::EngineInfo info = (*engine)->Info();
  std::printf("opened %s (format %u, incarnation %llu)\n", info.path.c_str(), info.format_version,
              static_cast<unsigned long long>(info.incarnation));
  if (Status s = (*engine)->core().RegisterStore("Players", "bytes", ""); !s.ok()) return Fail(s);

  Storage& storage = (*engine)->core().storage();
  for (const char* player : players) {
    std::string key = EncodeProfileKey("Players", player);
    auto current = Load(storage, key);
    if (!current.ok()) return Fail(current.status());
    ProfileRecord next = *current;
    next.version += 1;
    next.payload = "gold=" + std::to_string(Gold(current->payload) + 10);
    next.updated_unix_ms = (*engine)->core().clock().WallUnixMillis();
    Status s = RunTransaction(storage, [&](StorageTransaction& txn) {
      return txn.Put(Family::kData, key, EncodeProfileRecord(next));
    });
    if (!s.ok()) return Fail(s);
    std::printf("  wrote %-6s version %llu: %s\n", player,
                static_cast<unsigned long long>(next.version), next.payload.c_str());
  }
  if (Status s = (*engine)->Close(); !s.ok()) return Fail(s);
  std::printf("closed\n");

  auto reopened = holdfast::Engine::Open(path, holdfast::EngineOptions{});
  if (!reopened.ok()) return Fail(reopened.status());
  std::printf("reopened (incarnation %llu)\n",
              static_cast<unsigned long long>((*reopened)->Info().incarnation));
  for (const char* player : players) {
    auto record = Load((*reopened)->core().storage(), EncodeProfileKey("Players", player));
    if (!record.ok()) return Fail(record.status());
    std::printf("  read  %-6s version %llu: %s (checksums verified)\n", player,
                static_cast<unsigned long long>(record->version), record->payload.c_str());
  }
  if (Status s = (*reopened)->Close(); !s.ok()) return Fail(s);
  std::printf("done: run again and every player gains 10 gold\n");
  return 0;
}
