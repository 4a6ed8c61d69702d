// `holdfast list <store>`: the store's profiles with their version, last update and lock.
#include <algorithm>
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "progress.h"
#include "text_output.h"

namespace holdfast::cli {
namespace list_command {

constexpr char kHelp[] =
    R"(List the profiles of a store in storage order (shorter keys first, then bytewise), with
their version, last update and whether a session holds them. A prefix still reads the whole
store.)";

void AddListOptions(cxxopts::Options& options) {
  options.add_options()("prefix", "only keys that start with P", cxxopts::value<std::string>(),
                        "P");
  options.add_options()("limit", "at most N profiles (0: all)",
                        cxxopts::value<size_t>()->default_value("100"), "N");
  options.add_options()("after", "only profiles after key K (continues a listing)",
                        cxxopts::value<std::string>(), "K");
}

Json ProfileJson(const ProfileSummary& profile) {
  Json object = Json::object();
  AddKey(object, profile.key);
  object["version"] = profile.version;
  object["locked"] = profile.locked;
  object["updated"] = TimeJson(profile.updated_unix_ms);
  object["payload_bytes"] = profile.payload_bytes;
  if (!profile.damage.empty()) object["damage"] = profile.damage;
  return object;
}

// Profiles are read a page at a time: each answer stays far below the admin socket's frame
// limit, and a long listing can show its progress.
constexpr size_t kPage = 1000;

// The profiles `query` selects, read in pages, with a bar of the pages read on a terminal.
Result<ProfileList> ReadInPages(AdminService& admin, const std::string& store,
                                ProfileQuery query, const Invocation& call) {
  const bool bar = ProgressBar::Wanted(call.json, call.io.err);
  uint64_t total = 0;
  if (bar && query.prefix.empty()) {  // a prefix selects an unknown share of the store
    if (auto stores = admin.Stores(); stores.ok()) {
      for (const StoreSummary& summary : *stores) {
        if (summary.name == store) total = summary.profiles;
      }
    }
    if (query.limit != 0 && query.limit < total) total = query.limit;
  }
  ProgressBar progress(call.io.err, "list " + store, total, "profiles", bar);
  const size_t limit = query.limit;
  ProfileList all;
  while (true) {
    const size_t wanted = limit == 0 ? kPage : std::min(kPage, limit - all.profiles.size());
    query.limit = wanted;
    auto page = admin.Profiles(store, query);
    if (!page.ok()) return page.status();
    for (ProfileSummary& profile : page->profiles) all.profiles.push_back(std::move(profile));
    progress.Set(all.profiles.size());
    all.more = page->more;
    const bool limit_reached = limit != 0 && all.profiles.size() >= limit;
    if (!page->more || limit_reached || all.profiles.empty()) break;
    query.after_key = all.profiles.back().key;
  }
  return all;
}

Status ListProfiles(AdminService& admin, const Invocation& call) {
  ProfileQuery query;
  if (call.args.count("prefix")) query.prefix = call.args["prefix"].as<std::string>();
  query.limit = call.args["limit"].as<size_t>();
  if (call.args.count("after")) query.after_key = call.args["after"].as<std::string>();
  auto list = ReadInPages(admin, call.args["store"].as<std::string>(), query, call);
  if (!list.ok()) return list.status();
  if (call.json) {
    PrintJson(call.io.out, JsonArray(list->profiles, ProfileJson));
  } else {
    Table table({"KEY", "VERSION", "UPDATED", "LOCKED", "BYTES"});
    for (const ProfileSummary& profile : list->profiles) {
      table.Add({Printable(profile.key), std::to_string(profile.version),
                 TimeText(profile.updated_unix_ms), profile.locked ? "yes" : "no",
                 profile.damage.empty() ? std::to_string(profile.payload_bytes)
                                        : "DAMAGED: " + profile.damage});
    }
    table.Print(call.io.out);
  }
  if (list->more) {
    call.io.err << "holdfast list: more profiles follow; continue with --after '"
                << Printable(list->profiles.back().key) << "' or list all with --limit 0\n";
  }
  const auto damaged = std::count_if(list->profiles.begin(), list->profiles.end(),
                                     [](const ProfileSummary& p) { return !p.damage.empty(); });
  if (damaged > 0) {
    call.io.err << "holdfast list: " << damaged
                << " damaged record(s) listed; `holdfast verify` checks the whole database\n";
  }
  return Status::Ok();
}

}  // namespace list_command

std::unique_ptr<Command> MakeListCommand() {
  using namespace list_command;
  return MakeDatabaseCommand({.name = "list",
                              .summary = "list the profiles of a store",
                              .description = kHelp,
                              .positionals = {{"store", "the store"}},
                              .options = AddListOptions,
                              .run = ListProfiles});
}

}  // namespace holdfast::cli
