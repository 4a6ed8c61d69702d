// Concurrency: many threads starting, editing, saving, ending, handing off and stealing sessions
// on a few keys, checked against the commit history the engine reports through FaultHooks; and
// group commit of concurrent synced saves.
//
// Seeded: the seed is printed and pinned by default; HOLDFAST_SEED=<n> replays a run's choices
// (thread scheduling still varies) and HOLDFAST_SEED=random draws a fresh one. Nothing sleeps: threads block only in engine calls and on conditions.
//
// How the checker learns the true commit order. AfterCommit hooks run after the commit with no
// lock held, so two commits on one profile may report in either order. BeforeCommit, however,
// runs inside the transaction after its GetForUpdate of the profile's meta record, and every
// commit on a profile (acquire, save, release, abandon) writes that record. Of two successful
// commits on one profile, the later one must have read meta after the earlier one was published
// (otherwise optimistic validation fails it and it starts over), so its BeforeCommit ran after
// the earlier one's. CommitLog stamps every BeforeCommit from one counter and hands the stamp of
// the thread's last BeforeCommit (the attempt that committed) to its AfterCommit: sorting a
// profile's commits by stamp gives their commit order.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "internals.h"
#include "holdfast/holdfast.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;
using std::chrono::milliseconds;

constexpr char kStore[] = "Players";

// ---------------------------------------------------------------------------------------------
// Small helpers.

// The workload's seed: HOLDFAST_SEED when set ("random" draws a fresh one), otherwise a pinned
// default so that CI runs the same choices every time (thread scheduling still varies).
uint64_t SeedFromEnvironment() {
  constexpr uint64_t kPinnedSeed = 20261201;
  const char* env = std::getenv("HOLDFAST_SEED");
  if (env == nullptr || *env == '\0') return kPinnedSeed;
  if (std::string_view(env) == "random") {
    std::random_device device;
    return (uint64_t{device()} << 32) ^ device();
  }
  return std::strtoull(env, nullptr, 10);
}

