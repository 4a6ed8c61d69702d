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
namespace {

constexpr char kHelp[] =
    R"(Show a profile: its current data (or one version's with --version), the lock, load count,
user ids and metadata. Data is shown as hex; JSON and flatbuffers stores will render as JSON
once stores register their schema.)";

void AddShowOptions(cxxopts::Options& options) {
  options.add_options()("version", "show this version instead of the current data",
                        cxxopts::value<uint64_t>(), "V");
}

void WriteDetails(JsonWriter& out, std::string_view store, std::string_view key,
                  const ProfileDetails& details, const RenderedPayload& data) {
  const RawProfileView& view = details.view;
  out.BeginObject().Field("store", store);
  WriteKeyFields(out, key);
  out.Field("version", view.version.version);
  WriteTimeField(out, "time", view.version.written_unix_ms);
  out.Field("reason", VersionReasonName(view.version.reason))
      .Field("epoch", view.version.epoch)
      .Field("source_version", view.version.source_version)
      .Field("codec", details.codec)
      .Field("data_format", data.format)
      .Key("data")
      .Raw(data.json)
      .Field("payload_bytes", view.version.payload_bytes)
      .Key("lock");
  if (details.lock) {
    WriteLock(out, *details.lock);
  } else {
    out.Null();
  }
  out.Field("load_count", view.load_count).Key("user_ids").BeginArray();
  for (int64_t id : view.user_ids) out.Int(id);
  out.EndArray().Key("metadata").BeginObject();
  for (const auto& [name, value] : view.metadata) out.Field(name, value);
  out.EndObject();
  WriteTimeField(out, "created", details.created_unix_ms);
  WriteTimeField(out, "updated", details.updated_unix_ms);
  WriteTimeField(out, "first_session", details.first_session_unix_ms);
  out.Field("last_version", details.last_version).EndObject();
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
  out << data.text;
}

Status ShowProfile(Engine& engine, const Invocation& call) {
  std::optional<uint64_t> version;
  if (call.args.count("version")) version = call.args["version"].as<uint64_t>();
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto details = Admin(engine).Inspect(store, key, version);
  if (!details.ok()) return details.status();
  const RenderedPayload data = RenderPayload(details->codec, details->view.payload);
  if (call.json) {
    PrintJsonLine(call.io.out,
                  [&](JsonWriter& out) { WriteDetails(out, store, key, *details, data); });
  } else {
    PrintDetails(call.io.out, store, key, *details, data);
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<Command> MakeShowCommand() {
  return MakeDatabaseCommand({.name = "show",
                              .summary = "show a profile's data, lock and history",
                              .description = kHelp,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddShowOptions,
                              .run = ShowProfile});
}

}  // namespace holdfast::cli
