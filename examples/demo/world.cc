#include "world.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <utility>

namespace holdfast_demo {
namespace {

using holdfast::Result;
using holdfast::Status;

constexpr int64_t kStarterItemsEach = 10;

holdfast::StoreOptions<Json> PlayersStoreOptions(const WorldOptions& options) {
  holdfast::StoreOptions<Json> store;
  // The starter kit: what a player who never played before loads.
  store.template_value = {{"coins", 0},
                          {"items",
                           {{"gem", kStarterItemsEach},
                            {"potion", kStarterItemsEach},
                            {"shield", kStarterItemsEach},
                            {"sword", kStarterItemsEach}}}};
  store.autosave_period = options.autosave_period;
  // Checked before every save: a bug that makes a count negative is refused, never stored.
  store.validate = [](const Json& d) {
    if (!d.is_object() || !d.contains("coins") || !d["coins"].is_number_integer() ||
        d["coins"].get<int64_t>() < 0) {
      return Status::InvalidArgument("coins must be a whole number >= 0");
    }
    if (!d.contains("items") || !d["items"].is_object()) {
      return Status::InvalidArgument("items must be an object");
    }
    for (const auto& [name, count] : d["items"].items()) {
      if (!count.is_number_integer() || count.get<int64_t>() < 0) {
        return Status::InvalidArgument("item count of '" + name + "' must be a whole number >= 0");
      }
    }
    return Status::Ok();
  };
  return store;
}

// Opens an existing database, or creates one where there is nothing yet. A directory that holds
// something else (another program's files) is refused rather than written into.
Result<std::unique_ptr<holdfast::Engine>> OpenOrCreate(const std::string& path,
                                                       holdfast::EngineOptions options,
                                                       bool* created) {
  options.create_if_missing = false;
  auto existing = holdfast::Engine::Open(path, options);
  if (existing.ok()) return existing;
  std::error_code error;
  const bool vacant =
      !std::filesystem::exists(path, error) ||
      (std::filesystem::is_directory(path, error) && std::filesystem::is_empty(path, error));
  if (!vacant) {
    if (existing.status().code() != holdfast::StatusCode::kInvalidArgument) {
      return existing.status();  // e.g. IOError: another process has the database open
    }
    return Status::InvalidArgument(path +
                                   " holds something that is not a Holdfast database; the demo "
                                   "creates one only in a missing or empty directory (" +
                                   existing.status().ToString() + ")");
  }
  *created = true;
  options.create_if_missing = true;
  return holdfast::Engine::Open(path, options);
}

}  // namespace

std::string PlayerKey(int index) { return "player-" + std::to_string(index); }
int64_t PlayerUserId(int index) { return 1000 + index; }

int64_t CountItems(const Json& document) {
  int64_t total = 0;
  for (const auto& [name, count] : document.at("items").items()) total += count.get<int64_t>();
  return total;
}

Result<std::unique_ptr<World>> World::Open(const WorldOptions& options) {
  std::unique_ptr<World> world(new World());
  holdfast::EngineOptions engine_options;
  engine_options.owner_description = options.owner;
  // Counted, not printed: after a crash every player's lock is an orphan.
  engine_options.on_orphan_takeover = [log = world->orphans_](const holdfast::OrphanTakeover& o) {
    std::lock_guard lock(log->mu);
    if (!log->first) log->first = o;
  };
  auto engine = OpenOrCreate(options.path, std::move(engine_options), &world->created_);
  if (!engine.ok()) return engine.status();
  world->engine_ = std::move(*engine);
  auto store =
      world->engine_->OpenStore<holdfast::JsonCodec>(kStoreName, PlayersStoreOptions(options));
  if (!store.ok()) {
    return store.status().WithContext("opening store " + std::string(kStoreName) + " in " +
                                      options.path + " (a database of another program?)");
  }
  world->store_ = std::move(*store);
  world->players_ = std::vector<Player>(options.players);
  for (int i = 0; i < options.players; ++i) world->players_[i].key = PlayerKey(i);
  return world;
}

World::~World() {
  if (engine_) (void)Close();
}

uint64_t World::orphans_taken_over() const { return engine_->Stats().orphans_taken_over; }

std::optional<holdfast::OrphanTakeover> World::first_orphan() const {
  std::lock_guard lock(orphans_->mu);
  return orphans_->first;
}

Status World::Join(int index) {
  Player& player = players_[index];
  holdfast::SessionOptions options;
  options.user_ids = {PlayerUserId(index)};
  auto profile = store_->StartSession(player.key, options);
  if (!profile.ok()) return profile.status().WithContext("starting " + player.key);
  // A gift is a message {"coins": N, "batch": B}: applied to the live data, then marked
  // processed, so its removal is stored in the same save as the coins — exactly once.
  profile->SetMessageHandler([this, handle = *profile](
                                 const holdfast::Message& message,
                                 const holdfast::MessageProcessed& processed) mutable {
    const Json gift = Json::parse(message.payload, nullptr, /*allow_exceptions=*/false);
    if (!gift.is_object() || !gift.value("coins", Json(0)).is_number_integer()) return;
    const int64_t coins = gift.value("coins", int64_t{0});
    Status edited = handle.Edit([&](Json& d) { d["coins"] = d["coins"].get<int64_t>() + coins; });
    if (!edited.ok()) return;  // the message stays for the player's next session
    processed();
    OnGift(gift.value("batch", std::string()));
  });
  player.profile = std::move(*profile);
  return Status::Ok();
}

Status World::JoinAll(int* new_players) {
  *new_players = 0;
  for (int i = 0; i < static_cast<int>(players_.size()); ++i) {
    if (Status s = Join(i); !s.ok()) return s;
    if (players_[i].profile->Info().load_count == 1) ++*new_players;
  }
  return Status::Ok();
}

Status World::Rejoin(int index, bool* same_data) {
  Player& player = players_[index];
  PlayerProfile old = *player.profile;
  if (Status s = Join(index); !s.ok()) return s;
  *same_data = !old.IsActive() && old.Data() == player.profile->Data();
  return Status::Ok();
}

Status World::EarnAndSave(uint64_t seed, int64_t* earned) {
  std::mt19937_64 rng(seed);
  for (Player& player : players_) {
    const int64_t coins = 10 + static_cast<int64_t>(rng() % 91);
    Status s =
        player.profile->Edit([&](Json& d) { d["coins"] = d["coins"].get<int64_t>() + coins; });
    if (s.ok()) s = player.profile->Save();
    if (!s.ok()) return s.WithContext("saving " + player.key);
    *earned += coins;
  }
  return Status::Ok();
}

void World::OnGift(const std::string& batch) {
  std::lock_guard lock(gifts_mu_);
  // A gift of an earlier run that was never stored arrives again and is applied like any other;
  // SendGifts waits for its own batch only.
  if (batch == gift_batch_ && gifts_pending_ > 0 && --gifts_pending_ == 0) gifts_cv_.notify_all();
}

Status World::SendGifts(int count, int64_t coins, uint64_t seed) {
  std::vector<int> chosen(players_.size());
  std::iota(chosen.begin(), chosen.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(chosen.begin(), chosen.end(), rng);
  chosen.resize(std::min<size_t>(count, chosen.size()));
  const std::string batch =
      std::to_string(engine_->Info().incarnation) + "-" + std::to_string(++gift_batches_);
  {
    std::lock_guard lock(gifts_mu_);
    gift_batch_ = batch;
    gifts_pending_ = static_cast<int>(chosen.size());
  }
  const std::string payload = Json{{"coins", coins}, {"batch", batch}}.dump();
  for (int index : chosen) {
    if (Status s = store_->Message(players_[index].key, payload); !s.ok()) return s;
  }
  {
    // Each online player's session receives its message at once, on an engine worker.
    std::unique_lock lock(gifts_mu_);
    if (!gifts_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return gifts_pending_ == 0; })) {
      return Status::TimedOut(std::to_string(gifts_pending_) + " gifts not applied after 30 s");
    }
  }
  for (int index : chosen) {
    if (Status s = players_[index].profile->Save(); !s.ok()) return s;
  }
  return Status::Ok();
}

int64_t World::TotalItems() {
  int64_t total = 0;
  for (Player& player : players_) {
    if (player.profile) total += player.profile->Read(CountItems);
  }
  return total;
}

Status World::Close() {
  if (!engine_) return Status::Ok();
  Status closed = engine_->Close();  // every session's final save, then the locks are released
  final_stats_ = engine_->Stats();
  for (Player& player : players_) player.profile.reset();
  store_.reset();
  engine_.reset();
  return closed;
}

}  // namespace holdfast_demo
