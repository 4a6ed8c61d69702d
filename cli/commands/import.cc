// `holdfast import <store> --in FILE --yes [--through-lock]`: writes the profiles of an export
// file (export_format.h) into a store, all or nothing, on a stopped database.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <ostream>

#include "database_command.h"
#include "export_format.h"
#include "holdfast/admin.h"
#include "json_output.h"
#include "progress.h"

namespace holdfast::cli {
namespace import_command {

constexpr char kHelp[] =
    R"(Write the profiles of an export file (holdfast export) into a store, registering the store
as the file says when the database does not have it (an empty database takes the whole file).
The whole file is read and checked first — its format, each line, no key twice, the
registration against the database's, every payload against the store's codec and schema — and
then everything is written in one transaction: on any error nothing is changed, and the error
names the line (or the profile) at fault. Each profile's data becomes its next version (reason
'admin', a new epoch, the lock left free), with the file's user ids and metadata; a profile that
does not exist is created. A profile whose lock is held (left by a server that crashed) refuses
the import unless --through-lock is given, which takes the lock over under a new epoch. The
database must not be open in a running server: stop it first (the admin socket does not carry
imports).)";

void AddImportOptions(cxxopts::Options& options) {
  options.add_options()("in", "the export file to read ('-': stdin)",
                        cxxopts::value<std::string>(), "FILE");
  options.add_options()("through-lock",
                        "import profiles whose lock is held too, taking it over under a new epoch");
}

std::string CheckImport(const cxxopts::ParseResult& args) {
  return args.count("in") ? "" : "missing --in FILE";
}

// Reads and checks the file, with a bar of the bytes read on a terminal.
Result<ExportFile> ReadFile(const std::string& path, const Invocation& call) {
  const bool bar = ProgressBar::Wanted(call.json, call.io.err);
  std::error_code error;
  const uint64_t size = path == "-" ? 0 : std::filesystem::file_size(path, error);
  ProgressBar progress(call.io.err, "import: checking " + path, error ? 0 : size, "bytes", bar);
  const auto report = [&](uint64_t bytes) { progress.Set(bytes); };
  if (path == "-") return ReadExportFile(std::cin, report);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read --in '" + path + "'; nothing was imported");
  auto file = ReadExportFile(in, report);
  if (!file.ok()) return file.status().WithContext(path);
  return file;
}

Status Import(AdminService& service, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  // The file is checked before anything else, so a bad one is reported whatever the database.
  auto file = ReadFile(call.args["in"].as<std::string>(), call);
  if (!file.ok()) return file.status();
  auto* admin = dynamic_cast<Admin*>(&service);
  if (admin == nullptr) {
    return Status::Busy(
        "the database is open in a running server (its admin socket answered): an import is one "
        "transaction in the process that holds the database, so stop the server and run the "
        "import again; nothing was imported");
  }
  ImportOptions options;
  options.through_lock = call.args.count("through-lock") > 0;
  auto summary = admin->Import(store, file->registration, file->profiles, options);
  if (!summary.ok()) return summary.status();
  call.io.out << "imported " << file->profiles.size() << " profile(s) into " << store << ": "
              << summary->created << " created, " << summary->replaced << " replaced\n";
  return Status::Ok();
}

}  // namespace import_command

std::unique_ptr<Command> MakeImportCommand() {
  using namespace import_command;
  return MakeDatabaseCommand({.name = "import",
                              .summary = "write an export file's profiles into a store",
                              .description = kHelp,
                              .writes = true,
                              .destructive = true,
                              .positionals = {{"store", "the store"}},
                              .options = AddImportOptions,
                              .check = CheckImport,
                              .run = Import});
}

}  // namespace holdfast::cli