// The payload is a decimal counter; nullopt when it is not one.
std::optional<uint64_t> ParseCounter(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string_view KindName(CommitKind kind) {
  switch (kind) {
    case CommitKind::kAcquire:
      return "acquire";
    case CommitKind::kSave:
      return "save";
    case CommitKind::kRelease:
      return "release";
    case CommitKind::kAbandon:
      return "abandon";
    case CommitKind::kRollback:
      return "rollback";
  }
  return "?";
}

bool CodeIn(const Status& s, std::initializer_list<StatusCode> codes) {
  return std::find(codes.begin(), codes.end(), s.code()) != codes.end();
}

// Collects invariant violations from any thread; the test asserts at the end that there are none
// and prints the first ones.
class Violations {
 public:
  void Add(std::string what) {
    std::lock_guard lock(mu_);
    ++count_;
    if (first_.size() < 40) first_.push_back(std::move(what));
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string Report() const {
    std::lock_guard lock(mu_);
    std::ostringstream out;
    out << count_ << " violation(s)";
    for (const auto& v : first_) out << "\n  - " << v;
    return out.str();
  }

 private:
  mutable std::mutex mu_;
  size_t count_ = 0;
  std::vector<std::string> first_;
};

// ---------------------------------------------------------------------------------------------
// The commit history.

struct CommitEvent {
  CommitKind kind;
  std::string key;
  uint64_t epoch;
  uint64_t session_id;
  uint64_t version;  // payload version written, 0 when none
  uint64_t stamp;    // commit order (see the file comment)
  int incarnation;   // which engine open committed it (session ids are per open)
};

class CommitLog final : public FaultHooks {
 public:
  Status BeforeCommit(const CommitPoint&) override {
    last_stamp_ = next_stamp_.fetch_add(1) + 1;
    return Status::Ok();
  }

  void AfterCommit(const CommitPoint& point, uint64_t version) override {
    const uint64_t stamp = last_stamp_;
    last_stamp_ = 0;
    std::lock_guard lock(mu_);
    events_.push_back({point.kind, std::string(point.key), point.epoch, point.session_id, version,
                       stamp, incarnation_});
  }

  // Call between closing an engine and opening the next one that uses this log.
  void NextIncarnation() {
    std::lock_guard lock(mu_);
    ++incarnation_;
  }

  std::vector<CommitEvent> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  // The stamp of this thread's latest BeforeCommit: a transaction runs and commits on one thread,
  // so at AfterCommit it is the stamp of the attempt that committed.
  static inline thread_local uint64_t last_stamp_ = 0;
  std::atomic<uint64_t> next_stamp_{0};
  mutable std::mutex mu_;
  std::vector<CommitEvent> events_;  // guarded by mu_
  int incarnation_ = 0;              // guarded by mu_
};

// What the history says about one profile, in commit order.
struct KeyHistory {
  struct Acquire {
    uint64_t session_id = 0;
    uint64_t loaded_version = 0;  // what the session loaded: the latest payload, or its creation
    bool created = false;         // the acquire created the profile (from the template)
  };
  uint64_t epoch = 0;  // latest acquired epoch
  uint64_t holder = 0;
  bool locked = false;
  bool data_exists = false;  // an abandoned start that created the profile deletes it again
  uint64_t last_version = 0;
  uint64_t last_version_epoch = 0;
  std::map<uint64_t, Acquire> acquires;  // by epoch
  std::set<uint64_t> created_versions;   // payload versions written from the template
  std::map<CommitKind, int> counts;
};

// Replays every profile's commits in commit order and checks:
//  - acquisitions bump the epoch by exactly one each (epochs strictly increase);
//  - every save, release and abandon is fenced on the current epoch by the session that acquired
//    it, while the lock is held: the writer held the current epoch at commit, and a session whose
//    epoch was superseded (or that released) never commits again;
//  - payload versions increase by one per payload written.
std::map<std::string, KeyHistory> CheckHistory(std::vector<CommitEvent> events, Violations& v) {
  std::sort(events.begin(), events.end(),
            [](const CommitEvent& a, const CommitEvent& b) { return a.stamp < b.stamp; });
  std::map<std::string, KeyHistory> history;
  uint64_t previous_stamp = 0;
  std::set<std::pair<uint64_t, uint64_t>> acquiring_sessions;  // (incarnation, session id)
  for (const CommitEvent& e : events) {
    std::ostringstream at;
    at << KindName(e.kind) << " of '" << e.key << "' epoch " << e.epoch << " session "
       << e.session_id << " version " << e.version << " stamp " << e.stamp;
    if (e.stamp == 0 || e.stamp == previous_stamp) {
      v.Add("commit without its own BeforeCommit stamp: " + at.str());
    }
    previous_stamp = e.stamp;
    KeyHistory& h = history[e.key];
    ++h.counts[e.kind];
    if (e.kind == CommitKind::kAcquire) {
      if (e.epoch != h.epoch + 1) {
        v.Add("epoch did not increase by one (previous " + std::to_string(h.epoch) +
              "): " + at.str());
      }
      if (!acquiring_sessions.insert({e.incarnation, e.session_id}).second) {
        v.Add("session id acquired twice: " + at.str());
      }
      const bool created = e.version != 0;
      if (created && h.data_exists) {
        v.Add("an acquire created a profile that existed: " + at.str());
      }
      if (!created && !h.data_exists) {
        v.Add("an acquire loaded a profile that has no data: " + at.str());
      }
      if (created) h.created_versions.insert(e.version);
      h.acquires[e.epoch] = {e.session_id, created ? e.version : h.last_version, created};
      h.epoch = e.epoch;
      h.holder = e.session_id;
      h.locked = true;
    } else {
      if (!h.locked) v.Add("commit while no session held the lock: " + at.str());
      if (e.epoch != h.epoch || e.session_id != h.holder) {
        v.Add("commit by a session that does not hold the current epoch " +
              std::to_string(h.epoch) + " (holder session " + std::to_string(h.holder) +
              "): " + at.str());
      }
      if (e.kind == CommitKind::kAbandon && e.version != 0) {
        v.Add("an abandon wrote a payload: " + at.str());
      }
      // A start that fails changes no stored data: giving back a lock whose acquisition created
      // the profile deletes the profile again (only meta's epoch and version counter stay).
      if (e.kind == CommitKind::kAbandon && h.acquires[h.epoch].created) h.data_exists = false;
      if (e.kind != CommitKind::kSave) h.locked = false;
    }
    if (e.version != 0) {
      if (e.version != h.last_version + 1) {
        v.Add("payload version did not increase by one (previous " +
              std::to_string(h.last_version) + "): " + at.str());
      }
      h.last_version = e.version;
      h.last_version_epoch = e.epoch;
      h.data_exists = true;
    }
  }
  return history;
}

// ---------------------------------------------------------------------------------------------
// The random workload.

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
  Violations& violations() { return violations_; }
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
  Violations violations_;
  std::atomic<bool> stop_{false};
  std::mutex all_mu_;
  std::vector<Tracked> all_;       // guarded by all_mu_
  std::vector<LoadRecord> loads_;  // guarded by all_mu_
};

// One thread of the workload. It keeps at most one handle per key; only this thread edits the
// data behind its handles, so it knows exactly what each successful Save() wrote.
class Worker {
 public:
  Worker(World& world, Players players, int id)
      : world_(world),
        players_(std::move(players)),
        id_(id),
        rng_(world.seed() * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(id) + 1) {}

  void Run() {
    for (op_ = 0; op_ < world_.config().ops_per_thread; ++op_) {
      // Mostly work on held profiles (edits, saves), sometimes go for any profile (starts,
      // handoffs and steals between threads).
      int k = Pick(world_.config().keys);
      if (!held_.empty() && Pick(100) < 60) {
        k = std::next(held_.begin(), Pick(static_cast<int>(held_.size())))->first;
      }
      auto it = held_.find(k);
      std::string what;
      if (it == held_.end()) {
        what = "start";
        Start(k);
      } else if (!it->second.handle.IsActive()) {
        what = "using a lost handle";
        ExpectLost(k, it->second.handle, "a handle that lost its session");
        held_.erase(it);
        if (Pick(2) == 0) Start(k);
      } else {
        Held& h = it->second;
        const int r = Pick(100);
        if (r < 35) {
          what = "edit";
          Edit(k, h);
        } else if (r < 55) {
          what = "save";
          Save(k, h);
        } else if (r < 70) {
          what = "edit+save";
          if (Edit(k, h)) Save(k, h);
        } else if (r < 80) {
          what = "end";
          End(k, h);  // may erase h
        } else if (r < 90) {
          what = "restart (handoff from itself)";
          Start(k);
        } else {
          what = "read";
          Read(k, h);
        }
      }
      world_.CheckAtMostOneActive(k, Where(k) + what);
    }
  }

 private:
  struct Held {
    Handle handle;
    std::shared_ptr<SessionWatch> watch;
    uint64_t value;  // the data as this thread last set it
  };

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  std::string Where(int k) const {
    return "thread " + std::to_string(id_) + " op " + std::to_string(op_) + " key '" +
           world_.key(k) + "': ";
  }

  void Violation(int k, const std::string& what) { world_.violations().Add(Where(k) + what); }

  void ExpectCode(int k, const Status& s, std::initializer_list<StatusCode> codes,
                  std::string_view call) {
    if (CodeIn(s, codes)) return;
    Violation(k, std::string(call) + " returned unexpected " + s.ToString());
  }

  uint64_t Parse(int k, std::string_view data) {
    auto value = ParseCounter(data);
    if (!value) {
      Violation(k, "payload is not a counter: '" + std::string(data) + "'");
      return 0;
    }
    return *value;
  }

  void Start(int k) {
    SessionOptions options;
    const int r = Pick(100);
    const bool steal = r < 15;
    const bool short_timeout = r >= 15 && r < 25;
    if (steal) {
      options.steal = true;
      world_.steal_requests.fetch_add(1);
    }
    if (short_timeout) options.timeout = world_.config().short_start_timeout;
    const uint64_t floor = world_.MaxAcked(k);
    auto started = players_.StartSession(world_.key(k), options);
    if (!started.ok()) {
      if (started.status().code() == StatusCode::kAborted) {
        world_.starts_aborted.fetch_add(1);
      } else if (started.status().code() == StatusCode::kTimedOut && short_timeout) {
        world_.starts_timed_out.fetch_add(1);
      } else {
        Violation(k, "StartSession" + std::string(short_timeout ? " (short timeout)" : "") +
                         " returned unexpected " + started.status().ToString());
      }
      return;
    }
    world_.starts_ok.fetch_add(1);
    Handle handle = *started;
    const ProfileInfo info = handle.Info();
    const std::string data = handle.Data();
    const uint64_t value = Parse(k, data);
    if (handle.LastSavedData() != data) {
      Violation(k, "a fresh session's data differs from its last saved data");
    }
    if (value < floor) {
      Violation(k, "acknowledged save lost: the start loaded " + data + " (version " +
                       std::to_string(info.version) + ") but " + std::to_string(floor) +
                       " was acknowledged before it began");
    }
    world_.RecordVersion(k, info.version, value, "load");

    auto watch = std::make_shared<SessionWatch>();
    const bool stubborn = Pick(100) < 10;
    World& world = world_;
    handle.OnSessionEnd([watch](const SessionEnd& end) {
      std::lock_guard lock(watch->mu);
      watch->end = end;
      watch->cv.notify_all();
    });
    // The callback runs inside a save of this session, so the core is alive and its version is
    // the one this save wrote (saves of one session run one at a time).
    internal::LiveSession* core = test::SessionOf(handle.raw());
    handle.OnAfterSave([&world, k, core](const std::string& saved) {
      auto value = ParseCounter(saved);
      if (!value) {
        world.violations().Add("'" + world.key(k) + "' saved a non-counter '" + saved + "'");
        return;
      }
      world.RecordVersion(k, core->Info().version, *value, "after save");
    });
    if (stubborn) {
      // A slow holder: its final save for a handoff waits until the starter gives up waiting and
      // steals (or stubborn_hold passes, or the test stops).
      const milliseconds hold = world_.config().stubborn_hold;
      handle.OnLastSave([watch, &world, hold](EndReason reason) {
        if (reason != EndReason::kExternal) return;
        std::unique_lock lock(watch->mu);
        watch->cv.wait_for(lock, hold, [&] { return watch->end.has_value() || world.stopped(); });
      });
    }

    if (auto it = held_.find(k); it != held_.end()) {
      if (it->second.handle.IsActive()) {
        Violation(k, "the previous handle is still active after a newer start returned");
      }
      ExpectLost(k, it->second.handle, "the handle replaced by a newer start");
      held_.erase(it);
    }
    world_.Track({k, info.epoch, info.session_id, handle, watch, stubborn},
                 {k, info.epoch, info.session_id, info.version, value});
    held_.emplace(k, Held{handle, watch, value});
  }

  // A handle whose session was handed off or stolen: every write fails with LockLost.
  void ExpectLost(int k, Handle& handle, std::string_view what) {
    Status edit = handle.Edit([](std::string& d) { d = "written after the session was lost"; });
    Status save = handle.Save();
    Status end = handle.EndSession();
    for (const Status* s : {&edit, &save, &end}) {
      if (s->code() != StatusCode::kLockLost) {
        Violation(k, "a write through " + std::string(what) + " returned " + s->ToString() +
                         ", expected LockLost");
      }
    }
    world_.lock_lost.fetch_add(1);
  }

  bool Edit(int k, Held& h) {
    uint64_t seen = 0;
    uint64_t now = 0;
    bool parsed = true;
    Status s = h.handle.Edit([&](std::string& d) {
      auto value = ParseCounter(d);
      parsed = value.has_value();
      seen = value.value_or(0);
      now = seen + 1;
      d = std::to_string(now);
    });
    if (!s.ok()) {
      ExpectCode(k, s, {StatusCode::kLockLost}, "Edit");
      return false;
    }
    if (!parsed) Violation(k, "the data under an active handle is not a counter");
    if (seen != h.value) {
      Violation(k, "the data under this thread's handle changed behind it: " +
                       std::to_string(seen) + " instead of " + std::to_string(h.value));
    }
    h.value = now;
    return true;
  }

  void Save(int k, Held& h) {
    Status s = h.handle.Save();
    if (!s.ok()) {
      ExpectCode(k, s, {StatusCode::kLockLost}, "Save");
      return;
    }
    world_.saves_acked.fetch_add(1);
    world_.Ack(k, h.value);
  }

  void End(int k, Held& h) {
    Status s = h.handle.EndSession();
    if (!s.ok()) {
      ExpectCode(k, s, {StatusCode::kLockLost}, "EndSession");
      return;
    }
    world_.ends_acked.fetch_add(1);
    world_.Ack(k, h.value);
    {
      std::lock_guard lock(h.watch->mu);
      h.watch->end_session_ok = true;
    }
    if (h.handle.IsActive()) Violation(k, "active after EndSession returned OK");
    ExpectCode(k, h.handle.EndSession(), {StatusCode::kOk}, "a second EndSession");
    ExpectCode(k, h.handle.Save(), {StatusCode::kLockLost}, "Save after EndSession");
    ExpectCode(k, h.handle.Edit([](std::string& d) { d = "after end"; }), {StatusCode::kLockLost},
               "Edit after EndSession");
    if (h.handle.Data() != std::to_string(h.value)) {
      Violation(k, "the data changed after EndSession");
    }
    held_.erase(k);
  }

  void Read(int k, Held& h) {
    const std::string data = h.handle.Data();
    if (data != std::to_string(h.value)) {
      Violation(k, "Data() is '" + data + "', this thread set " + std::to_string(h.value));
    }
    const uint64_t saved = Parse(k, h.handle.LastSavedData());
    if (saved > h.value) {
      Violation(k, "the last saved data " + std::to_string(saved) + " is ahead of the data " +
                       std::to_string(h.value));
    }
  }

  World& world_;
  Players players_;
  const int id_;
  std::mt19937_64 rng_;
  int op_ = 0;
  std::map<int, Held> held_;
};

// The stored meta and payload record of a profile, read straight from storage.
std::optional<internal::ProfileMeta> StoredMeta(Engine& engine, const std::string& key) {
  std::string bytes;
  Status s = test::StorageOf(engine).Get(internal::Family::kMeta,
                                         internal::EncodeProfileKey(kStore, key), &bytes);
  if (!s.ok()) return std::nullopt;
  auto meta = internal::DecodeProfileMeta(bytes);
  if (!meta.ok()) return std::nullopt;
  return *meta;
}

std::optional<internal::ProfileRecord> StoredRecord(Engine& engine, const std::string& key) {
  std::string bytes;
  Status s = test::StorageOf(engine).Get(internal::Family::kData,
                                         internal::EncodeProfileKey(kStore, key), &bytes);
  if (!s.ok()) return std::nullopt;
  auto record = internal::DecodeProfileRecord(bytes);
  if (!record.ok()) return std::nullopt;
  return *record;
}

StoreOptions<std::string> StressStoreOptions(const StressConfig& config) {
  StoreOptions<std::string> options;
  options.template_value = "0";
  options.autosave_period = config.autosave_period;
  options.handoff_timeout = config.handoff_timeout;
  options.start_timeout = config.start_timeout;
  return options;
}

TEST(SessionConcurrency, RandomStartEditSaveEndHandoffAndStealKeepTheLockInvariants) {
  const uint64_t seed = SeedFromEnvironment();
  std::cout << "[   SEED   ] HOLDFAST_SEED=" << seed << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("HOLDFAST_SEED=" + std::to_string(seed));
  const StressConfig config;
  World world(seed, config);

  auto volume = MemoryVolume::Create();
  auto log = std::make_shared<CommitLog>();
  EngineOptions options;
  options.memory_volume = volume;
  options.fault_hooks = log;
  options.conflict_buckets = 1024;
  options.worker_threads = 3;
  auto opened = Engine::Open("/concurrency", options);
  ASSERT_OK(opened);
  std::unique_ptr<Engine> engine = std::move(*opened);
  auto players = engine->OpenStore<BytesCodec>(kStore, StressStoreOptions(config));
  ASSERT_OK(players);

  // --- The workload.
  const auto began = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < config.threads; ++i) {
    workers.push_back(std::make_unique<Worker>(world, *players, i));
  }
  std::latch go(config.threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < config.threads; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      workers[i]->Run();
    });
  }
  for (auto& t : threads) t.join();
  const auto ran_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began);
  const EngineStats stats = engine->Stats();
  std::cout << "[  STATS   ] " << ran_ms.count() << " ms; starts ok " << world.starts_ok
            << ", aborted " << world.starts_aborted << ", timed out " << world.starts_timed_out
            << ", steal requests " << world.steal_requests << "; saves acked " << world.saves_acked
            << ", ends acked " << world.ends_acked << ", lost handles checked " << world.lock_lost
            << "; engine: handoffs " << stats.handoffs << ", steals " << stats.steals << ", saves "
            << stats.saves << ", saves skipped " << stats.saves_skipped << ", conflicts retried "
            << stats.conflicts_retried << ", active " << stats.active_sessions << std::endl;
  // The workload must have exercised what it is about.
  EXPECT_GT(stats.handoffs, 0u);
  EXPECT_GT(stats.steals, 0u);
  EXPECT_GT(world.starts_ok.load(), config.threads);
  EXPECT_EQ(stats.orphans_taken_over, 0u);
  EXPECT_EQ(stats.io_errors, 0u);

  // --- Close: every live session makes its final save and ends with "shutdown".
  world.Stop();
  ASSERT_OK(engine->Close());
  EXPECT_CODE(players->StartSession(world.key(0)), kClosed);

  std::set<uint64_t> released_sessions;  // sessions whose final save committed
  for (const CommitEvent& e : log->Events()) {
    if (e.kind == CommitKind::kRelease) released_sessions.insert(e.session_id);
  }
  std::map<int, std::string> shutdown_data;  // what the sessions that Close ended held
  int stolen_stubborn = 0;
  for (Tracked& t : world.AllTracked()) {
    std::optional<SessionEnd> end;
    bool end_session_ok = false;
    {
      std::lock_guard lock(t.watch->mu);
      end = t.watch->end;
      end_session_ok = t.watch->end_session_ok;
    }
    const std::string who = "'" + world.key(t.key) + "' epoch " + std::to_string(t.epoch);
    if (t.handle.IsActive()) world.violations().Add(who + " is active after Close");
    if (!end) {
      world.violations().Add(who + ": OnSessionEnd never fired");
      continue;
    }
    if (end_session_ok && end->reason != EndReason::kManual) {
      world.violations().Add(who + ": EndSession returned OK but OnSessionEnd reported '" +
                             std::string(EndReasonName(end->reason)) + "' (" + end->detail + ")");
    }
    StatusCode save_code = StatusCode::kLockLost;
    StatusCode end_code = StatusCode::kLockLost;
    StatusCode edit_code = StatusCode::kLockLost;
    switch (end->reason) {
      case EndReason::kShutdown:
        save_code = end_code = edit_code = StatusCode::kClosed;
        if (end->unsaved_changes) world.violations().Add(who + ": Close left unsaved changes");
        if (shutdown_data.count(t.key)) {
          world.violations().Add(who + ": Close ended two sessions of one key");
        }
        shutdown_data[t.key] = t.handle.Data();
        break;
      case EndReason::kManual:
        end_code = StatusCode::kOk;
        break;
      case EndReason::kExternal:
        if (end->unsaved_changes) world.violations().Add(who + ": a handoff left unsaved changes");
        break;
      case EndReason::kStolen:
        if (t.stubborn) ++stolen_stubborn;
        if (released_sessions.count(t.session_id)) {
          world.violations().Add(who + ": OnSessionEnd reported 'stolen' (" + end->detail +
                                 ") but the session's final save committed and released the lock");
        }
        break;
      case EndReason::kLockLost:
        world.violations().Add(who + ": ended with LockLost though nothing but this engine wrote");
        break;
    }
    Status save = t.handle.Save();
    Status end_again = t.handle.EndSession();
    Status edit = t.handle.Edit([](std::string& d) { d = "after close"; });
    if (save.code() != save_code || end_again.code() != end_code ||
        edit.code() != edit_code) {
      world.violations().Add(who + " (ended '" + std::string(EndReasonName(end->reason)) +
                             "'): after Close Save " + save.ToString() + ", EndSession " +
                             end_again.ToString() + ", Edit " + edit.ToString());
    }
  }
  std::cout << "[  STATS   ] stubborn holders stolen after the handoff timeout: " << stolen_stubborn
            << std::endl;

  // --- The stored state, read with a new engine on the same volume.
  engine.reset();
  Violations replayed_twice;  // the full history is checked (and reported) at the end
  std::map<std::string, KeyHistory> before_reopen = CheckHistory(log->Events(), replayed_twice);
  log->NextIncarnation();
  opened = Engine::Open("/concurrency", options);
  ASSERT_OK(opened);
  engine = std::move(*opened);
  players = engine->OpenStore<BytesCodec>(kStore, StressStoreOptions(config));
  ASSERT_OK(players);
  for (int k = 0; k < config.keys; ++k) {
    SCOPED_TRACE("key " + world.key(k));
    auto it = before_reopen.find(world.key(k));
    ASSERT_NE(it, before_reopen.end()) << "no commit at all";
    const KeyHistory& h = it->second;
    EXPECT_FALSE(h.locked) << "the history ends with the lock held";
    auto meta = StoredMeta(*engine, world.key(k));
    auto record = StoredRecord(*engine, world.key(k));
    ASSERT_TRUE(meta.has_value());
    EXPECT_FALSE(meta->lock.has_value()) << "Close left a lock behind";
    EXPECT_EQ(meta->epoch, h.epoch);
    EXPECT_EQ(meta->last_version, h.last_version);
    auto values = world.ValuesAtVersions(k);
    // Without a record (every start that created the profile was abandoned) the next start
    // creates it again from the template.
    ASSERT_EQ(record.has_value(), h.data_exists);
    std::string stored_payload = "0";
    uint64_t expected_version = h.last_version + 1;
    if (record) {
      stored_payload = record->payload;
      expected_version = h.last_version;
      EXPECT_EQ(record->version, h.last_version);
      EXPECT_EQ(record->epoch, h.last_version_epoch);
      if (auto v = values.find(h.last_version); v != values.end()) {
        EXPECT_EQ(stored_payload, std::to_string(v->second))
            << "the stored payload is not the last one committed";
      }
    }
    auto stored = ParseCounter(stored_payload);
    ASSERT_TRUE(stored.has_value()) << stored_payload;
    EXPECT_GE(*stored, world.MaxAcked(k)) << "an acknowledged save was lost";
    if (auto s = shutdown_data.find(k); s != shutdown_data.end()) {
      EXPECT_EQ(stored_payload, s->second) << "Close's final save is not what is stored";
    }
    // Committed payloads only grow: each session loads the latest commit and counts up from it.
    // A version created from the template holds "0" (it follows only an abandoned creation).
    uint64_t previous_version = 0;
    uint64_t previous_value = 0;
    for (auto [version, value] : values) {
      if (h.created_versions.count(version)) {
        if (value != 0) {
          world.violations().Add("'" + world.key(k) + "' version " + std::to_string(version) +
                                 " was created from the template but holds " +
                                 std::to_string(value));
        }
      } else if (previous_version != 0 && value <= previous_value) {
        world.violations().Add("'" + world.key(k) + "' version " + std::to_string(version) +
                               " holds " + std::to_string(value) + ", not more than version " +
                               std::to_string(previous_version) + "'s " +
                               std::to_string(previous_value));
      }
      previous_version = version;
      previous_value = value;
    }

    // A fresh start loads exactly the last commit.
    auto profile = players->StartSession(world.key(k));
    ASSERT_OK(profile);
    const ProfileInfo info = profile->Info();
    EXPECT_EQ(profile->Data(), stored_payload);
    EXPECT_EQ(info.version, expected_version);
    EXPECT_EQ(info.epoch, h.epoch + 1);
    EXPECT_EQ(info.load_count, meta->load_count + 1);
    world.AddLoad({k, info.epoch, info.session_id, info.version, *stored});
    EXPECT_OK(profile->EndSession());
  }
  EXPECT_EQ(engine->Stats().orphans_taken_over, 0u);
  ASSERT_OK(engine->Close());

  // --- The whole history, and every start against it.
  std::map<std::string, KeyHistory> history = CheckHistory(log->Events(), world.violations());
  for (const LoadRecord& load : world.Loads()) {
    const std::string who =
        "start of '" + world.key(load.key) + "' at epoch " + std::to_string(load.epoch);
    const KeyHistory& h = history[world.key(load.key)];
    auto a = h.acquires.find(load.epoch);
    if (a == h.acquires.end()) {
      world.violations().Add(who + ": no acquire commit with that epoch");
      continue;
    }
    if (a->second.session_id != load.session_id) {
      world.violations().Add(who + ": acquired by session " + std::to_string(a->second.session_id) +
                             ", the handle says " + std::to_string(load.session_id));
    }
    if (a->second.loaded_version != load.version) {
      world.violations().Add(who + ": loaded version " + std::to_string(load.version) +
                             " but the latest commit before it was version " +
                             std::to_string(a->second.loaded_version));
    }
  }
  // --- Every ended handle against what the next session of its key loaded (judged from the
  // handles, not from the engine's reports). A handle that ended by its own final save
  // (EndSession, handoff, rollback) without unsaved changes held exactly what the next start
  // loaded: an Edit that returned OK is never dropped. A stolen handle's stored data is its
  // last saved data, and it reports unsaved changes exactly when it held something else.
  std::map<int, std::map<uint64_t, uint64_t>> loaded_at;  // key -> epoch -> value loaded
  for (const LoadRecord& load : world.Loads()) loaded_at[load.key][load.epoch] = load.value;
  int ended_handles_compared = 0;
  for (Tracked& t : world.AllTracked()) {
    std::optional<SessionEnd> end;
    {
      std::lock_guard lock(t.watch->mu);
      end = t.watch->end;
    }
    if (!end || end->reason == EndReason::kShutdown) continue;  // shutdown: checked above
    const std::string who = "'" + world.key(t.key) + "' epoch " + std::to_string(t.epoch) +
                            " (ended '" + std::string(EndReasonName(end->reason)) + "'): ";
    const std::string held = t.handle.Data();
    const std::string last_saved = t.handle.LastSavedData();
    auto next = loaded_at[t.key].upper_bound(t.epoch);
    if (next == loaded_at[t.key].end()) {
      world.violations().Add(who + "no later start loaded the key");
      continue;
    }
    const std::string loaded = std::to_string(next->second);
    ++ended_handles_compared;
    if (end->reason == EndReason::kStolen) {
      if (end->unsaved_changes != (held != last_saved)) {
        world.violations().Add(who + "unsaved_changes is " + std::to_string(end->unsaved_changes) +
                               " but the handle holds " + held + " and last saved " + last_saved);
      }
      if (loaded != last_saved) {
        world.violations().Add(who + "the next start (epoch " + std::to_string(next->first) +
                               ") loaded " + loaded + ", the handle last saved " + last_saved);
      }
    } else {
      if (end->unsaved_changes) world.violations().Add(who + "its final save left unsaved changes");
      if (loaded != held) {
        world.violations().Add(who + "the next start (epoch " + std::to_string(next->first) +
                               ") loaded " + loaded + " but the handle held " + held +
                               " (an acknowledged edit was dropped)");
      }
    }
  }
  std::cout << "[  STATS   ] ended handles compared with the next load: " << ended_handles_compared
            << std::endl;
  EXPECT_GT(ended_handles_compared, config.threads) << "the workload ended almost no session";

  std::ostringstream counts;
  for (const auto& [key, h] : history) {
    counts << " " << key << "{epochs " << h.epoch << ", versions " << h.last_version;
    for (auto [kind, n] : h.counts) counts << ", " << KindName(kind) << " " << n;
    counts << "}";
  }
  std::cout << "[  STATS   ] commits:" << counts.str() << std::endl;
  EXPECT_EQ(world.violations().count(), 0u) << world.violations().Report();
}

