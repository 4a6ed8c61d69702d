#include "database_command.h"

#include <cstdlib>
#include <ostream>
#include <utility>

#include "args.h"
#include "holdfast/admin_client.h"

namespace holdfast::cli {
namespace {

class DatabaseCommand final : public Command {
 public:
  explicit DatabaseCommand(CommandSpec spec) : spec_(std::move(spec)) {}

  std::string_view Name() const override { return spec_.name; }
  std::string_view Summary() const override { return spec_.summary; }
  bool Writes() const override { return spec_.writes; }
  int Run(const std::vector<std::string>& args, CommandIo io) override;

 private:
  cxxopts::Options MakeOptions() const;
  int Usage(CommandIo io, std::string_view problem) const {
    io.err << "holdfast " << Name() << ": " << problem << " (see --help)\n";
    return kExitUsage;
  }
  int Fail(CommandIo io, const Status& status) const {
    io.err << "holdfast " << Name() << ": " << status << "\n";
    return kExitError;
  }
  int Finish(CommandIo io, const Status& result) const {
    return result.ok() ? kExitOk : Fail(io, result);
  }

  const CommandSpec spec_;
};

cxxopts::Options DatabaseCommand::MakeOptions() const {
  cxxopts::Options options("holdfast " + std::string(Name()),
                           spec_.description.empty() ? std::string(Summary()) : spec_.description);
  options.add_options()("db", "the database directory (default: $HOLDFAST_DB)",
                        cxxopts::value<std::string>(), "PATH");
  if (!spec_.writes) options.add_options()("json", "print JSON");
  if (spec_.destructive) options.add_options()("yes", "confirm the change");
  if (spec_.options) spec_.options(options);
  std::vector<std::string> names;
  std::string usage;
  for (const Positional& positional : spec_.positionals) {
    options.add_options(std::string(kPositionalGroup))(positional.name, positional.help,
                                                       cxxopts::value<std::string>());
    names.push_back(positional.name);
    if (!usage.empty()) usage += ' ';
    usage += positional.required ? "<" + positional.name + ">" : "[<" + positional.name + ">]";
  }
  options.parse_positional(names);
  options.custom_help("[options]");
  options.positional_help(usage);
  return options;
}

int DatabaseCommand::Run(const std::vector<std::string>& args, CommandIo io) {
  cxxopts::Options options = MakeOptions();
  int exit_code = kExitOk;
  auto parsed = ParseCommandArgs(options, args, io, &exit_code);
  if (!parsed) return exit_code;
  for (const Positional& positional : spec_.positionals) {
    if (positional.required && !parsed->count(positional.name)) {
      return Usage(io, "missing <" + positional.name + ">");
    }
  }
  if (spec_.check) {
    if (std::string problem = spec_.check(*parsed); !problem.empty()) return Usage(io, problem);
  }
  if (spec_.destructive && !parsed->count("yes")) {
    io.err << "holdfast " << Name()
           << ": refusing to change the database without --yes; nothing was changed\n";
    return kExitUsage;
  }

  std::string path;
  if (parsed->count("db")) {
    path = (*parsed)["db"].as<std::string>();
  } else if (const char* from_env = std::getenv("HOLDFAST_DB")) {
    path = from_env;
  }
  if (path.empty()) return Usage(io, "no database given: pass --db PATH or set HOLDFAST_DB");

  const Invocation call{*parsed, parsed->count("json") > 0, io, path};

  // A running engine's admin socket first: the command runs there.
  auto client = AdminClient::Connect(path);
  if (client.ok()) return Finish(io, spec_.run(**client, call));
  if (client.status().code() != StatusCode::kNotFound) return Fail(io, client.status());

  // An admin command never creates a database; one worker is plenty.
  EngineOptions engine_options;
  engine_options.create_if_missing = false;
  engine_options.worker_threads = 1;
  engine_options.admin_socket = false;  // a CLI run serves nobody
  auto engine = Engine::Open(path, engine_options);
  if (!engine.ok() && engine.status().message().find("is already open") != std::string::npos) {
    // Held by a process whose admin socket does not answer (off, or not this build's).
    if (spec_.writes) {
      Fail(io, engine.status());
      io.err << "holdfast " << Name()
             << ": the database is held by a running process and no admin socket answers ("
             << client.status().message()
             << "); nothing was changed. Run the server with EngineOptions::admin_socket on "
                "(the default) or stop it first\n";
      return kExitError;
    }
    engine_options.read_only = true;
    engine = Engine::Open(path, engine_options);
    if (engine.ok()) {
      io.err << "holdfast " << Name()
             << ": the database is held by a running process and no admin socket answers; "
                "reading it read-only, as of now (what live sessions have not saved is not "
                "in it)\n";
    }
  }
  if (!engine.ok()) return Fail(io, engine.status());
  Admin admin(**engine);
  Status result = spec_.run(admin, call);
  Status closed = (*engine)->Close();
  if (result.ok() && !closed.ok()) result = closed.WithContext("closing the database");
  return Finish(io, result);
}

}  // namespace

std::unique_ptr<Command> MakeDatabaseCommand(CommandSpec spec) {
  return std::make_unique<DatabaseCommand>(std::move(spec));
}

}  // namespace holdfast::cli
