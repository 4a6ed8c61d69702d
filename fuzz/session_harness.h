// The process-wide engine of the operation-sequence fuzzer (fuzz/session_driver.cc).
//
// Opening an engine costs ~11 ms (~40-120 ms under ASan: RocksDB writes and re-parses its OPTIONS
// file), so one engine serves many inputs: each input uses fresh profile keys and ends all its
// sessions, and the in-memory volume is replaced every kInputsPerVolume inputs to bound memory.
//
// Every commit of a profile transaction (acquire, save, release, abandon, rollback; from any
// engine thread) passes the engine's one hook slot, which holds the shared commit log
// (tests/support/history_oracle.h) wrapping the fuzzer's fault hooks (FuzzHooks). The log records
// every successful commit with its commit order, so that the driver can check every profile a
// commit touched without re-reading the ones nothing touched, and replay each input's history
// against the lock's rules; FuzzHooks inject the failures the input armed (kFault): an IOError
// or ResourceExhausted, or Busy conflicts, on the next commits of one kind on one profile.
//
// Time is a FuzzClock: a fake clock that moves only when the driver says so, with one extra: one
// thread (a start or rollback waiting for a holder whose final save failed) can be shown a clock
// ahead of everyone else's, so that its handoff timeout passes while no auto-save becomes due.
//
// Not thread-safe: one fuzzing thread calls it; the hooks and the clock are used by engine threads.
#ifndef HOLDFAST_FUZZ_SESSION_HARNESS_H_
#define HOLDFAST_FUZZ_SESSION_HARNESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "holdfast/holdfast.h"
#include "holdfast/hooks.h"
#include "history_oracle.h"

namespace holdfast::fuzz {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

inline constexpr const char* kStoreName = "Fuzz";
inline const std::string kTemplate = "new-player";
// Retention of the fuzzed store: few enough that inputs of a few dozen operations prune.
inline constexpr uint32_t kKeepNewest = 4;
// Engine workers: one per profile of an input (session_driver.h, kKeys), so that an input's
// auto-saves and shutdown saves all run at once. Each profile's outcome is still determined by
// the input (faults are armed per profile); only the order in which their results reach the
// critical-state accounting is not, and the driver's model allows every order (see there).
inline constexpr int kWorkerThreads = 3;
// The store's handoff timeout: how far a FuzzClock moves a waiting starter's time when the
// holder's final save failed, so that it steals.
inline constexpr std::chrono::milliseconds kHandoffTimeout{5'000};
// The engine's critical state: kCriticalThreshold storage errors within kCriticalWindow. The
// window is shorter than kAutosavePeriod (session_driver.h), so errors before an auto-save no
// longer count after it; each input starts with no error in the window (Harness::Settle).
inline constexpr int kCriticalThreshold = 3;
inline constexpr std::chrono::milliseconds kCriticalWindow{500};

// A fake clock (holdfast/clock.h FakeClock: moves only on Advance; waits return within 2 ms of
// real time so waiters re-check it) whose monotonic time can run ahead for marked threads.
class FuzzClock final : public Clock {
 public:
  int64_t WallUnixMillis() const override { return wall_ms_.load(); }
  Duration Monotonic() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline) const override;

  // Moves every thread's clocks forward by `d`, the wall clock first (as FakeClock does).
  void Advance(Duration d);
  // Monotonic() of marked threads reads `ahead` later than everyone else's (0: the same).
  void SetAhead(Duration ahead) { ahead_ns_.store(ahead.count()); }
  // Marks or unmarks the calling thread. FuzzHooks unmark a thread at its next commit, so that
  // a session it starts schedules its auto-saves on the common clock.
  static void MarkThisThread(bool marked);

 private:
  std::atomic<int64_t> wall_ms_{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  std::atomic<int64_t> mono_ns_{0};
  std::atomic<int64_t> ahead_ns_{0};
};

// A failure armed for the next commits of one kind on one profile.
struct InjectedFault {
  // kIOError or kResourceExhausted: each of the next `commits` commits fails with it (nothing
  // is written). kBusy: each of the next `commits` commits meets `busy` conflicts: the engine
  // retries it, so it commits after them when `busy` is below kDefaultTransactionAttempts and
  // fails with Busy when it is that many.
  StatusCode code = StatusCode::kOk;
  int commits = 0;
  int busy = 0;
};

class FuzzHooks final : public FaultHooks {
 public:
  Status BeforeCommit(const CommitPoint& point) override;

  // Replaces what is armed for `kind` on `key`.
  void Arm(const std::string& key, CommitKind kind, const InjectedFault& fault);
  void DisarmAll();
  // Failures returned by BeforeCommit so far (each Busy counts once).
  uint64_t injected() const { return injected_.load(); }

 private:
  struct Armed {
    InjectedFault fault;
    int busy_seen = 0;  // conflicts already given to the current commit
  };
  std::mutex mu_;
  std::map<std::pair<std::string, CommitKind>, Armed> armed_;  // guarded by mu_
  std::atomic<uint64_t> injected_{0};
};

class Harness {
 public:
  // The one harness of the process. Never destroyed: an atexit handler closes the engine before
  // RocksDB's own statics go away.
  static Harness& Get();

  // Called before every input: opens the engine, on a fresh volume when the old one is full.
  void BeginInput();
  // Engine::Close() must have been called; opens the same volume again.
  void Reopen();
  // After an input that met storage errors: disarms every fault, leaves the critical state (a
  // successful commit on a profile of no input) and lets the errors age out of the critical
  // window (the clock moves kCriticalWindow on; no session is active then), so that every input
  // starts as it would in a fresh process.
  void Settle();

  Engine& engine() { return *engine_; }
  Players& players() { return *players_; }
  FuzzClock& clock() { return *clock_; }
  FuzzHooks& hooks() { return *hooks_; }
  // Every commit on the fuzzed store since the driver last cleared it (at each input's start).
  test::CommitLog& commit_log() { return *commit_log_; }
  uint64_t input_number() const { return input_number_; }
  uint64_t orphan_reports() const { return orphan_reports_.load(); }
  // on_critical_state calls, with true and with false, since the process started.
  uint64_t critical_entered_calls() const { return critical_calls_[1].load(); }
  uint64_t critical_left_calls() const { return critical_calls_[0].load(); }

 private:
  Harness() = default;
  void Open();
  void Shutdown();

  const std::shared_ptr<FuzzClock> clock_ = std::make_shared<FuzzClock>();
  const std::shared_ptr<FuzzHooks> hooks_ = std::make_shared<FuzzHooks>();
  const std::shared_ptr<test::CommitLog> commit_log_ =
      std::make_shared<test::CommitLog>(kStoreName, hooks_);
  std::shared_ptr<MemoryVolume> volume_;
  std::unique_ptr<Engine> engine_;
  std::optional<Players> players_;
  uint64_t inputs_on_volume_ = 0;
  uint64_t input_number_ = 0;
  // Written on starting threads: the fuzzing thread, or one a waiting start runs on.
  std::atomic<uint64_t> orphan_reports_{0};
  std::atomic<uint64_t> critical_calls_[2] = {0, 0};
  bool exit_handler_ = false;
};

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_SESSION_HARNESS_H_
