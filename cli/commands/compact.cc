// `holdfast compact`: rewrites the database's files, dropping deleted and overwritten records.
#include <ostream>

#include "database_command.h"
#include "holdfast/admin.h"
#include "text_output.h"

namespace holdfast::cli {
namespace compact_command {

constexpr char kHelp[] =
    R"(Rewrite the database's files in full, dropping deleted and overwritten records (pruned
versions, old saves). Changes no record; may take a while on a large database.)";

Status Compact(AdminService& admin, const Invocation& call) {
  if (Status s = admin.Compact(); !s.ok()) return s;
  call.io.out << "compacted " << Printable(call.path) << "\n";
  return Status::Ok();
}

}  // namespace compact_command

std::unique_ptr<Command> MakeCompactCommand() {
  using namespace compact_command;
  return MakeDatabaseCommand({.name = "compact",
                              .summary = "reclaim space from old records",
                              .description = kHelp,
                              .writes = true,
                              .run = Compact});
}

}  // namespace holdfast::cli
