// `holdfast message <store> <key> (--data TEXT | --file F)`: sends a message to a profile.
#include <ostream>

#include "database_command.h"
#include "payload_input.h"
#include "text_output.h"

namespace holdfast::cli {
namespace message_command {

constexpr char kHelp[] =
    R"(Send a message to a profile (a gift, mail): stored at once, whether or not a session holds
the profile, also for a profile that was never created. On a running server a session holding
the profile gets it at once; otherwise its next session does. The payload is sent as given: the
game's message handler reads it.)";

void AddMessageOptions(cxxopts::Options& options) { AddPayloadOptions(options, "the message"); }

Status SendMessage(AdminService& admin, const Invocation& call) {
  const std::string store = call.args["store"].as<std::string>();
  const std::string key = call.args["key"].as<std::string>();
  auto payload = ReadPayload(call.args);
  if (!payload.ok()) return payload.status();
  if (Status s = admin.Message(store, key, *payload); !s.ok()) return s;
  call.io.out << "sent a message of " << payload->size() << " bytes to " << store << "/"
              << Printable(key) << "\n";
  return Status::Ok();
}

}  // namespace message_command

std::unique_ptr<Command> MakeMessageCommand() {
  using namespace message_command;
  return MakeDatabaseCommand({.name = "message",
                              .summary = "send a message to a profile",
                              .description = kHelp,
                              .writes = true,
                              .positionals = {{"store", "the store"}, {"key", "the profile key"}},
                              .options = AddMessageOptions,
                              .check = CheckPayloadOptions,
                              .run = SendMessage});
}

}  // namespace holdfast::cli
