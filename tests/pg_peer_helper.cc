// A game server in a process of its own, for tests/postgres_process_test.cc: an engine on a
// PostgreSQL database with one store ("players", BytesCodec, auto-save off), driven line by line
// on stdin; every answer and event is one line on stdout.
//
//   holdfast_pg_peer CONNINFO OWNER LEASE_MS
//   -> "ready <incarnation>" once open
//   start KEY        -> "ok <data>" | "err <code> <message>"
//   set KEY VALUE    -> "ok" (the session's data becomes VALUE, not saved)
//   save KEY         -> "ok" | "err <code> <message>"
//   end KEY          -> "ok" | "err <code> <message>"
//   quit             -> "closed <code>" after Engine::Close
// Events, whenever they happen: "event end KEY <reason> <unsaved 0|1>", "event lease-lost".
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "holdfast/holdfast.h"

namespace {

std::mutex out_mu;

void Say(const std::string& line) {
  std::lock_guard lock(out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string Answer(const holdfast::Status& s) {
  if (s.ok()) return "ok";
  return "err " + std::string(holdfast::StatusCodeName(s.code())) + " " + s.message();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CONNINFO OWNER LEASE_MS\n", argv[0]);
    return 2;
  }
  holdfast::EngineOptions options;
  options.owner_description = argv[2];
  options.lease_duration = std::chrono::milliseconds(std::atoll(argv[3]));
  options.worker_threads = 2;
  options.on_lease_lost = [](const holdfast::Status&) { Say("event lease-lost"); };
  auto engine = holdfast::Engine::Open(argv[1], options);
  if (!engine.ok()) {
    Say("err " + engine.status().ToString());
    return 1;
  }
  holdfast::StoreOptions<std::string> store_options;
  store_options.template_value = "new";
  store_options.autosave = false;
  store_options.handoff_timeout = std::chrono::seconds(20);
  auto store = (*engine)->OpenStore<holdfast::BytesCodec>("players", store_options);
  if (!store.ok()) {
    Say("err " + store.status().ToString());
    return 1;
  }
  std::map<std::string, holdfast::Profile<holdfast::BytesCodec>> sessions;
  Say("ready " + std::to_string((*engine)->Info().incarnation));

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command, key, value;
    in >> command >> key;
    std::getline(in >> std::ws, value);
    if (command == "start") {
      holdfast::SessionOptions session_options;
      session_options.on_session_end = [key](const holdfast::SessionEnd& end) {
        Say("event end " + key + " " + std::string(holdfast::EndReasonName(end.reason)) + " " +
            (end.unsaved_changes ? "1" : "0"));
      };
      auto started = store->StartSession(key, session_options);
      if (!started.ok()) {
        Say(Answer(started.status()));
        continue;
      }
      const std::string data = started->Data();
      sessions.insert_or_assign(key, std::move(*started));
      Say("ok " + data);
    } else if (command == "set" || command == "save" || command == "end") {
      auto it = sessions.find(key);
      if (it == sessions.end()) {
        Say("err NotFound no session of " + key);
        continue;
      }
      holdfast::Status s;
      if (command == "set") s = it->second.Edit([&](std::string& d) { d = value; });
      if (command == "save") s = it->second.Save();
      if (command == "end") s = it->second.EndSession();
      Say(Answer(s));
    } else if (command == "quit") {
      break;
    } else {
      Say("err InvalidArgument unknown command " + command);
    }
  }
  const holdfast::Status closed = (*engine)->Close();
  Say("closed " + std::string(holdfast::StatusCodeName(closed.code())));
  return 0;
}
