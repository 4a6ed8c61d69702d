// `holdfast rollback <store> <key> (--to V | --as-of TIME) --yes`: makes an older version the
// profile's data again, as a new version whose reason is `rollback`.
#include <ostream>

#include "database_command.h"
#include "holdfast/admin.h"
#include "text_output.h"
#include "time_format.h"

namespace holdfast::cli {
namespace rollback_command {

constexpr char kHelp[] =
    R"(Make an older version (--to V, or the newest written at or before --as-of T) the profile's
data again. The old payload is written as a new version with reason 'rollback'; nothing is
deleted, so a rollback can itself be rolled back. The profile's epoch is bumped: a lock left by
a server that is gone can never write again. Times T:)";

void AddRollbackOptions(cxxopts::Options& options) {
  options.add_options()("to", "the version to restore", cxxopts::value<uint64_t>(), "V");
  options.add_options()("as-of", "restore the newest version written at or before T",
                        cxxopts::value<std::string>(), "T");
}

std::string CheckTarget(const cxxopts::ParseResult& args) {
  if (args.count("to") == args.count("as-of")) return "give exactly one of --to V and --as-of T";
  if (args.count("as-of") && !ParseTime(args["as-of"].as<std::string>())) {
    return "--as-of '" + args["as-of"].as<std::string>() + "' is not a time: use " +
           std::string(kTimeForms);
  }
  return "";
}

Status RollBack(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto written =
      call.args.count("to")
          ? admin.Rollback(store, key, call.args["to"].as<uint64_t>())
          : admin.RollbackTo(store, key, *ParseTime(call.args["as-of"].as<std::string>()));
  if (!written.ok()) return written.status();
  // The version restored, as the new version records it (--as-of chose it).
  auto now = admin.Inspect(store, key, *written);
  if (!now.ok()) return now.status().WithContext("reading the rollback back");
  call.io.out << "rolled back " << store << "/" << Printable(key) << " to version "
              << now->view.version.source_version << ": written as version " << *written << "\n";
  return Status::Ok();
}

}  // namespace rollback_command

std::unique_ptr<Command> MakeRollbackCommand() {
  using namespace rollback_command;
  return MakeDatabaseCommand({.name = "rollback",
                              .summary = "make an older version a profile's data again",
                              .description = std::string(kHelp) + " " + std::string(kTimeForms),
                              .writes = true,
                              .destructive = true,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddRollbackOptions,
                              .check = CheckTarget,
                              .run = RollBack});
}

}  // namespace holdfast::cli
