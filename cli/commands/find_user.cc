// `holdfast find-user <id>`: the profiles that carry a user id, from the engine's user-id index.
#include <optional>
#include <string>
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "text_output.h"

namespace holdfast::cli {
namespace find_user_command {

constexpr char kHelp[] =
    R"(List the profiles (store and key) that carry the user id <id>, from the user-id index:
a profile's ids count once saved. To pass a negative id, end the options first: -- -5.)";

std::string CheckUserId(const cxxopts::ParseResult& args) {
  const std::string id = args["id"].as<std::string>();
  return ParseUserId(id) ? "" : "<id> '" + id + "' is not a 64-bit integer";
}

Json LocationJson(const ProfileLocation& location) {
  Json object = {{"store", location.store}};
  AddKey(object, location.key);
  return object;
}

Status FindUser(AdminService& admin, const Invocation& call) {
  auto found = admin.FindByUserId(*ParseUserId(call.args["id"].as<std::string>()));
  if (!found.ok()) return found.status();
  if (call.json) {
    PrintJson(call.io.out, JsonArray(*found, LocationJson));
    return Status::Ok();
  }
  Table table({"STORE", "KEY"});
  for (const ProfileLocation& location : *found) {
    table.Add({location.store, Printable(location.key)});
  }
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace find_user_command

std::unique_ptr<Command> MakeFindUserCommand() {
  using namespace find_user_command;
  return MakeDatabaseCommand({.name = "find-user",
                              .summary = "find the profiles that carry a user id",
                              .description = kHelp,
                              .positionals = {{"id", "the user id"}},
                              .check = CheckUserId,
                              .run = FindUser});
}

}  // namespace holdfast::cli
