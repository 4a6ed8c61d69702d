// After the crash: what the database says about the trading process's work, and an admin's
// rollback of one player.
#ifndef HOLDFAST_EXAMPLES_DEMO_RECOVERY_H_
#define HOLDFAST_EXAMPLES_DEMO_RECOVERY_H_

#include <cstdint>
#include <string>

#include "holdfast/status.h"
#include "world.h"

namespace holdfast_demo {

// Trades stored since `since_unix_ms`, from the players' version histories: every trade wrote a
// kTrade version of both players, each naming the other as its partner.
struct TradeAudit {
  uint64_t trades = 0;       // pairs of trade versions
  uint64_t half_trades = 0;  // trade versions whose partner has no matching version
  int busiest_player = -1;   // the player with the most trade versions (-1: none)
};
holdfast::Result<TradeAudit> AuditTrades(World& world, int64_t since_unix_ms);

struct RollbackReport {
  std::string key;
  uint64_t restored_version = 0;  // the version copied
  uint64_t written_as = 0;        // the new version holding it
  int64_t items_before = 0;
  int64_t items_after = 0;
};
// An admin (holdfast::Admin, as the CLI's `rollback` does) rolls player `index` back to its
// newest version written before `before_unix_ms`: the player's session is ended first (a final
// save), the rollback is written as a new version, and the player rejoins with the restored data.
holdfast::Result<RollbackReport> RollBackPlayer(World& world, int index, int64_t before_unix_ms);

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_RECOVERY_H_
