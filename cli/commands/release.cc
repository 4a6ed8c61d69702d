// `holdfast release <store> <key> --yes`: ends whoever holds a profile, leaving it free.
#include <ostream>

#include "database_command.h"
#include "text_output.h"

namespace holdfast::cli {
namespace release_command {

constexpr char kHelp[] =
    R"(End the session that holds a profile, leaving it free. On a running server (through its
admin socket) a live session makes its final save first (its data becomes a version; the
game hears EndReason::kAdmin). A lock left by a server that is gone — or by a session whose
final save does not come within the store's handoff timeout — is cleared under a new epoch,
so its holder can never write again. Exit 1 when nothing holds the profile.)";

Status Release(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto released = admin.Release(store, key);
  if (!released.ok()) return released.status();
  call.io.out << "released " << store << "/" << Printable(key) << ": "
              << (*released == ReleaseOutcome::kEnded
                      ? "its live session made its final save and ended"
                      : "cleared the lock its holder left (a new epoch: it can never write again)")
              << "\n";
  return Status::Ok();
}

}  // namespace release_command

std::unique_ptr<Command> MakeReleaseCommand() {
  using namespace release_command;
  return MakeDatabaseCommand({.name = "release",
                              .summary = "end the session that holds a profile",
                              .description = kHelp,
                              .writes = true,
                              .destructive = true,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .run = Release});
}

}  // namespace holdfast::cli
