// The trading process: this program started again by crash_phase.cc. It opens the database,
// puts every player online and trades with several threads until it is killed.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "crash_phase.h"
#include "market.h"
#include "world.h"

namespace holdfast_demo {
namespace {

// Writes one whole line to the report pipe. Lines are shorter than PIPE_BUF, so lines of
// different trader threads never interleave. When the demo is gone, the write raises SIGPIPE,
// which ends this process.
void Report(int fd, const std::string& line) {
  const std::string text = line + "\n";
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) _exit(1);
    written += static_cast<size_t>(n);
  }
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int TradingProcessMain(const DemoConfig& config, int report_fd) {
  WorldOptions options;
  options.path = config.db;
  options.players = config.players;
  options.owner = "holdfast-demo trading process (pid " + std::to_string(getpid()) + ")";
  auto world = World::Open(options);
  if (!world.ok()) {
    Report(report_fd, "error " + world.status().ToString());
    return 1;
  }
  int new_players = 0;
  if (holdfast::Status s = (*world)->JoinAll(&new_players); !s.ok()) {
    Report(report_fd, "error " + s.ToString());
    return 1;
  }
  Report(report_fd,
         "ready " + std::to_string((*world)->TotalItems()) + " " + std::to_string(NowUnixMs()));
  MarketTally tally;
  Market market(**world);
  holdfast::Status s =
      market.Run(config.traders, config.seed, Market::kForever, tally,
                 [&](uint64_t n) { Report(report_fd, "trade " + std::to_string(n)); });
  // Only a failure ends the trading before the kill.
  Report(report_fd, "error " + s.ToString());
  return 1;
}

}  // namespace holdfast_demo
