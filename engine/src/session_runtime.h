// SessionRuntime: the engine-wide machinery of sessions — session ids, the worker pool, the
// auto-save schedule, the registry of active sessions (for Close), statistics and the critical
// state. Stores and sessions hold it by shared_ptr, so handles that outlive the Engine still find
// it; after Shutdown() it refuses all work and never touches storage again.
//
// Lock order: StoreCore::mu_ before SessionRuntime::mu_; schedule_mu_ is a leaf.
#ifndef HOLDFAST_SRC_SESSION_RUNTIME_H_
#define HOLDFAST_SRC_SESSION_RUNTIME_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "executor.h"
#include "holdfast/options.h"
#include "holdfast/session.h"
#include "holdfast/stats.h"
#include "holdfast/store.h"
#include "latency_histogram.h"
#include "profile_transactions.h"
#include "storage.h"

namespace holdfast::internal {

class EngineCore;
class SessionCore;
class StoreCore;

struct SessionCounters {
  std::atomic<uint64_t> starts{0};
  std::atomic<uint64_t> saves{0};
  std::atomic<uint64_t> saves_skipped{0};
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> conflicts_retried{0};
  std::atomic<uint64_t> handoffs{0};
  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> orphans_taken_over{0};
  std::atomic<uint64_t> io_errors{0};
  std::atomic<uint64_t> critical_state_entries{0};
  std::atomic<uint64_t> corruptions_repaired{0};
  std::atomic<uint64_t> rollbacks{0};
  LatencyHistogram start_latency;
  LatencyHistogram save_latency;
};

class SessionRuntime : public std::enable_shared_from_this<SessionRuntime> {
 public:
  SessionRuntime(Storage* storage, const EngineOptions& options, std::shared_ptr<Clock> clock,
                 uint64_t incarnation);
  ~SessionRuntime();

  // Constant after construction.
  Clock& clock() const { return *clock_; }
  const EngineOptions& options() const { return options_; }
  uint64_t incarnation() const { return incarnation_; }
  SessionCounters& counters() { return counters_; }
  Storage& storage() const { return *storage_; }
  // A context for one profile transaction, stamped with the current wall time.
  TransactionContext Context();

  uint64_t NextSessionId() { return next_session_id_.fetch_add(1) + 1; }

  // InvalidArgument when a store's timing settings are out of range.
  static Status ValidateSettings(const StoreSettings& settings);
  // The store named `name`, created on first use. InvalidArgument when it is open with another
  // codec or the settings are out of range; Closed after Shutdown.
  Result<std::shared_ptr<StoreCore>> OpenStore(const std::string& name, const std::string& codec,
                                               const StoreSettings& settings,
                                               PayloadValidator check);

  // Starts in flight: BeginStart returns false once shutdown began; Shutdown waits for EndStart.
  bool BeginStart();
  void EndStart();
  bool closing() const { return closing_.load(); }

  // Active sessions: Register schedules auto-saves; Unregister is called when a session ends.
  void Register(const std::shared_ptr<SessionCore>& session);
  void Unregister(SessionCore* session);

  // Runs `task` on a worker; false after shutdown.
  bool Submit(std::function<void()> task) { return executor_.Submit(std::move(task)); }

  // Accounts a storage result for the critical state and the error counters.
  void RecordStorageResult(const Status& s);
  void ReportOrphan(const OrphanTakeover& orphan);

  EngineStats Stats() const;

  // For tests on a fake clock: blocks until every auto-save due at or before the clock's current
  // time has been dispatched and has finished.
  void WaitAutosaveIdle();

  // Ends every session with a final save (OnLastSave("shutdown")), waits for them, stops the
  // auto-saver and the workers. Returns the first failure. Idempotent.
  Status Shutdown();

 private:
  void AutosaveLoop();
  void ScheduleAutosave(const std::shared_ptr<SessionCore>& session, Clock::Duration due);

  // Constant after construction.
  Storage* const storage_;
  const EngineOptions options_;
  const std::shared_ptr<Clock> clock_;
  const uint64_t incarnation_;

  std::atomic<uint64_t> next_session_id_{0};
  std::atomic<bool> closing_{false};
  SessionCounters counters_;
  Executor executor_;

  mutable std::mutex mu_;
  std::condition_variable starts_done_;
  int starts_in_flight_ = 0;                                   // guarded by mu_
  std::map<std::string, std::shared_ptr<StoreCore>> stores_;   // guarded by mu_
  std::map<SessionCore*, std::weak_ptr<SessionCore>> active_;  // guarded by mu_
  std::deque<Clock::Duration> recent_errors_;                  // guarded by mu_
  bool critical_ = false;                                      // guarded by mu_
  bool shut_down_ = false;                                     // guarded by mu_

  std::mutex schedule_mu_;
  std::condition_variable schedule_cv_;
  std::multimap<Clock::Duration, std::weak_ptr<SessionCore>> schedule_;  // guarded by schedule_mu_
  bool stop_autosave_ = false;                                           // guarded by schedule_mu_
  int autosaves_in_flight_ = 0;                                          // guarded by schedule_mu_
  std::condition_variable idle_cv_;
  std::thread autosave_thread_;
};

// Counts an operation that may touch storage as in flight (Shutdown waits for it) for its scope.
class InFlightGuard {
 public:
  explicit InFlightGuard(SessionRuntime& rt) : rt_(rt), admitted_(rt.BeginStart()) {}
  ~InFlightGuard() {
    if (admitted_) rt_.EndStart();
  }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;
  // False once the engine is closing: the operation must return Closed without touching storage.
  bool admitted() const { return admitted_; }

 private:
  SessionRuntime& rt_;
  const bool admitted_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_SESSION_RUNTIME_H_