// Group commit: concurrent synced saves of different profiles all land (they share WAL syncs
// rather than serialising on one thread). Correctness only; no timing is asserted.
TEST(SessionConcurrency, ConcurrentSyncedSavesAllLandAndReload) {
  constexpr int kThreads = 16;
  constexpr int kSavesEach = 20;
  TempDir dir;
  const std::string path = dir.Sub("db");
  EngineOptions options;
  options.sync_writes = true;
  options.conflict_buckets = 1024;
  options.worker_threads = 4;
  StoreOptions<std::string> store_options;
  store_options.template_value = "0";
  store_options.autosave_period = std::chrono::hours(1);  // only the test's own saves write

  {
    auto engine = Engine::Open(path, options);
    ASSERT_OK(engine);
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, store_options);
    ASSERT_OK(players);
    std::vector<Handle> profiles;
    for (int i = 0; i < kThreads; ++i) {
      auto profile = players->StartSession("p" + std::to_string(i));
      ASSERT_OK(profile);
      profiles.push_back(*profile);
    }
    const EngineStats before = (*engine)->Stats();
    std::latch go(kThreads);
    std::vector<std::vector<Status>> results(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        for (int j = 1; j <= kSavesEach; ++j) {
          results[i].push_back(profiles[i].Edit([j](std::string& d) { d = std::to_string(j); }));
          results[i].push_back(profiles[i].Save());
        }
        results[i].push_back(profiles[i].EndSession());
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      ASSERT_EQ(results[i].size(), 2u * kSavesEach + 1);
      for (const Status& s : results[i]) EXPECT_OK(s) << "thread " << i;
      EXPECT_FALSE(profiles[i].IsActive());
      EXPECT_EQ(profiles[i].LastSavedData(), std::to_string(kSavesEach));
      EXPECT_EQ(profiles[i].Info().version, 1u + kSavesEach);
    }
    const EngineStats after = (*engine)->Stats();
    // Every save wrote a new payload; every end released the lock.
    EXPECT_EQ(after.saves - before.saves, uint64_t{kThreads} * (kSavesEach + 1));
    EXPECT_EQ(after.saves_skipped, before.saves_skipped);
    EXPECT_EQ(after.io_errors, 0u);
    EXPECT_EQ(after.active_sessions, 0u);
    ASSERT_OK((*engine)->Close());
  }

  auto engine = Engine::Open(path, options);
  ASSERT_OK(engine);
  auto players = (*engine)->OpenStore<BytesCodec>(kStore, store_options);
  ASSERT_OK(players);
  for (int i = 0; i < kThreads; ++i) {
    auto profile = players->StartSession("p" + std::to_string(i));
    ASSERT_OK(profile);
    EXPECT_EQ(profile->Data(), std::to_string(kSavesEach));
    EXPECT_EQ(profile->Info().version, 1u + kSavesEach);
    EXPECT_EQ(profile->Info().epoch, 2u);
    EXPECT_EQ(profile->Info().load_count, 2u);
    EXPECT_OK(profile->EndSession());
  }
  EXPECT_EQ((*engine)->Stats().orphans_taken_over, 0u);
  ASSERT_OK((*engine)->Close());
}

}  // namespace
}  // namespace holdfast::test
