// `holdfast diff <store> <key> <v1> <v2>`: what changed between two versions of a profile — a
// JSON Patch for a JSON or flatbuffers store, a byte comparison otherwise.
#include <charconv>
#include <optional>
#include <ostream>
#include <string>

#include "database_command.h"
#include "fields.h"
#include "payload_render.h"
#include "text_output.h"

namespace holdfast::cli {
namespace diff_command {

constexpr char kHelp[] =
    R"(Show what changed from version <v1> to version <v2> of a profile. For a JSON store, and a
flatbuffers store (rendered through the schema it registered, as `show` does): the JSON Patch
(RFC 6902) that turns <v1>'s document into <v2>'s, one operation a line (with --json: as one
array). For other codecs, or a payload the codec or schema refuses: whether the bytes are
identical, and their sizes.)";

std::optional<uint64_t> ParseVersion(const std::string& text) {
  uint64_t version = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version == 0) {
    return std::nullopt;
  }
  return version;
}

std::string CheckVersions(const cxxopts::ParseResult& args) {
  for (const char* name : {"v1", "v2"}) {
    const std::string text = args[name].as<std::string>();
    if (!ParseVersion(text)) return "<" + std::string(name) + "> '" + text + "' is not a version";
  }
  return "";
}

Status Diff(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  const uint64_t from = *ParseVersion(call.args["v1"].as<std::string>());
  const uint64_t to = *ParseVersion(call.args["v2"].as<std::string>());
  auto older = admin.Inspect(store, key, from);
  if (!older.ok()) return older.status();
  auto newer = admin.Inspect(store, key, to);
  if (!newer.ok()) return newer.status();
  // A flatbuffers store's payloads render through the schema it registered, as `show` does.
  auto registration = admin.Registration(store);
  if (!registration.ok()) return registration.status();
  const RenderedPayload a =
      RenderPayload(older->codec, registration->schema, older->view.payload);
  const RenderedPayload b =
      RenderPayload(newer->codec, registration->schema, newer->view.payload);
  const std::string what = "versions " + std::to_string(from) + " and " + std::to_string(to) +
                           " of " + store + "/" + Printable(key);
  if (a.format == "json" && b.format == "json") {
    const Json patch = Json::diff(a.json, b.json);
    if (call.json) {
      PrintJson(call.io.out,
                {{"format", "json-patch"}, {"from", from}, {"to", to}, {"patch", patch}});
    } else if (patch.empty()) {
      call.io.out << what << " hold the same document\n";
    } else {
      for (const Json& operation : patch) PrintJson(call.io.out, operation);
    }
    return Status::Ok();
  }
  const std::string& x = older->view.payload;
  const std::string& y = newer->view.payload;
  if (call.json) {
    PrintJson(call.io.out, {{"format", "bytes"},
                            {"from", from},
                            {"to", to},
                            {"identical", x == y},
                            {"from_bytes", x.size()},
                            {"to_bytes", y.size()}});
  } else if (x == y) {
    call.io.out << what << " are identical (" << x.size() << " bytes)\n";
  } else {
    call.io.out << what << " differ: " << x.size() << " bytes, then " << y.size() << " bytes\n";
  }
  return Status::Ok();
}

}  // namespace diff_command

std::unique_ptr<Command> MakeDiffCommand() {
  using namespace diff_command;
  return MakeDatabaseCommand({.name = "diff",
                              .summary = "show what changed between two versions of a profile",
                              .description = kHelp,
                              .positionals = {{"store", "the store"},
                                              {"key", "the profile key"},
                                              {"v1", "the older version"},
                                              {"v2", "the newer version"}},
                              .check = CheckVersions,
                              .run = Diff});
}

}  // namespace holdfast::cli
