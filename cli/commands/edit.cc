// `holdfast edit <store> <key> (--data JSON | --file F) --yes`: writes new data for a profile
// through the session lock, as a new version with reason `admin`.
#include <ostream>

#include "database_command.h"
#include "payload_input.h"
#include "text_output.h"

namespace holdfast::cli {
namespace edit_command {

constexpr char kHelp[] =
    R"(Write new data for a profile, as a new version with reason 'admin'. On a running server
(through its admin socket) a live session of the profile is ended first with its final save,
and the profile's epoch is bumped, so that session can never write again; the profile is left
free. A JSON store takes a JSON document (checked, and stored as the store writes it); other
stores take the bytes as given. The store's own check (its codec and validate, on a server that
opened the store) judges the data first: a refusal changes nothing. An edit never creates a
profile.)";

void AddEditOptions(cxxopts::Options& options) { AddPayloadOptions(options, "the new data"); }

Status Edit(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto bytes = ReadPayload(call.args);
  if (!bytes.ok()) return bytes.status();
  // The store's codec, and a profile that does not exist fails here, before anything is sent.
  auto current = admin.Inspect(store, key);
  if (!current.ok()) return current.status();
  auto payload = PayloadForCodec(current->codec, std::move(*bytes));
  if (!payload.ok()) return payload.status();
  auto written = admin.Edit(store, key, *payload);
  if (!written.ok()) return written.status();
  call.io.out << "edited " << store << "/" << Printable(key) << ": written as version "
              << *written << "\n";
  return Status::Ok();
}

}  // namespace edit_command

std::unique_ptr<Command> MakeEditCommand() {
  using namespace edit_command;
  return MakeDatabaseCommand({.name = "edit",
                              .summary = "write new data for a profile (through the session lock)",
                              .description = kHelp,
                              .writes = true,
                              .destructive = true,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddEditOptions,
                              .check = CheckPayloadOptions,
                              .run = Edit});
}

}  // namespace holdfast::cli
