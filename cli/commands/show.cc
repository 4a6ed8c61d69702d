// `holdfast show <store> <key>`: one profile — its data (or one version's), lock, load count,
// user ids and metadata.
#include <optional>
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "payload_render.h"
#include "text_output.h"

namespace holdfast::cli {
namespace show_command {

constexpr char kHelp[] =
    R"(Show a profile: its current data (or one version's with --version), the lock, load count,
user ids and metadata. The data of a JSON store is shown as its document; of a flatbuffers store
as JSON rendered through the schema registered with the store; of other stores (and data the
codec or schema refuses) as hex.)";

void AddShowOptions(cxxopts::Options& options) {
  options.add_options()("version", "show this version instead of the current data",
                        cxxopts::value<uint64_t>(), "V");
}

Json DetailsJson(std::string_view store, std::string_view key, const ProfileDetails& details,
                 const RenderedPayload& data) {
  const RawProfileView& view = details.view;
  Json object = {{"store", store}};
  AddKey(object, key);
  object["version"] = view.version.version;
  object["time"] = TimeJson(view.version.written_unix_ms);
  object["reason"] = VersionReasonName(view.version.reason);
  object["epoch"] = view.version.epoch;
  object["source_version"] = view.version.source_version;
  object["schema_version"] = view.version.schema_version;
  object["codec"] = details.codec;
  object["data_format"] = data.format;
  object["data"] = data.json;
  if (!data.note.empty()) object["data_note"] = data.note;
  object["payload_bytes"] = view.version.payload_bytes;
  object["lock"] = details.lock ? LockJson(*details.lock) : Json();
  object["load_count"] = view.load_count;
  object["user_ids"] = view.user_ids;
  Json metadata = Json::object();
  for (const auto& [name, value] : view.metadata) metadata[name] = value;
  object["metadata"] = std::move(metadata);
  object["created"] = TimeJson(details.created_unix_ms);
  object["updated"] = TimeJson(details.updated_unix_ms);
  object["first_session"] = TimeJson(details.first_session_unix_ms);
  object["last_version"] = details.last_version;
  return object;
}

void PrintDetails(std::ostream& out, std::string_view store, std::string_view key,
                  const ProfileDetails& details, const RenderedPayload& data) {
  const RawProfileView& view = details.view;
  std::string user_ids;
  for (int64_t id : view.user_ids) user_ids += (user_ids.empty() ? "" : ", ") + std::to_string(id);
  Table table({"store", std::string(store)});
  table.Add({"key", Printable(key)});
  table.Add({"version", std::to_string(view.version.version) + " (" +
                            std::string(VersionReasonName(view.version.reason)) + ", " +
                            TimeText(view.version.written_unix_ms) + ", epoch " +
                            std::to_string(view.version.epoch) + ")"});
  if (view.version.source_version != 0) {
    table.Add({"copied from", "version " + std::to_string(view.version.source_version)});
  }
  table.Add({"lock", details.lock ? LockText(*details.lock) : "free"});
  table.Add({"load count", std::to_string(view.load_count)});
  table.Add({"user ids", user_ids.empty() ? "-" : user_ids});
  for (const auto& [name, value] : view.metadata) {
    table.Add({"metadata", Printable(name) + " = " + Printable(value)});
  }
  table.Add({"created", TimeText(details.created_unix_ms)});
  table.Add({"updated", TimeText(details.updated_unix_ms)});
  table.Add({"first session", TimeText(details.first_session_unix_ms)});
  table.Add({"last version", std::to_string(details.last_version)});
  table.Add({"data", data.format + ", " + std::to_string(view.payload.size()) + " bytes, codec " +
                         details.codec});
  table.Print(out);
  if (!data.note.empty()) out << "(" << data.note << ")\n";
  out << data.text;
}

Status ShowProfile(AdminService& admin, const Invocation& call) {
  std::optional<uint64_t> version;
  if (call.args.count("version")) version = call.args["version"].as<uint64_t>();
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto details = admin.Inspect(store, key, version);
  if (!details.ok()) return details.status();
  // The schema a flatbuffers store registered: what its payloads are rendered through.
  auto registration = admin.Registration(store);
  if (!registration.ok()) return registration.status();
  const RenderedPayload data =
      RenderPayload(details->codec, registration->schema, details->view.payload);
  if (call.json) {
    PrintJson(call.io.out, DetailsJson(store, key, *details, data));
  } else {
    PrintDetails(call.io.out, store, key, *details, data);
  }
  return Status::Ok();
}

}  // namespace show_command

std::unique_ptr<Command> MakeShowCommand() {
  using namespace show_command;
  return MakeDatabaseCommand({.name = "show",
                              .summary = "show a profile's data, lock and history",
                              .description = kHelp,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddShowOptions,
                              .run = ShowProfile});
}

}  // namespace holdfast::cli
