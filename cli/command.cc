#include "command.h"

#include <algorithm>
#include <ostream>

#include "time_format.h"

namespace holdfast::cli {

std::unique_ptr<Command> MakeStoresCommand();
std::unique_ptr<Command> MakeListCommand();
std::unique_ptr<Command> MakeShowCommand();
std::unique_ptr<Command> MakeVersionsCommand();
std::unique_ptr<Command> MakeDiffCommand();
std::unique_ptr<Command> MakeSessionsCommand();
std::unique_ptr<Command> MakeFindUserCommand();
std::unique_ptr<Command> MakeRollbackCommand();
std::unique_ptr<Command> MakeEditCommand();
std::unique_ptr<Command> MakeReleaseCommand();
std::unique_ptr<Command> MakeMessageCommand();
std::unique_ptr<Command> MakeEraseCommand();
std::unique_ptr<Command> MakeVerifyCommand();
std::unique_ptr<Command> MakeStatsCommand();
std::unique_ptr<Command> MakeCheckpointCommand();
std::unique_ptr<Command> MakeCompactCommand();
std::unique_ptr<Command> MakeExportCommand();
std::unique_ptr<Command> MakeImportCommand();
std::unique_ptr<Command> MakeVersionCommand();

const std::vector<CommandEntry>& Commands() {
  static const std::vector<CommandEntry> kCommands = {
      {"stores", MakeStoresCommand},     {"list", MakeListCommand},
      {"show", MakeShowCommand},         {"versions", MakeVersionsCommand},
      {"diff", MakeDiffCommand},
      {"sessions", MakeSessionsCommand}, {"find-user", MakeFindUserCommand},
      {"rollback", MakeRollbackCommand}, {"edit", MakeEditCommand},
      {"release", MakeReleaseCommand},   {"message", MakeMessageCommand},
      {"erase", MakeEraseCommand},       {"verify", MakeVerifyCommand},
      {"export", MakeExportCommand},     {"import", MakeImportCommand},
      {"stats", MakeStatsCommand},       {"checkpoint", MakeCheckpointCommand},
      {"compact", MakeCompactCommand},   {"version", MakeVersionCommand},
  };
  return kCommands;
}

namespace {

// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The command a mistyped `name` most likely meant: the closest within two edits (or a third of
// its length), else the only command it is a prefix of; "" when none is close.
std::string_view NearestCommand(std::string_view name) {
  std::string_view best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  std::string_view prefix_of;
  int prefix_matches = 0;
  for (const auto& entry : Commands()) {
    const size_t distance = EditDistance(name, entry.name);
    if (distance < best_distance) {
      best_distance = distance;
      best = entry.name;
    }
    if (!name.empty() && entry.name.starts_with(name)) {
      prefix_of = entry.name;
      ++prefix_matches;
    }
  }
  if (!best.empty()) return best;
  return prefix_matches == 1 ? prefix_of : std::string_view();
}

void PrintUsage(std::ostream& os) {
  os << "Usage: holdfast <command> [options]\n"
        "       holdfast <command> --help\n\n"
        "Holdfast admin tool. Data goes to stdout, errors to stderr.\n"
        "Exit codes: 0 success, 1 error, 2 usage.\n"
        "Commands on a database take --db PATH (default $HOLDFAST_DB) and never create one;\n"
        "those that only read also take --json. Times are "
     << kTimeForms << ".\n\nCommands:\n";
  for (const auto& entry : Commands()) {
    auto cmd = entry.make();
    os << "  " << entry.name;
    for (size_t i = entry.name.size(); i < 12; ++i) os << ' ';
    os << cmd->Summary() << (cmd->Writes() ? " (writes)" : "") << "\n";
  }
}

}  // namespace

int RunCli(const std::vector<std::string>& argv, CommandIo io) {
  if (argv.size() < 2) {
    PrintUsage(io.err);
    return kExitUsage;
  }
  const std::string& name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(io.out);
    return kExitOk;
  }
  for (const auto& entry : Commands()) {
    if (entry.name == name) {
      std::vector<std::string> rest(argv.begin() + 2, argv.end());
      return entry.make()->Run(rest, io);
    }
  }
  io.err << "holdfast: unknown command '" << name << "'";
  if (std::string_view nearest = NearestCommand(name); !nearest.empty()) {
    io.err << "; did you mean '" << nearest << "'?";
  }
  io.err << "\n\n";
  PrintUsage(io.err);
  return kExitUsage;
}

}  // namespace holdfast::cli
