// The random workload of the session concurrency stress test (concurrency_stress_test.cc): threads
// that start, edit, save, end, hand off and steal sessions on a few keys, recording what every
// call returned in a World, which the test then checks against the commit history
// (tests/support/history_oracle.h) and the stored records.
//
// Seeded: the seed is printed and pinned by default; HOLDFAST_SEED=<n> replays a run's choices
// (thread scheduling still varies) and HOLDFAST_SEED=random draws a fresh one. Nothing sleeps:
// threads block only in engine calls and on conditions.
#ifndef HOLDFAST_TESTS_CONCURRENCY_WORKLOAD_H_
#define HOLDFAST_TESTS_CONCURRENCY_WORKLOAD_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/holdfast.h"
#include "violations.h"

namespace holdfast::test::stress {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;
using std::chrono::milliseconds;

inline constexpr char kStore[] = "Players";

// The workload's seed: HOLDFAST_SEED when set ("random" draws a fresh one), otherwise a pinned
// default so that CI runs the same choices every time (thread scheduling still varies).
uint64_t SeedFromEnvironment();

// The payload is a decimal counter; nullopt when it is not one.
std::optional<uint64_t> ParseCounter(std::string_view text);

struct SessionWatch {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<SessionEnd> end;  // guarded by mu
  bool end_session_ok = false;    // EndSession() returned OK; guarded by mu
};

// Every handle the test ever got, for the checks after Close.
struct Tracked {
  int key;
  uint64_t epoch;
  uint64_t session_id;
  Handle handle;
  std::shared_ptr<SessionWatch> watch;
  bool stubborn;
};

// A successful start and what it loaded.
struct LoadRecord {
  int key;
  uint64_t epoch;
  uint64_t session_id;
  uint64_t version;
  uint64_t value;
};

struct KeyState {
  // Handles of this key that may still be active, by epoch. Guarded by live_mu.
  std::mutex live_mu;
  std::map<uint64_t, Handle> live;
  // Guarded by mu.
  std::mutex mu;
  uint64_t max_acked = 0;  // the largest value a Save()/EndSession() acknowledged
  std::map<uint64_t, uint64_t> value_at_version;
};

struct StressConfig {
  int threads = 8;
  int keys = 6;
  int ops_per_thread = 300;
  milliseconds autosave_period{20};
  milliseconds handoff_timeout{50};
  milliseconds start_timeout{30'000};
  milliseconds short_start_timeout{2};
  // A stubborn holder's final save for a handoff waits until it is stolen, at most this long:
  // longer than handoff_timeout, so the starter's handoff times out and it steals.
  milliseconds stubborn_hold{200};
};

class World {
 public:
  World(uint64_t seed, StressConfig config) : seed_(seed), config_(config) {
    for (int k = 0; k < config_.keys; ++k) {
      keys_.push_back("player-" + std::to_string(k));
      states_.push_back(std::make_unique<KeyState>());
    }
  }

  uint64_t seed() const { return seed_; }
  const StressConfig& config() const { return config_; }
  const std::string& key(int k) const { return keys_[k]; }
  ViolationList& violations() { return violations_; }
  KeyState& state(int k) { return *states_[k]; }

  uint64_t MaxAcked(int k) {
    std::lock_guard lock(state(k).mu);
    return state(k).max_acked;
  }

  void Ack(int k, uint64_t value) {
    std::lock_guard lock(state(k).mu);
    state(k).max_acked = std::max(state(k).max_acked, value);
  }

  // The payload of `version` is `value`; every report of one version must agree.
  void RecordVersion(int k, uint64_t version, uint64_t value, std::string_view source) {
    std::lock_guard lock(state(k).mu);
    auto [it, inserted] = state(k).value_at_version.emplace(version, value);
    if (!inserted && it->second != value) {
      violations_.Add("'" + key(k) + "' version " + std::to_string(version) + " seen as " +
                      std::to_string(it->second) + " and as " + std::to_string(value) + " (" +
                      std::string(source) + ")");
    }
  }

  std::map<uint64_t, uint64_t> ValuesAtVersions(int k) {
    std::lock_guard lock(state(k).mu);
    return state(k).value_at_version;
  }

  void Track(Tracked tracked, LoadRecord load) {
    {
      std::lock_guard lock(state(tracked.key).live_mu);
      state(tracked.key).live.emplace(tracked.epoch, tracked.handle);
    }
    std::lock_guard lock(all_mu_);
    all_.push_back(std::move(tracked));
    loads_.push_back(load);
  }

  // Never two active handles for one key. A handle is active from its start until it is fenced,
  // and a start returns only after every older handle of the key was fenced. Scanning from the
  // newest epoch to the oldest, an older handle seen active after a newer one was seen active
  // would have been active after the newer start returned: a real violation, not a race.
  void CheckAtMostOneActive(int k, std::string_view after) {
    std::lock_guard lock(state(k).live_mu);
    auto& live = state(k).live;
    std::vector<uint64_t> active;
    for (auto it = live.rbegin(); it != live.rend();) {
      if (it->second.IsActive()) {
        active.push_back(it->first);
        ++it;
      } else {
        it = std::make_reverse_iterator(live.erase(std::next(it).base()));
      }
    }
    if (active.size() > 1) {
      std::string epochs;
      for (uint64_t e : active) epochs += " " + std::to_string(e);
      violations_.Add("two active handles for '" + key(k) + "' (epochs" + epochs + ") after " +
                      std::string(after));
    }
  }

  // Lets stubborn holders finish (before Close, whose final saves wait for them).
  void Stop() {
    stop_.store(true);
    std::lock_guard lock(all_mu_);
    for (auto& t : all_) {
      std::lock_guard watch_lock(t.watch->mu);
      t.watch->cv.notify_all();
    }
  }
  bool stopped() const { return stop_.load(); }

  std::vector<Tracked> AllTracked() {
    std::lock_guard lock(all_mu_);
    return all_;
  }
  std::vector<LoadRecord> Loads() {
    std::lock_guard lock(all_mu_);
    return loads_;
  }
  void AddLoad(LoadRecord load) {
    std::lock_guard lock(all_mu_);
    loads_.push_back(load);
  }

  std::atomic<int> starts_ok{0};
  std::atomic<int> starts_aborted{0};
  std::atomic<int> starts_timed_out{0};
  std::atomic<int> steal_requests{0};
  std::atomic<int> saves_acked{0};
  std::atomic<int> ends_acked{0};
  std::atomic<int> lock_lost{0};

 private:
  const uint64_t seed_;
  const StressConfig config_;
  std::vector<std::string> keys_;
  std::vector<std::unique_ptr<KeyState>> states_;
  ViolationList violations_;
  std::atomic<bool> stop_{false};
  std::mutex all_mu_;
  std::vector<Tracked> all_;       // guarded by all_mu_
  std::vector<LoadRecord> loads_;  // guarded by all_mu_
};


StoreOptions<std::string> StressStoreOptions(const StressConfig& config);

// Runs config().threads workers on `players` until each has done its operations.
void RunWorkload(World& world, const Players& players);

}  // namespace holdfast::test::stress

#endif  // HOLDFAST_TESTS_CONCURRENCY_WORKLOAD_H_
