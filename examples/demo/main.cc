// holdfast-demo: a dedicated game server on an embedded Holdfast database.
//
// Several hundred players join, earn coins, receive gifts as messages, trade items (each trade
// made with Engine::Trade: both players' edits stored in one SaveTogether commit, both or
// neither) and rejoin while online (a handoff). Then the server crashes for real: a second
// process trades until it is killed with SIGKILL; the server restarts, takes over the locks the
// dead process left, and checks that not one item was created or destroyed. Finally an admin
// rolls one player back.
//
// Run it again on the same --db and it continues: the players come back with what they had, and
// the check compares the items before and after that run's crash.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "command_line.h"
#include "crash_phase.h"
#include "demo_config.h"
#include "keep_running.h"
#include "market.h"
#include "recovery.h"
#include "report.h"
#include "world.h"

namespace holdfast_demo {
namespace {

using holdfast::Status;

WorldOptions ServerOptions(const DemoConfig& config) {
  WorldOptions options;
  options.path = config.db;
  options.players = config.players;
  options.owner = "holdfast-demo server (pid " + Str(getpid()) + ")";
  return options;
}

// The server's first life: players join, earn, receive gifts, trade and rejoin; then it shuts
// down cleanly. Sets the items in the world at the shutdown.
int RunServer(const DemoConfig& config, int64_t* items) {
  Stopwatch watch;
  auto opened = World::Open(ServerOptions(config));
  if (!opened.ok()) return Fail("opening the database", opened.status());
  World& world = **opened;
  Step("database", config.db + (world.created() ? " (created now)"
                                                : " (continued: the players of earlier runs come "
                                                  "back with what they had)"));
  int new_players = 0;
  if (Status s = world.JoinAll(&new_players); !s.ok()) return Fail("join", s);
  std::string joined = Str(config.players) + " players online in " + Ms(watch.Ms()) + ": " +
                       Str(new_players) + " new (a new player gets the starter kit, 40 items), " +
                       Str(config.players - new_players) + " returning with what they had";
  if (world.orphans_taken_over() > 0) {
    joined += "; " + Str(world.orphans_taken_over()) +
              " locks left by an earlier run that was killed were taken over";
  }
  Step("join", joined);

  watch = Stopwatch();
  int64_t coins = 0;
  if (Status s = world.EarnAndSave(config.seed, &coins); !s.ok()) return Fail("earn", s);
  Step("earn", "players earned " + Str(coins) + " coins; " + Str(config.players) +
                   " profiles saved in " + Ms(watch.Ms()));

  watch = Stopwatch();
  const int gifts = std::max(1, config.players / 10);
  if (Status s = world.SendGifts(gifts, 100, config.seed); !s.ok()) return Fail("gifts", s);
  Step("gifts", Count(gifts, "gift") +
                    " of 100 coins sent as messages (Store::Message); the players' "
                    "sessions applied them and saved them with the messages' removal in " +
                    Ms(watch.Ms()));

  watch = Stopwatch();
  MarketTally tally;
  if (Status s = Market(world).Run(config.traders, config.seed, config.trades, tally); !s.ok()) {
    return Fail("trade", s);
  }
  Step("trade",
       Str(tally.trades) + " trades by " + Str(config.traders) + " threads in " + Ms(watch.Ms()) +
           " with Engine::Trade (both players' edits, one commit): " + Str(tally.items_moved) +
           " items and " + Str(tally.coins_paid) + " coins changed hands");

  const uint64_t handoffs_before = world.engine().Stats().handoffs;
  const int rejoins = std::max(1, config.players / 30);
  int same = 0;
  for (int i = 0; i < rejoins; ++i) {
    bool same_data = false;
    if (Status s = world.Rejoin((i * 37 + 3) % config.players, &same_data); !s.ok()) {
      return Fail("rejoin", s);
    }
    same += same_data ? 1 : 0;
  }
  Step("rejoin", Count(rejoins, "player") + " joined again while online: " +
                     Count(world.engine().Stats().handoffs - handoffs_before, "handoff") +
                     "; the new session loaded exactly what the old one had, " + Str(same) +
                     " of " + Str(rejoins));
  if (same != rejoins) return Fail("rejoin", Status::Internal("a handoff lost data"));

  *items = world.TotalItems();
  watch = Stopwatch();
  if (Status s = world.Close(); !s.ok()) return Fail("shutdown", s);
  Step("shutdown", "server closed cleanly in " + Ms(watch.Ms()) +
                       " (final saves, locks released): " + Str(*items) +
                       " items in the world. Its engine: " + StatsText(world.final_stats()));
  return kExitOk;
}

// The server's second life, after the crash: every player rejoins (taking over the dead
// process's locks), the items are counted, an admin rolls one player back, and the server
// closes — or, with --keep-running, serves until SIGINT/SIGTERM first.
int RunAfterCrash(const DemoConfig& config, int64_t items_before, const CrashReport& crash) {
  Stopwatch watch;
  auto opened = World::Open(ServerOptions(config));
  if (!opened.ok()) return Fail("reopening after the crash", opened.status());
  World& world = **opened;
  int new_players = 0;
  if (Status s = world.JoinAll(&new_players); !s.ok()) return Fail("join after the crash", s);
  const auto orphan = world.first_orphan();
  Step("restart", Str(config.players) + " players online again in " + Ms(watch.Ms()) + "; " +
                      Str(world.orphans_taken_over()) + " orphaned locks taken over (left by \"" +
                      (orphan ? orphan->previous_owner : std::string("nobody")) + "\")");
  auto audit = AuditTrades(world, crash.trading_since_ms);
  if (!audit.ok()) return Fail("trade audit", audit.status());
  Step("audit", "the players' version histories hold " + Str(audit->trades) +
                    " trades by the killed process (it reported " + Str(crash.trades_reported) +
                    " before it died); trades stored on one side only: " + Str(audit->half_trades));
  const int64_t items_after = world.TotalItems();
  const bool conserved = items_after == items_before && crash.items_found == items_before;
  const bool sound = audit->half_trades == 0 && audit->trades >= crash.trades_reported;
  std::printf("items conserved: %s (%lld before the crash, %lld after)\n",
              conserved ? "yes" : "not conserved", static_cast<long long>(items_before),
              static_cast<long long>(items_after));

  // After the check: a rollback changes items on purpose.
  const int victim = audit->busiest_player >= 0 ? audit->busiest_player : 0;
  auto rollback = RollBackPlayer(world, victim, crash.trading_since_ms);
  if (!rollback.ok()) return Fail("rollback", rollback.status());
  Step("rollback", "support undoes " + rollback->key + "'s trades in the crashed process: an " +
                       "admin (holdfast::Admin) rolls it back to version " +
                       Str(rollback->restored_version) + ", written as version " +
                       Str(rollback->written_as) + "; its items " + Str(rollback->items_before) +
                       " -> " + Str(rollback->items_after) + ", the world's " +
                       Str(world.TotalItems()) + ". A rollback is a deliberate change, made " +
                       "after the check above; its partners keep their side of those trades.");

  if (config.keep_running) {
    std::printf(
        "\nserver running: %d players online, auto-saved every 10 s. Stop it with "
        "Ctrl-C (SIGINT) or SIGTERM.\n",
        config.players);
    uint64_t earned = 0;
    const int signal_number = ServeUntilStopped(world, config.seed, &earned);
    std::printf("received %s: closing (the players earned %llu coins meanwhile)\n",
                signal_number == SIGINT ? "SIGINT" : "SIGTERM",
                static_cast<unsigned long long>(earned));
  }
  const uint64_t online = world.engine().Stats().active_sessions;
  watch = Stopwatch();
  if (Status s = world.Close(); !s.ok()) return Fail("close", s);
  Step("close", "server closed cleanly in " + Ms(watch.Ms()) + ": " + Count(online, "session") +
                    " saved and released. Its engine: " + StatsText(world.final_stats()));
  PrintExploreCommands(config, world.players()[victim].key, PlayerUserId(victim));
  if (!conserved || !sound) {
    std::fprintf(stderr, "holdfast-demo: the crash check failed\n");
    return kExitFailed;
  }
  return kExitOk;
}

int RunDemo(const DemoConfig& config) {
  std::printf("Holdfast demo: a dedicated game server with %d players\n\n", config.players);
  int64_t items_before = 0;
  if (int failed = RunServer(config, &items_before); failed != kExitOk) return failed;

  // The crash: a second process trades with every player online until it is killed.
  auto crash = CrashTradingProcess(config);
  if (!crash.ok()) return Fail("crash phase", crash.status());
  Step("crash", "a trading process (pid " + Str(crash->pid) + ") found " + Str(crash->items_found) +
                    " items, put every player online and traded with " + Str(config.traders) +
                    " threads; after it reported " + Str(crash->trades_at_kill) + " trades (" +
                    Ms(crash->trading_ms) + ") it was killed with SIGKILL, mid-trade");
  return RunAfterCrash(config, items_before, *crash);
}

}  // namespace
}  // namespace holdfast_demo

int main(int argc, char** argv) {
  holdfast_demo::DemoConfig config;
  bool child = false;
  if (auto exit_code = holdfast_demo::ParseArgs(argc, argv, config, &child)) return *exit_code;
  if (child) return holdfast_demo::TradingProcessMain(config, holdfast_demo::kReportFd);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // lines appear as they happen, also in a pipe
  // Before any thread starts, so that every thread inherits the mask (keep_running.h).
  if (config.keep_running) holdfast_demo::BlockStopSignals();
  return holdfast_demo::RunDemo(config);
}
