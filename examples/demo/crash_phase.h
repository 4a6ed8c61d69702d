// The crash: a second process (this program again, with --child-trade-phase) opens the database,
// puts every player online and trades until the demo kills it with SIGKILL — a real crash, with
// sessions live and trades in flight.
//
// The trading process reports on a pipe, one line each: "ready <items> <unix_ms>" once every
// player is online (the items it found stored, and when trading began), "trade <n>" after its
// n-th trade is stored, "error <text>" before it exits on a failure. The demo waits on that pipe;
// nothing is timed with sleeps.
#ifndef HOLDFAST_EXAMPLES_DEMO_CRASH_PHASE_H_
#define HOLDFAST_EXAMPLES_DEMO_CRASH_PHASE_H_

#include <sys/types.h>

#include <cstdint>

#include "demo_config.h"
#include "holdfast/status.h"

namespace holdfast_demo {

// The file descriptor the trading process reports on.
inline constexpr int kReportFd = 3;

struct CrashReport {
  pid_t pid = 0;
  int64_t items_found = 0;       // items stored when the trading process began
  int64_t trading_since_ms = 0;  // unix ms: when it began trading
  uint64_t trades_at_kill = 0;   // trades it had reported stored when SIGKILL was sent
  uint64_t trades_reported = 0;  // trades it reported stored before it died (a few more)
  double trading_ms = 0;         // from its first trade to the kill
};

// Starts the trading process on config.db (the database must be closed), waits until it has
// reported config.crash_after stored trades, kills it with SIGKILL and reaps it. Internal when
// the process fails, goes silent for a minute, or ends by itself.
holdfast::Result<CrashReport> CrashTradingProcess(const DemoConfig& config);

// The trading process's main: trades until killed. Returns an exit code on failure only.
int TradingProcessMain(const DemoConfig& config, int report_fd);

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_CRASH_PHASE_H_
