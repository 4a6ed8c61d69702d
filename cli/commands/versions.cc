// `holdfast versions <store> <key>`: a profile's versions, newest first.
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "text_output.h"
#include "time_format.h"

namespace holdfast::cli {
namespace versions_command {

constexpr char kHelp[] =
    R"(List a profile's versions, newest first: when and why each was written. Times T:)";

void AddVersionsOptions(cxxopts::Options& options) {
  options.add_options()("limit", "at most N versions (0: all)",
                        cxxopts::value<size_t>()->default_value("100"), "N");
  options.add_options()("since", "only versions written at or after T",
                        cxxopts::value<std::string>(), "T");
  options.add_options()("until", "only versions written at or before T",
                        cxxopts::value<std::string>(), "T");
}

std::string CheckTimeRange(const cxxopts::ParseResult& args) {
  for (const char* name : {"since", "until"}) {
    if (args.count(name) && !ParseTime(args[name].as<std::string>())) {
      return "--" + std::string(name) + " '" + args[name].as<std::string>() +
             "' is not a time: use " + std::string(kTimeForms);
    }
  }
  if (args.count("since") && args.count("until") &&
      *ParseTime(args["since"].as<std::string>()) > *ParseTime(args["until"].as<std::string>())) {
    return "--since is later than --until";
  }
  return "";
}

Json VersionJson(const VersionInfo& v) {
  Json partners = Json::array();
  for (const ProfileLocation& p : v.partners) {
    Json partner = {{"store", p.store}};
    AddKey(partner, p.key);
    partners.push_back(std::move(partner));
  }
  return {{"version", v.version},
          {"time", TimeJson(v.written_unix_ms)},
          {"reason", VersionReasonName(v.reason)},
          {"epoch", v.epoch},
          {"source_version", v.source_version},
          {"payload_bytes", v.payload_bytes},
          {"damaged", v.damaged},
          {"partners", std::move(partners)},
          {"schema_version", v.schema_version}};
}

// A trade's partners as "store/key, ..." ("-" for other versions).
std::string PartnersText(const VersionInfo& v) {
  if (v.partners.empty()) return "-";
  std::string text;
  for (const ProfileLocation& p : v.partners) {
    if (!text.empty()) text += ", ";
    text += Printable(p.store) + "/" + Printable(p.key);
  }
  return text;
}

Status ListVersions(AdminService& admin, const Invocation& call) {
  VersionQuery query;
  query.limit = call.args["limit"].as<size_t>();
  if (call.args.count("since"))
    query.from_unix_ms = ParseTime(call.args["since"].as<std::string>());
  if (call.args.count("until")) query.to_unix_ms = ParseTime(call.args["until"].as<std::string>());
  auto versions = admin.Versions(call.args["store"].as<std::string>(),
                                         call.args["key"].as<std::string>(), query);
  if (!versions.ok()) return versions.status();
  if (call.json) {
    PrintJson(call.io.out, JsonArray(*versions, VersionJson));
    return Status::Ok();
  }
  Table table({"VERSION", "TIME", "REASON", "EPOCH", "FROM", "BYTES", "WITH"});
  for (const VersionInfo& v : *versions) {
    table.Add({std::to_string(v.version), TimeText(v.written_unix_ms),
               std::string(VersionReasonName(v.reason)), std::to_string(v.epoch),
               v.source_version ? std::to_string(v.source_version) : "-",
               v.damaged ? "DAMAGED" : std::to_string(v.payload_bytes), PartnersText(v)});
  }
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace versions_command

std::unique_ptr<Command> MakeVersionsCommand() {
  using namespace versions_command;
  return MakeDatabaseCommand({.name = "versions",
                              .summary = "list a profile's versions, newest first",
                              .description = std::string(kHelp) + " " + std::string(kTimeForms),
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddVersionsOptions,
                              .check = CheckTimeRange,
                              .run = ListVersions});
}

}  // namespace holdfast::cli
