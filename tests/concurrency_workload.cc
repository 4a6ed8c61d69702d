#include "concurrency_workload.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <latch>
#include <random>
#include <thread>
#include <utility>

#include "internals.h"

namespace holdfast::test::stress {
namespace {

bool CodeIn(const Status& s, std::initializer_list<StatusCode> codes) {
  return std::find(codes.begin(), codes.end(), s.code()) != codes.end();
}

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

}  // namespace

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

std::optional<uint64_t> ParseCounter(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

StoreOptions<std::string> StressStoreOptions(const StressConfig& config) {
  StoreOptions<std::string> options;
  options.template_value = "0";
  options.autosave_period = config.autosave_period;
  options.handoff_timeout = config.handoff_timeout;
  options.start_timeout = config.start_timeout;
  return options;
}

void RunWorkload(World& world, const Players& players) {
  const int threads = world.config().threads;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) workers.push_back(std::make_unique<Worker>(world, players, i));
  std::latch go(threads);
  std::vector<std::thread> running;
  for (int i = 0; i < threads; ++i) {
    running.emplace_back([&, i] {
      go.arrive_and_wait();
      workers[i]->Run();
    });
  }
  for (auto& t : running) t.join();
}

}  // namespace holdfast::test::stress
