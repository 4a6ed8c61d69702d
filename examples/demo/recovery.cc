#include "recovery.h"

#include <map>
#include <utility>

namespace holdfast_demo {

using holdfast::Result;
using holdfast::Status;

Result<TradeAudit> AuditTrades(World& world, int64_t since_unix_ms) {
  TradeAudit audit;
  // (player, partner) -> trade versions of `player` naming `partner`.
  std::map<std::pair<std::string, std::string>, uint64_t> sides;
  uint64_t busiest = 0;
  std::vector<Player>& players = world.players();
  for (int i = 0; i < static_cast<int>(players.size()); ++i) {
    holdfast::VersionQuery query;
    query.from_unix_ms = since_unix_ms;
    query.limit = 0;
    auto versions = world.store().Versions(players[i].key, query);
    if (!versions.ok()) return versions.status().WithContext("versions of " + players[i].key);
    uint64_t mine = 0;
    for (const holdfast::VersionInfo& version : *versions) {
      if (version.reason != holdfast::VersionReason::kTrade) continue;
      ++mine;
      for (const holdfast::ProfileLocation& partner : version.partners) {
        ++sides[{players[i].key, partner.key}];
      }
    }
    if (mine > busiest) {
      busiest = mine;
      audit.busiest_player = i;
    }
  }
  uint64_t versions = 0;
  for (const auto& [pair, count] : sides) {
    versions += count;
    auto other = sides.find({pair.second, pair.first});
    const uint64_t matched = other == sides.end() ? 0 : std::min(count, other->second);
    audit.half_trades += count - matched;
  }
  audit.trades = (versions - audit.half_trades) / 2;
  return audit;
}

Result<RollbackReport> RollBackPlayer(World& world, int index, int64_t before_unix_ms) {
  Player& player = world.players()[index];
  RollbackReport report;
  report.key = player.key;
  holdfast::VersionQuery query;
  query.to_unix_ms = before_unix_ms - 1;
  query.limit = 1;
  auto versions = world.store().Versions(player.key, query);
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return Status::NotFound(player.key + " has no version before the crash");
  report.restored_version = versions->front().version;
  report.items_before = player.profile->Read(CountItems);

  // The admin API, as `holdfast rollback` uses it. The store is open in this engine, so the
  // rollback goes through it: the live session makes its final save and ends (kRollback).
  holdfast::Admin admin(world.engine());
  auto written = admin.Rollback(kStoreName, player.key, report.restored_version);
  if (!written.ok()) return written.status();
  report.written_as = *written;
  // The player comes back online and loads the restored data.
  if (Status s = world.Join(index); !s.ok()) return s;
  report.items_after = player.profile->Read(CountItems);
  return report;
}

}  // namespace holdfast_demo
