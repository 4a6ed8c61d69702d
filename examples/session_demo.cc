// The Holdfast demo: a tiny "game server" that keeps three players' gold in an embedded database
// in ./holdfast-demo-data (or the directory given as the first argument).
//
// Each run: starts a session per player, grants 10 gold, shows a handoff (a second start on the
// same player takes over after the holder's final save), closes the engine (final saves), then
// reopens it and reads the players back. Run it again and the gold keeps growing.
#include <cstdio>
#include <string>

#include "holdfast/holdfast.h"

namespace {

int Fail(const char* what, const holdfast::Status& s) {
  std::fprintf(stderr, "demo: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

int Gold(const std::string& data) {
  return data.rfind("gold=", 0) == 0 ? std::stoi(data.substr(5)) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "holdfast-demo-data";
  const char* players[] = {"alice", "bob", "carol"};
  holdfast::StoreOptions<std::string> store_options;
  store_options.template_value = "gold=0";

  auto engine = holdfast::Engine::Open(path, holdfast::EngineOptions{});
  if (!engine.ok()) return Fail("open", engine.status());
  std::printf("opened %s (incarnation %llu)\n", path.c_str(),
              static_cast<unsigned long long>((*engine)->Info().incarnation));
  auto store = (*engine)->OpenStore<holdfast::BytesCodec>("Players", store_options);
  if (!store.ok()) return Fail("open store", store.status());

  for (const char* name : players) {
    auto profile = store->StartSession(name);
    if (!profile.ok()) return Fail("start session", profile.status());
    holdfast::Status s = profile->Edit(
        [](std::string& data) { data = "gold=" + std::to_string(Gold(data) + 10); });
    if (!s.ok()) return Fail("edit", s);
    if (s = profile->Save(); !s.ok()) return Fail("save", s);
    std::printf("  %-6s session %llu (load #%llu): %s, saved as version %llu\n", name,
                static_cast<unsigned long long>(profile->Info().session_id),
                static_cast<unsigned long long>(profile->Info().load_count),
                profile->Data().c_str(), static_cast<unsigned long long>(profile->Info().version));
    if (std::string(name) == "alice") {
      // Alice "rejoins on another server": the new start hands off from the live session.
      profile->OnSessionEnd([](const holdfast::SessionEnd& end) {
        std::printf("  alice's first session ended (%s)\n",
                    std::string(holdfast::EndReasonName(end.reason)).c_str());
      });
      auto rejoin = store->StartSession(name);
      if (!rejoin.ok()) return Fail("rejoin", rejoin.status());
      std::printf("  alice rejoined: epoch %llu, still %s; old handle active: %s\n",
                  static_cast<unsigned long long>(rejoin->Info().epoch), rejoin->Data().c_str(),
                  profile->IsActive() ? "yes" : "no");
    }
  }
  holdfast::EngineStats stats = (*engine)->Stats();
  std::printf("closing: %llu active sessions get their final save (%llu handoff so far)\n",
              static_cast<unsigned long long>(stats.active_sessions),
              static_cast<unsigned long long>(stats.handoffs));
  if (holdfast::Status s = (*engine)->Close(); !s.ok()) return Fail("close", s);

  auto reopened = holdfast::Engine::Open(path, holdfast::EngineOptions{});
  if (!reopened.ok()) return Fail("reopen", reopened.status());
  auto again = (*reopened)->OpenStore<holdfast::BytesCodec>("Players", store_options);
  if (!again.ok()) return Fail("open store", again.status());
  std::printf("reopened (incarnation %llu)\n",
              static_cast<unsigned long long>((*reopened)->Info().incarnation));
  for (const char* name : players) {
    auto profile = again->StartSession(name);
    if (!profile.ok()) return Fail("start session", profile.status());
    std::printf("  %-6s %s (loaded %llu times)\n", name, profile->Data().c_str(),
                static_cast<unsigned long long>(profile->Info().load_count));
    if (holdfast::Status s = profile->EndSession(); !s.ok()) return Fail("end session", s);
  }
  if (holdfast::Status s = (*reopened)->Close(); !s.ok()) return Fail("close", s);
  std::printf("done: run `make demo` again and every player gains 10 gold\n");
  return 0;
}
