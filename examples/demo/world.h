// World: the game server's side of the demo — the database, the Players store (JSON documents)
// and one live session per online player.
//
// A player's document is {"coins": N, "items": {"gem": N, "potion": N, "shield": N, "sword": N}}.
// A new player gets the store's template, 10 of each item: the starter kit. Coins are earned and
// gifted; items only ever move between players in trades, so their total is what the crash test
// checks.
//
// Threads: Join, Rejoin, SendGifts and Close run on the caller's thread, one at a time. The
// players' profiles may be traded from several threads (market.h) between those calls; gifts
// are applied by engine workers.
#ifndef HOLDFAST_EXAMPLES_DEMO_WORLD_H_
#define HOLDFAST_EXAMPLES_DEMO_WORLD_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "holdfast/json_codec.h"

namespace holdfast_demo {

using Json = nlohmann::json;
using PlayerProfile = holdfast::Profile<holdfast::JsonCodec>;

inline constexpr char kStoreName[] = "Players";

// "player-7"; the user id 1007 that `holdfast find-user` finds it by.
std::string PlayerKey(int index);
int64_t PlayerUserId(int index);

// Items in a player's document (the sum over "items").
int64_t CountItems(const Json& document);

// One player slot on this server. Slots never move (the vector is sized once).
struct Player {
  std::string key;
  std::mutex trade_mu;                   // one trade at a time per player (market.cc)
  std::optional<PlayerProfile> profile;  // set while the player is online
};

// How the engine and store are opened.
struct WorldOptions {
  std::string path;
  int players = 0;
  // Shown by `holdfast sessions` as the holder of each lock.
  std::string owner;
  // Every online profile is auto-saved about once per period (the engine's default is 60 s;
  // shorter here so that --keep-running shows it).
  std::chrono::milliseconds autosave_period{10'000};
};

class World {
 public:
  // Opens the database (creating it only where there is nothing: a missing or empty directory)
  // and the Players store. InvalidArgument when `path` holds something else.
  static holdfast::Result<std::unique_ptr<World>> Open(const WorldOptions& options);
  ~World();

  holdfast::Engine& engine() { return *engine_; }
  holdfast::Store<holdfast::JsonCodec>& store() { return *store_; }
  std::vector<Player>& players() { return players_; }
  bool created() const { return created_; }
  // Orphaned locks taken over so far, and the first one (who left it).
  uint64_t orphans_taken_over() const;
  std::optional<holdfast::OrphanTakeover> first_orphan() const;

  // Starts a session on every player (a handoff for one already online). Counts how many were
  // new (load count 1).
  holdfast::Status JoinAll(int* new_players);
  // Starts player `index`'s session and installs the gift handler. When the player is online
  // already, this is a rejoin: the engine hands the profile off from the live session.
  holdfast::Status Join(int index);

  // Player `index`, online, joins again (from another device, say): the engine hands the
  // profile off from the live session — its final save, then the new session loads that data.
  // `same_data` says whether the new session found exactly what the old one had.
  holdfast::Status Rejoin(int index, bool* same_data);

  // Every online player earns 10-100 coins and is saved. Adds the coins to `earned`.
  holdfast::Status EarnAndSave(uint64_t seed, int64_t* earned);

  // Sends `count` gifts of `coins` each as messages to distinct random online players, waits
  // until the players' sessions have applied them (no polling: a condition variable), then saves
  // those players so that the messages' removal is stored with the coins.
  holdfast::Status SendGifts(int count, int64_t coins, uint64_t seed);

  // Items of every online player, from their live data.
  int64_t TotalItems();

  // Ends every session (final saves) and closes the database.
  holdfast::Status Close();
  // The engine's counters, final saves included, as Close left them.
  const holdfast::EngineStats& final_stats() const { return final_stats_; }

 private:
  World() = default;
  void OnGift(const std::string& batch);

  std::unique_ptr<holdfast::Engine> engine_;
  std::optional<holdfast::Store<holdfast::JsonCodec>> store_;
  std::vector<Player> players_;
  bool created_ = false;
  holdfast::EngineStats final_stats_;
  // Shared with the engine's on_orphan_takeover callback.
  struct OrphanLog {
    std::mutex mu;
    std::optional<holdfast::OrphanTakeover> first;
  };
  std::shared_ptr<OrphanLog> orphans_ = std::make_shared<OrphanLog>();

  // Gifts of the batch being sent, applied by message handlers on engine workers.
  std::mutex gifts_mu_;
  std::condition_variable gifts_cv_;
  std::string gift_batch_;  // guarded by gifts_mu_
  int gifts_pending_ = 0;   // guarded by gifts_mu_
  int gift_batches_ = 0;    // batches sent by this World (caller's thread only)
};

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_WORLD_H_
