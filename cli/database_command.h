// Commands that work on a database, each declared as data (a CommandSpec) in its own file under
// commands/. The frame that runs them does the shared part the same way for all:
//   --help; --db PATH (default $HOLDFAST_DB; neither is a usage error); --json for commands that
//   do not write; --yes for destructive ones, refused without it before the database is opened
//   (exit 2, nothing changed); positional arguments, present when required; reaching the
//   database (below); a command's failure on stderr as "holdfast <command>: <status>" with
//   exit 1.
// Reaching the database, in this order:
//   1. a running engine's admin socket (<db>/holdfast.sock): the command runs there, as Admin
//      calls of that engine (AdminClient), so writes go through its session lock;
//   2. opening it, never creating it (a path that holds no Holdfast database is an error);
//   3. a database another process holds whose admin socket does not answer: a command that
//      only reads opens it read-only (EngineOptions::read_only) and says so on stderr; one that
//      writes fails, saying why, and changes nothing.
#ifndef HOLDFAST_CLI_DATABASE_COMMAND_H_
#define HOLDFAST_CLI_DATABASE_COMMAND_H_

#include <cxxopts.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "holdfast/admin.h"
#include "holdfast/engine.h"
#include "holdfast/status.h"

namespace holdfast::cli {

// A positional argument: shown as <name> (or [<name>] when optional), read as args[name].
struct Positional {
  std::string name;
  std::string help;
  bool required = true;
};

// One run of a command: its parsed arguments, --json, where its output goes, and the database
// path as given.
struct Invocation {
  const cxxopts::ParseResult& args;
  bool json = false;
  CommandIo io;
  std::string path;
};

struct CommandSpec {
  std::string_view name;
  std::string_view summary;
  std::string description = {};  // the help text; the summary when empty
  bool writes = false;
  bool destructive = false;                  // demands --yes
  std::vector<Positional> positionals = {};  // in order, required ones first
  // Adds the command's own options (--db, --json, --yes and --help are added for it). Optional.
  std::function<void(cxxopts::Options&)> options = nullptr;
  // Checks the arguments before the database is opened: "" when fine, else the usage error.
  // Optional.
  std::function<std::string(const cxxopts::ParseResult&)> check = nullptr;
  // Runs on the database — an engine opened here (Admin) or a running one's admin socket
  // (AdminClient) — and prints its data on `call.io.out`. Not OK: the frame prints the status
  // and exits 1 (after anything the command printed).
  std::function<Status(AdminService& admin, const Invocation& call)> run = nullptr;
};

std::unique_ptr<Command> MakeDatabaseCommand(CommandSpec spec);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_DATABASE_COMMAND_H_
