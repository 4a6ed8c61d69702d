// The smallest complete Holdfast program (quoted in the README): open an engine and a JSON store,
// start two players' sessions, edit and save, trade a sword for coins (both players stored in
// one transaction), end the sessions. Usage: holdfast-minimal-example [DIR]
#include <cstdio>

#include "holdfast/holdfast.h"
#include "holdfast/json_codec.h"

using nlohmann::json;

int Fail(const char* what, const holdfast::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  auto engine = holdfast::Engine::Open(argc > 1 ? argv[1] : "player-data", {});
  if (!engine.ok()) return Fail("open", engine.status());

  holdfast::StoreOptions<json> options;
  options.template_value = {{"coins", 100}, {"items", {{"sword", 1}}}};  // a new player's data
  auto players = (*engine)->OpenStore<holdfast::JsonCodec>("Players", options);
  if (!players.ok()) return Fail("open store", players.status());

  auto alice = players->StartSession("alice");  // takes alice's session lock, loads her data
  if (!alice.ok()) return Fail("start alice", alice.status());
  auto bob = players->StartSession("bob");
  if (!bob.ok()) return Fail("start bob", bob.status());

  // Edit under the profile's data lock; Save now (the auto-saver would anyway).
  holdfast::Status s = alice->Edit([](json& d) { d["coins"] = d["coins"].get<int>() + 10; });
  if (s.ok()) s = alice->Save();
  if (!s.ok()) return Fail("save", s);

  // A trade: whoever holds the sword sells it to the other for 50 coins. Engine::Trade runs the
  // edits while neither profile can be saved alone, then stores both in ONE transaction fenced
  // on both sessions (the commit of Engine::SaveTogether): both or neither.
  const bool alice_sells = alice->Read([](const json& d) { return d["items"]["sword"] > 0; });
  auto& seller = alice_sells ? *alice : *bob;
  auto& buyer = alice_sells ? *bob : *alice;
  auto move = [](json& d, int swords, int coins) {
    d["items"]["sword"] = d["items"]["sword"].get<int>() + swords;
    d["coins"] = d["coins"].get<int>() + coins;
  };
  s = (*engine)->Trade(
      [&]() -> holdfast::Status {
        if (auto e = seller.Edit([&](json& d) { move(d, -1, +50); }); !e.ok()) return e;
        return buyer.Edit([&](json& d) { move(d, +1, -50); });
      },
      seller, buyer);
  if (!s.ok()) return Fail("trade", s);

  std::printf("alice %s\nbob   %s\n", alice->Data().dump().c_str(), bob->Data().dump().c_str());
  if (s = alice->EndSession(); !s.ok()) return Fail("end alice", s);  // final save, unlock
  if (s = bob->EndSession(); !s.ok()) return Fail("end bob", s);
  return (*engine)->Close().ok() ? 0 : 1;
}
