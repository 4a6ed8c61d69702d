#include "command.h"

#include <ostream>

namespace holdfast::cli {

std::unique_ptr<Command> MakeVersionCommand();

const std::vector<CommandEntry>& Commands() {
  static const std::vector<CommandEntry> kCommands = {
      {"version", MakeVersionCommand},
  };
  return kCommands;
}

namespace {

void PrintUsage(std::ostream& os) {
  os << "Usage: holdfast <command> [options]\n"
        "       holdfast <command> --help\n\n"
        "Holdfast admin tool. Data goes to stdout, errors to stderr.\n"
        "Exit codes: 0 success, 1 error, 2 usage.\n\nCommands:\n";
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
  io.err << "holdfast: unknown command '" << name << "'\n\n";
  PrintUsage(io.err);
  return kExitUsage;
}

}  // namespace holdfast::cli
