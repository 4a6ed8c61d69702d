// `holdfast checkpoint <dir>`: a consistent copy of the database that opens as a database.
#include <filesystem>
#include <ostream>

#include "database_command.h"
#include "holdfast/admin.h"
#include "json_output.h"
#include "text_output.h"

namespace holdfast::cli {
namespace checkpoint_command {

constexpr char kHelp[] =
    R"(Write a consistent copy of the database into <dir>, which must not exist; the copy opens
as a Holdfast database (--db <dir>). Files are hard-linked when <dir> is on the same file
system, so a checkpoint is fast and small until the database moves on.)";

Status WriteCheckpoint(AdminService& admin, const Invocation& call) {
  // RocksDB wants an absolute path for the checkpoint.
  std::error_code error;
  const std::string dir =
      std::filesystem::absolute(call.args["dir"].as<std::string>(), error).lexically_normal();
  if (error) return Status::InvalidArgument("bad directory: " + error.message());
  if (std::filesystem::exists(dir, error)) {
    return Status::InvalidArgument("'" + dir + "' already exists; nothing was written");
  }
  if (Status s = admin.Checkpoint(dir); !s.ok()) return s;
  if (call.json) {
    PrintJson(call.io.out, {{"checkpoint", dir}});
  } else {
    call.io.out << "checkpoint written to " << Printable(dir) << "\n";
  }
  return Status::Ok();
}

}  // namespace checkpoint_command

std::unique_ptr<Command> MakeCheckpointCommand() {
  using namespace checkpoint_command;
  return MakeDatabaseCommand({.name = "checkpoint",
                              .summary = "write a consistent copy of the database",
                              .description = kHelp,
                              .positionals = {{"dir", "where to write the copy (must not exist)"}},
                              .run = WriteCheckpoint});
}

}  // namespace holdfast::cli
