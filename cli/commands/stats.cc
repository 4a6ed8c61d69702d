// `holdfast stats`: what the database holds — stores, profiles, locks, versions — and its size
// on disk (the path as given); on a running server (through its admin socket), also the engine's
// live counters and latencies since it opened (Engine::Stats).
#include <filesystem>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "database_command.h"
#include "holdfast/admin.h"
#include "holdfast/stats_fields.h"
#include "json_output.h"
#include "text_output.h"

namespace holdfast::cli {
namespace stats_command {

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

constexpr char kHelp[] =
    R"(Show what the database holds: stores, profiles, held locks, versions, damaged records, and
its size on disk. On a running server (through its admin socket) also the engine's live counters
since it opened — sessions, saves, conflicts, handoffs, errors, messages — and the start and save
latencies (microseconds: p50, p90, p99, max). A database opened directly has no running engine:
the live counters are unavailable there.)";

constexpr char kOffline[] =
    "unavailable: no running server answered on the admin socket (the database was opened "
    "directly)";

Json LatencyJson(const LatencySummary& l) {
  return {{"count", l.count}, {"p50_us", l.p50_us}, {"p90_us", l.p90_us},
          {"p99_us", l.p99_us}, {"max_us", l.max_us}};
}

std::string LatencyText(const LatencySummary& l) {
  auto us = [](double value) { return std::to_string(static_cast<uint64_t>(value)); };
  return std::to_string(l.count) + " (p50 " + us(l.p50_us) + " us, p90 " + us(l.p90_us) +
         " us, p99 " + us(l.p99_us) + " us, max " + us(l.max_us) + " us)";
}

Json LiveJson(const EngineStats& stats) {
  Json live = Json::object();
  for (const StatsCounterField& c : kStatsCounterFields) live[std::string(c.name)] = stats.*c.field;
  live["critical"] = stats.critical;
  for (const StatsLatencyField& l : kStatsLatencyFields) {
    live[std::string(l.name) + "_latency"] = LatencyJson(stats.*l.field);
  }
  return live;
}

void AddLiveRows(Table& table, const EngineStats& stats) {
  for (const StatsCounterField& c : kStatsCounterFields) {
    table.Add({"live " + std::string(c.name), std::to_string(stats.*c.field)});
  }
  table.Add({"live critical", stats.critical ? "yes" : "no"});
  for (const StatsLatencyField& l : kStatsLatencyFields) {
    table.Add({"live " + std::string(l.name) + " latency", LatencyText(stats.*l.field)});
  }
}

Status ShowStats(AdminService& admin, const Invocation& call) {
  // Only a running server's engine has counters worth showing: an engine this command opened
  // has done nothing but this command.
  std::optional<EngineStats> live;
  if (dynamic_cast<Admin*>(&admin) == nullptr) {
    auto stats = admin.Stats();
    if (!stats.ok()) return stats.status().WithContext("the server's live counters");
    live = *stats;
  }
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
    object["live"] = live ? LiveJson(*live) : Json();
    PrintJson(call.io.out, object);
    return Status::Ok();
  }
  Table table({"path", Printable(call.path)});
  for (const auto& [name, count] : counts) table.Add({name, std::to_string(count)});
  if (live) {
    AddLiveRows(table, *live);
  } else {
    table.Add({"live counters", kOffline});
  }
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace stats_command

std::unique_ptr<Command> MakeStatsCommand() {
  using namespace stats_command;
  return MakeDatabaseCommand(
      {.name = "stats",
       .summary = "show what the database holds (and a running server's live counters)",
       .description = kHelp,
       .run = ShowStats});
}

}  // namespace holdfast::cli
