// `holdfast erase <store> <key> --yes` and `holdfast erase --user ID --yes`: erases profiles for
// good (a GDPR request, a banned cheater).
#include <optional>
#include <ostream>
#include <string>

#include "database_command.h"
#include "fields.h"
#include "text_output.h"

namespace holdfast::cli {
namespace erase_command {

constexpr char kHelp[] =
    R"(Erase a profile for good — its data, every version, every waiting message, its lock and
user ids — or, with --user ID, every profile that carries the user id. The bytes are compacted
away, so they are in no file of the database afterwards (checkpoints and backups taken before
keep them). On a running server a live session of the profile is fenced without a final save.
To pass a negative id: --user=-5.)";

void AddEraseOptions(cxxopts::Options& options) {
  options.add_options()("user", "erase every profile that carries this user id",
                        cxxopts::value<std::string>(), "ID");
}

std::string CheckTarget(const cxxopts::ParseResult& args) {
  const bool profile = args.count("store") > 0;
  if (profile == (args.count("user") > 0)) {
    return "give either <store> <key> or --user ID";
  }
  if (profile && !args.count("key")) return "missing <key>";
  if (!profile && !ParseUserId(args["user"].as<std::string>())) {
    return "--user '" + args["user"].as<std::string>() + "' is not a 64-bit integer";
  }
  return "";
}

Status Erase(AdminService& admin, const Invocation& call) {
  if (call.args.count("user")) {
    const int64_t id = *ParseUserId(call.args["user"].as<std::string>());
    auto erased = admin.EraseUser(id);
    if (!erased.ok()) return erased.status();
    call.io.out << "erased " << erased->size() << " profile(s) of user " << id << ":";
    for (const ProfileLocation& at : *erased) {
      call.io.out << " " << at.store << "/" << Printable(at.key);
    }
    call.io.out << "\n";
    return Status::Ok();
  }
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  if (Status s = admin.Erase(store, key); !s.ok()) return s;
  call.io.out << "erased " << store << "/" << Printable(key) << "\n";
  return Status::Ok();
}

}  // namespace erase_command

std::unique_ptr<Command> MakeEraseCommand() {
  using namespace erase_command;
  return MakeDatabaseCommand(
      {.name = "erase",
       .summary = "erase a profile, or every profile of a user id, for good",
       .description = kHelp,
       .writes = true,
       .destructive = true,
       .positionals = {{"store", "the store", false}, {"key", "the profile key", false}},
       .options = AddEraseOptions,
       .check = CheckTarget,
       .run = Erase});
}

}  // namespace holdfast::cli
