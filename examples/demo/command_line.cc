// The demo's command line, and the admin CLI commands it suggests at the end.
#include "command_line.h"

#include <algorithm>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <utility>

namespace holdfast_demo {
namespace {

// `text` quoted for a shell when it needs to be.
std::string ShellWord(const std::string& text) {
  if (text.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=") ==
      std::string::npos) {
    return text;
  }
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The admin CLI built next to this program (build/cli/holdfast), as a path from here.
std::string CliPath() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto cli = self.parent_path().parent_path() / "cli" / "holdfast";
  if (error || !std::filesystem::exists(cli, error)) return "holdfast";
  return std::filesystem::proximate(cli, error).string();
}

}  // namespace

void PrintExploreCommands(const DemoConfig& config, const std::string& key, int64_t user_id) {
  const std::string cli = ShellWord(CliPath()) + " ";
  const std::string db = " --db " + ShellWord(config.db);
  const std::pair<std::string, std::string> commands[] = {
      {"stores", "stores, profiles, versions"},
      {"list Players --limit 5", "the first players"},
      {"show Players " + key, "the player rolled back"},
      {"versions Players " + key, "its history; trades name the partner"},
      {"sessions", "held locks: none, all released"},
      {"find-user " + std::to_string(user_id), "profiles of that user id"},
      {"verify", "checks every record"},
  };
  size_t width = 0;
  for (const auto& [command, what] : commands) width = std::max(width, (cli + command + db).size());
  std::printf("\nExplore the database it left behind (once the demo has stopped):\n");
  for (const auto& [command, what] : commands) {
    std::printf("  %-*s  # %s\n", static_cast<int>(width), (cli + command + db).c_str(),
                what.c_str());
  }
}

std::optional<int> ParseArgs(int argc, char** argv, DemoConfig& config, bool* child) {
  cxxopts::Options options("holdfast-demo",
                           "A dedicated game server on an embedded Holdfast database: players "
                           "join, trade,\nrejoin and receive gifts; then the server crashes for "
                           "real and checks that no item\nwas lost or duplicated.");
  auto add = options.add_options();
  add("db", "the database directory (created when missing; an existing one is continued)",
      cxxopts::value<std::string>()->default_value(config.db), "PATH");
  add("players", "players on the server (2-100000)", cxxopts::value<int>()->default_value("300"),
      "N");
  add("trades", "trades before the crash", cxxopts::value<uint64_t>()->default_value("600"), "N");
  add("crash-after", "kill the trading process after it reported N trades (1 to 5 per player)",
      cxxopts::value<uint64_t>()->default_value("300"), "N");
  add("traders", "trader threads (1-64)", cxxopts::value<int>()->default_value("4"), "N");
  add("seed", "random seed", cxxopts::value<uint64_t>()->default_value("1"), "N");
  add("keep-running", "after the simulation, stay up with the players online until SIGTERM");
  add("h,help", "show this help");
  // The trading process's flag: not in --help.
  options.add_options("internal")("child-trade-phase", "run as the trading process");
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      std::cout << options.help({""});
      return kExitOk;
    }
    if (!args.unmatched().empty()) {
      throw cxxopts::exceptions::exception("unexpected argument '" + args.unmatched().front() +
                                           "'");
    }
    config.db = args["db"].as<std::string>();
    config.players = args["players"].as<int>();
    config.trades = args["trades"].as<uint64_t>();
    config.crash_after = args["crash-after"].as<uint64_t>();
    config.traders = args["traders"].as<int>();
    config.seed = args["seed"].as<uint64_t>();
    config.keep_running = args.count("keep-running") > 0;
    *child = args.count("child-trade-phase") > 0;
    if (config.db.empty()) throw cxxopts::exceptions::exception("--db must not be empty");
    if (config.players < 2 || config.players > 100'000) {
      throw cxxopts::exceptions::exception("--players must be between 2 and 100000");
    }
    if (config.traders < 1 || config.traders > 64) {
      throw cxxopts::exceptions::exception("--traders must be between 1 and 64");
    }
    // Up to 5 trades per player keep every trade of the crashed process in the players'
    // version histories (50 versions each), where the audit after the crash finds them.
    if (config.crash_after < 1 || config.crash_after > 5 * static_cast<uint64_t>(config.players)) {
      throw cxxopts::exceptions::exception("--crash-after must be between 1 and 5 x --players");
    }
    return std::nullopt;
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "holdfast-demo: %s (see --help)\n", e.what());
    return kExitUsage;
  }
}

}  // namespace holdfast_demo
