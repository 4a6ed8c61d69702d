// The demo's command line (cxxopts), and the admin CLI commands it prints at the end.
#ifndef HOLDFAST_EXAMPLES_DEMO_COMMAND_LINE_H_
#define HOLDFAST_EXAMPLES_DEMO_COMMAND_LINE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "demo_config.h"

namespace holdfast_demo {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // something failed, or items were not conserved
inline constexpr int kExitUsage = 2;   // bad arguments; nothing was done

// Parses the command line into `config`; `child` is set for the trading process (the hidden
// --child-trade-phase). Returns an exit code when the program should stop: kExitOk after
// --help, kExitUsage after a bad argument (the message is on stderr).
std::optional<int> ParseArgs(int argc, char** argv, DemoConfig& config, bool* child);

// Prints the `holdfast` commands that show what the demo left in config.db, the player `key`
// (whose user id is `user_id`) among them.
void PrintExploreCommands(const DemoConfig& config, const std::string& key, int64_t user_id);

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_COMMAND_LINE_H_
