// `holdfast stats`: what the database holds — stores, profiles, locks, versions — and its size
// on disk (the path as given). Live counters (saves, latencies) of a running engine are not
// shown yet.
#include <filesystem>
#include <ostream>
#include <utility>
#include <vector>

#include "database_command.h"
#include "holdfast/admin.h"
#include "json_output.h"
#include "text_output.h"

namespace holdfast::cli {
namespace {

// The bytes of every file under `dir` (RocksDB's tables, logs and manifests).
uint64_t DiskBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += it->file_size(error);
  }
  return total;
}

Status ShowStats(AdminService& admin, const Invocation& call) {
  auto stores = admin.Stores();
  if (!stores.ok()) return stores.status();
  auto info = admin.Info();
  if (!info.ok()) return info.status();
  StoreSummary total;
  for (const StoreSummary& store : *stores) {
    total.profiles += store.profiles;
    total.locked += store.locked;
    total.versions += store.versions;
    total.damaged += store.damaged;
  }
  const std::vector<std::pair<std::string, uint64_t>> counts = {
      {"format_version", info->format_version},
      {"stores", stores->size()},
      {"profiles", total.profiles},
      {"locked", total.locked},
      {"versions", total.versions},
      {"damaged", total.damaged},
      {"disk_bytes", DiskBytes(call.path)}};
  if (call.json) {
    Json object = {{"path", call.path}};
    for (const auto& [name, count] : counts) object[name] = count;
    PrintJson(call.io.out, object);
    return Status::Ok();
  }
  Table table({"path", Printable(call.path)});
  for (const auto& [name, count] : counts) table.Add({name, std::to_string(count)});
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Command> MakeStatsCommand() {
  return MakeDatabaseCommand(
      {.name = "stats", .summary = "show what the database holds", .run = ShowStats});
}

}  // namespace holdfast::cli
