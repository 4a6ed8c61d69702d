// `holdfast sessions [<store>]`: the profiles whose lock is held, and by whom.
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "text_output.h"

namespace holdfast::cli {
namespace sessions_command {

constexpr char kHelp[] =
    R"(List the profiles whose lock is held: the owner, epoch and since when. Opened offline,
every lock was left by a server that is gone (orphaned); the next start of the profile takes it
over at once.)";

Status ListLocks(AdminService& admin, const Invocation& call) {
  const std::string store = call.args.count("store") ? call.args["store"].as<std::string>() : "";
  auto locks = admin.Locks(store);
  if (!locks.ok()) return locks.status();
  if (call.json) {
    PrintJson(call.io.out, JsonArray(*locks, LockJson));
    return Status::Ok();
  }
  Table table({"STORE", "KEY", "EPOCH", "OWNER", "SINCE", "STATE"});
  for (const HeldLock& lock : *locks) {
    table.Add({lock.store, Printable(lock.key), std::to_string(lock.holder.epoch),
               Printable(lock.holder.owner), TimeText(lock.holder.since_unix_ms),
               lock.orphaned ? "orphaned" : "live"});
  }
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace sessions_command

std::unique_ptr<Command> MakeSessionsCommand() {
  using namespace sessions_command;
  return MakeDatabaseCommand({.name = "sessions",
                              .summary = "list held locks (sessions)",
                              .description = kHelp,
                              .positionals = {{"store", "only this store", /*required=*/false}},
                              .run = ListLocks});
}

}  // namespace holdfast::cli
