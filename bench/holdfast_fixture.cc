#include "holdfast_fixture.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "bench_util.h"
#include "internals.h"

namespace holdfast::bench {
namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  Fail(what + ": " + s.ToString());
}

}  // namespace

EngineOptions BenchEngineOptions(bool sync) {
  EngineOptions options;
  options.sync_writes = sync;
  options.on_orphan_takeover = [](const OrphanTakeover&) {};
  return options;
}

std::unique_ptr<Engine> OpenEngineOrFail(const std::string& dir, EngineOptions options) {
  auto engine = Engine::Open(dir, std::move(options));
  if (!engine.ok()) Die("opening " + dir, engine.status());
  return std::move(*engine);
}

Store<BytesCodec> OpenStoreOrFail(Engine& engine, const StoreOptions<std::string>& options) {
  auto store = engine.OpenStore<BytesCodec>(kStoreName, options);
  if (!store.ok()) Die("opening the store", store.status());
  return std::move(*store);
}

void PopulateProfiles(const std::string& dir, size_t count, size_t payload_bytes, int threads) {
  FreshDirectory(dir);
  auto engine = OpenEngineOrFail(dir, BenchEngineOptions(/*sync=*/false));
  StoreOptions<std::string> options;
  FillRandomBytes(&options.template_value, payload_bytes, count);
  auto store = OpenStoreOrFail(*engine, options);
  const uint64_t failures = ParallelFor(count, threads, [&](size_t i) {
    auto profile = store.StartSession(ProfileKey(i));
    return profile.ok() && profile->EndSession().ok();
  });
  if (failures != 0)
    Die("populating " + dir, Status::IOError(std::to_string(failures) + " failed"));
  if (Status s = engine->Close(); !s.ok()) Die("closing " + dir, s);
}

std::vector<Profile<BytesCodec>> StartSessions(Store<BytesCodec>& store, size_t count,
                                               int threads) {
  std::vector<std::optional<Profile<BytesCodec>>> started(count);
  const uint64_t failures = ParallelFor(count, threads, [&](size_t i) {
    auto profile = store.StartSession(ProfileKey(i));
    if (profile.ok()) started[i].emplace(std::move(*profile));
    return profile.ok();
  });
  if (failures != 0)
    Fail(std::to_string(failures) + " of " + std::to_string(count) + " starts failed");
  std::vector<Profile<BytesCodec>> profiles;
  profiles.reserve(count);
  for (auto& p : started) profiles.push_back(std::move(*p));
  return profiles;
}

RecordSizes StoredRecordSizes(Engine& engine, const std::string& key) {
  using internal::Family;
  const std::string profile_key = internal::EncodeProfileKey(kStoreName, key);
  internal::Storage& storage = test::StorageOf(engine);
  std::string data, meta, version;
  (void)storage.Get(Family::kData, profile_key, &data);
  (void)storage.Get(Family::kMeta, profile_key, &meta);
  auto record = internal::DecodeProfileRecord(data);
  if (record.ok()) {
    (void)storage.Get(Family::kVersions, internal::VersionKeyOf(profile_key, record->version),
                      &version);
  }
  return RecordSizes{data.size(), meta.size(), version.size()};
}

RecordSizes SteadyStateRecordSizes(Engine& engine, Store<BytesCodec>& store, const std::string& key,
                                   size_t payload_bytes) {
  auto profile = store.StartSession(key);
  if (!profile.ok()) Die("starting " + key, profile.status());
  std::string payload;
  FillRandomBytes(&payload, payload_bytes, payload_bytes);
  for (uint64_t i = 0; i < kHistoryKept + 10; ++i) {
    StampCounter(&payload, i);
    (void)profile->Edit([&](std::string& d) { d = payload; });
    if (Status s = profile->Save(); !s.ok()) Die("saving " + key, s);
  }
  RecordSizes sizes = StoredRecordSizes(engine, key);
  (void)profile->EndSession();
  return sizes;
}

int ProfileSaveMain(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: holdfast_bench profile-save <dir> <saves> <sync 0|1>\n");
    return 2;
  }
  const std::string dir = argv[2];
  const long saves = std::stol(argv[3]);
  FreshDirectory(dir);
  auto engine = OpenEngineOrFail(dir, BenchEngineOptions(std::string(argv[4]) == "1"));
  StoreOptions<std::string> options;
  FillRandomBytes(&options.template_value, 1024, 1);
  auto store = OpenStoreOrFail(*engine, options);
  auto profile = store.StartSession(ProfileKey(0));
  if (!profile.ok()) Die("starting", profile.status());
  for (long i = 0; i < saves; ++i) {
    (void)profile->Edit([i](std::string& value) { std::memcpy(value.data(), &i, sizeof i); });
    if (Status s = profile->Save(); !s.ok()) Die("saving", s);
  }
  (void)profile->EndSession();
  (void)engine->Close();
  return 0;
}

}  // namespace holdfast::bench
