// The admin CLI's command interface. One command per file in commands/, registered in the
// name -> factory table of command.cc. Each command parses its own arguments (cxxopts has no
// subcommands), writes data to stdout and errors to stderr, and returns an exit code:
// 0 success, 1 error, 2 usage.
#ifndef HOLDFAST_CLI_COMMAND_H_
#define HOLDFAST_CLI_COMMAND_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string_view Name() const = 0;
  // One line for the command list.
  virtual std::string_view Summary() const = 0;
  // Whether the command can change the database (destructive ones also demand --yes).
  virtual bool Writes() const = 0;
  // `args` excludes the program and command names.
  virtual int Run(const std::vector<std::string>& args, CommandIo io) = 0;
};

struct CommandEntry {
  std::string_view name;
  std::function<std::unique_ptr<Command>()> make;
};

// Every command, in the order `holdfast --help` lists them.
const std::vector<CommandEntry>& Commands();

// Entry point shared by main() and the CLI tests.
int RunCli(const std::vector<std::string>& argv, CommandIo io);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_COMMAND_H_
