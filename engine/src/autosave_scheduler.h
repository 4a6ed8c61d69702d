// AutosaveScheduler: saves every live session once per auto-save period. One thread keeps the
// schedule and hands due saves to the worker pool; a session is rescheduled after its save for
// as long as it stays active. First saves are spread evenly over the period.
//
// The scheduler knows sessions only as AutosaveTargets, held weakly: a session that ended (or
// was dropped) simply falls out of the schedule.
//
// Thread safety: thread-safe. mu_ is a leaf; targets are saved on worker threads without it.
#ifndef HOLDFAST_SRC_AUTOSAVE_SCHEDULER_H_
#define HOLDFAST_SRC_AUTOSAVE_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "executor.h"
#include "holdfast/clock.h"
#include "holdfast/status.h"
#include "mutex.h"

namespace holdfast::internal {

// What the scheduler needs of a session.
class AutosaveTarget {
 public:
  virtual ~AutosaveTarget() = default;
  virtual Status AutoSave() = 0;  // failures are reported by the session and retried next period
  virtual bool IsActive() const = 0;
  virtual Clock::Duration AutosavePeriod() const = 0;
};

class AutosaveScheduler {
 public:
  AutosaveScheduler(const Clock& clock, Executor& workers);
  ~AutosaveScheduler();
  AutosaveScheduler(const AutosaveScheduler&) = delete;
  AutosaveScheduler& operator=(const AutosaveScheduler&) = delete;

  // Schedules the first auto-save of a new session: `spread_key` (its session id) places it in
  // the period along the golden-ratio sequence, which fills the period evenly whatever the order
  // of starts.
  void Add(const std::shared_ptr<AutosaveTarget>& target, uint64_t spread_key);
  // Forgets `target` (a session that ended), so nothing is kept for it. A save of it already
  // handed to a worker still runs (and finds the session ended).
  void Remove(const AutosaveTarget* target);
  // Sessions in the schedule (for tests: nothing is kept for ended sessions).
  size_t Size();

  // For tests on a fake clock: blocks until every auto-save due at or before the clock's current
  // time has been dispatched and has finished.
  void WaitIdle();

  // Drops the schedule and joins the thread; saves already handed to the workers finish there.
  // Idempotent.
  void Stop();

 private:
  struct Entry {
    std::weak_ptr<AutosaveTarget> target;
    const AutosaveTarget* id;  // the target's address, for Remove (never dereferenced)
  };

  void Schedule(Entry entry, Clock::Duration due);
  void Loop();

  const Clock& clock_;
  Executor& workers_;

  Mutex mu_{LockLevel::kLeaf};
  std::condition_variable changed_;
  std::condition_variable idle_;
  using Timeline = std::multimap<Clock::Duration, Entry>;
  Timeline schedule_ GUARDED_BY(mu_);
  // Where each target sits in schedule_.
  std::unordered_map<const AutosaveTarget*, Timeline::iterator> index_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  int in_flight_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_AUTOSAVE_SCHEDULER_H_
