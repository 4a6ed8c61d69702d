// `holdfast export <store> --out FILE`: every profile of a store as JSON lines
// (export_format.h), with the store's registration first, for `holdfast import`.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <ostream>

#include "database_command.h"
#include "export_format.h"
#include "holdfast/admin.h"
#include "json_output.h"
#include "progress.h"
#include "text_output.h"

namespace holdfast::cli {
namespace export_command {

constexpr char kHelp[] =
    R"(Write every profile of a store to FILE as JSON lines: first the store's registration (its
codec and, for a flatbuffers store, its schema), so the file imports into an empty database;
then one line per profile with its key, current data (a JSON store's document as JSON; base64
for every other codec), schema version, user ids and metadata; last, the profile count.
History, locks and waiting messages are not exported. On a running server (through its admin
socket) each profile is read as last saved, one at a time: not a snapshot of the whole store.
FILE must not exist yet ('-' writes to stdout).)";

constexpr size_t kPage = 500;

void AddExportOptions(cxxopts::Options& options) {
  options.add_options()("out", "the file to write ('-': stdout)", cxxopts::value<std::string>(),
                        "FILE");
}

std::string CheckExport(const cxxopts::ParseResult& args) {
  return args.count("out") ? "" : "missing --out FILE";
}

// The profile count of `store` for a progress bar (0: unknown).
uint64_t ProfileCount(AdminService& admin, const std::string& store) {
  auto stores = admin.Stores();
  if (!stores.ok()) return 0;
  for (const StoreSummary& summary : *stores) {
    if (summary.name == store) return summary.profiles;
  }
  return 0;
}

// Writes the store's lines to `out`; returns how many profiles.
Result<uint64_t> WriteExport(AdminService& admin, const std::string& store, std::ostream& out,
                             ProgressBar& progress) {
  auto registration = admin.Registration(store);
  if (!registration.ok()) return registration.status();
  out << ExportHeaderLine(*registration) << '\n';
  uint64_t written = 0;
  ProfileQuery query;
  query.limit = kPage;
  for (bool more = true; more;) {
    auto page = admin.Profiles(store, query);
    if (!page.ok()) return page.status();
    for (const ProfileSummary& summary : page->profiles) {
      auto details = admin.Inspect(store, summary.key);
      // Erased since it was listed: not part of the store any more.
      if (details.status().code() == StatusCode::kNotFound) continue;
      if (!details.ok()) {
        return details.status().WithContext("profile '" + Printable(summary.key) +
                                            "' (`holdfast verify` lists what is damaged)");
      }
      const ImportedProfile profile{summary.key, std::move(details->view.payload),
                                    details->view.version.schema_version,
                                    std::move(details->view.user_ids),
                                    std::move(details->view.metadata)};
      auto line = ExportProfileLine(registration->codec, profile);
      if (!line.ok()) return line.status();
      out << *line << '\n';
      progress.Set(++written);
    }
    more = page->more;
    if (!page->profiles.empty()) query.after_key = page->profiles.back().key;
  }
  out << ExportTrailerLine(written) << '\n';
  if (!out) return Status::IOError("writing the export failed");
  return written;
}

Status Export(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string path = call.args["out"].as<std::string>();
  // Only for a person at a terminal: counting the profiles is a scan of its own.
  const bool bar = ProgressBar::Wanted(call.json, call.io.err);
  ProgressBar progress(call.io.err, "export " + store, bar ? ProfileCount(admin, store) : 0,
                       "profiles", bar);
  if (path == "-") return WriteExport(admin, store, call.io.out, progress).status();
  std::error_code error;
  if (std::filesystem::exists(path, error) || error) {
    return Status::InvalidArgument("--out '" + path + "' already exists; nothing was written");
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return Status::InvalidArgument("cannot create --out '" + path + "'");
  auto written = WriteExport(admin, store, file, progress);
  progress.Done();
  file.close();
  if (written.ok() && !file) written = Status::IOError("writing '" + path + "' failed");
  if (!written.ok()) {
    std::filesystem::remove(path, error);  // never leave half an export behind
    return written.status();
  }
  if (call.json) {
    PrintJson(call.io.out, {{"store", store}, {"profiles", *written}, {"out", path}});
  } else {
    call.io.out << "exported " << *written << " profile(s) of " << store << " to " << path << "\n";
  }
  return Status::Ok();
}

}  // namespace export_command

std::unique_ptr<Command> MakeExportCommand() {
  using namespace export_command;
  return MakeDatabaseCommand({.name = "export",
                              .summary = "write a store's profiles to a file (JSON lines)",
                              .description = kHelp,
                              .positionals = {{"store", "the store"}},
                              .options = AddExportOptions,
                              .check = CheckExport,
                              .run = Export});
}

}  // namespace holdfast::cli
