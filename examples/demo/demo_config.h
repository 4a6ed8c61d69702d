// The demo's settings, from its command line (main.cc). The trading process gets the ones it
// needs on its own command line.
#ifndef HOLDFAST_EXAMPLES_DEMO_DEMO_CONFIG_H_
#define HOLDFAST_EXAMPLES_DEMO_DEMO_CONFIG_H_

#include <cstdint>
#include <string>

namespace holdfast_demo {

struct DemoConfig {
  std::string db = "holdfast-demo-data";
  int players = 300;
  // Trades before the crash phase.
  uint64_t trades = 600;
  // The trading process is killed once it has reported this many stored trades.
  uint64_t crash_after = 300;
  // Trader threads, in the server and in the trading process.
  int traders = 4;
  uint64_t seed = 1;
  // After the simulation, stay up with the players online until SIGINT or SIGTERM.
  bool keep_running = false;
};

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_DEMO_CONFIG_H_
