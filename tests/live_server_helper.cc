// A game server in a process of its own, for the CLI tests against a live database
// (cli_live_test.cc):
//   holdfast_live_server <db> [--no-socket] <key>...
// Opens the existing database <db> (with its admin socket unless --no-socket), opens the store
// "Players" (bytes, template "new"), starts a session on each key and writes one line to stdout
// for each event:
//   "ready"                      every session is live: the test may go on;
//   "ended <key> <reason>"       a session ended (EndReason name), e.g. through the admin socket;
//   "<command> <key> <code>"     a command from stdin ran (StatusCode name);
//   "closed <code>"              the engine closed (after "quit" or the end of stdin).
// Commands, one a line on stdin: "edit <key> <data>" (the session's data, in memory),
// "save <key>", "quit". A setup failure prints "error <status>" and exits 1.
#include <iostream>
#include <map>
#include <mutex>
#include <string>

#include "holdfast/holdfast.h"

namespace {

std::mutex out_mu;  // sessions end on engine workers while the main thread prints

void Say(const std::string& line) {
  std::lock_guard lock(out_mu);
  std::cout << line << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace holdfast;
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " <db> [--no-socket] <key>...\n";
    return 2;
  }
  EngineOptions options;
  options.create_if_missing = false;
  options.sync_writes = false;
  options.worker_threads = 2;
  options.owner_description = "live-test-server";
  int first_key = 2;
  if (std::string(argv[2]) == "--no-socket") {
    options.admin_socket = false;
    ++first_key;
  }
  auto engine = Engine::Open(argv[1], options);
  if (!engine.ok()) {
    Say("error " + engine.status().ToString());
    return 1;
  }
  StoreOptions<std::string> store_options;
  store_options.template_value = "new";
  auto players = (*engine)->OpenStore<BytesCodec>("Players", store_options);
  if (!players.ok()) {
    Say("error " + players.status().ToString());
    return 1;
  }
  std::map<std::string, Profile<BytesCodec>> sessions;
  for (int i = first_key; i < argc; ++i) {
    const std::string key = argv[i];
    SessionOptions session_options;
    session_options.on_session_end = [key](const SessionEnd& end) {
      Say("ended " + key + " " + std::string(EndReasonName(end.reason)));
    };
    auto profile = players->StartSession(key, session_options);
    if (!profile.ok()) {
      Say("error " + profile.status().ToString());
      return 1;
    }
    sessions.emplace(key, std::move(*profile));
  }
  Say("ready");
  std::string command;
  while (std::cin >> command && command != "quit") {
    std::string key;
    std::cin >> key;
    auto it = sessions.find(key);
    Status status = Status::NotFound("no session of '" + key + "' here");
    if (command == "edit") {
      std::string data;
      std::cin >> data;
      if (it != sessions.end()) status = it->second.Edit([&](std::string& d) { d = data; });
    } else if (command == "save") {
      if (it != sessions.end()) status = it->second.Save();
    } else {
      status = Status::InvalidArgument("unknown command");
    }
    Say(command + " " + key + " " + std::string(StatusCodeName(status.code())));
  }
  Status closed = (*engine)->Close();
  Say("closed " + std::string(StatusCodeName(closed.code())));
  return 0;
}
