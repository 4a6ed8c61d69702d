// CriticalState: decides when the engine is in the critical state (storage failing repeatedly:
// at least `critical_error_threshold` I/O errors within `critical_window`) and when it leaves it
// (the next storage success), and tells the game through EngineOptions::on_critical_state.
//
// Thread safety: thread-safe. mu_ is a leaf; the callback runs without it.
#ifndef HOLDFAST_SRC_CRITICAL_STATE_H_
#define HOLDFAST_SRC_CRITICAL_STATE_H_

#include <deque>
#include <functional>
#include <mutex>

#include "engine_counters.h"
#include "holdfast/clock.h"
#include "holdfast/options.h"
#include "holdfast/status.h"
#include "mutex.h"

namespace holdfast::internal {

class CriticalState {
 public:
  // `on_exception` is called from inside the catch block when on_critical_state throws.
  CriticalState(const EngineOptions& options, const Clock& clock, EngineCounters& counters,
                std::function<void()> on_exception)
      : options_(options),
        clock_(clock),
        counters_(counters),
        on_exception_(std::move(on_exception)) {}

  // Accounts the result of a storage operation: IOError and ResourceExhausted count as storage
  // errors; any other failure (LockLost, Corruption, ...) is not storage trouble and is ignored.
  void Record(const Status& s);
  bool critical() const;

 private:
  const EngineOptions& options_;
  const Clock& clock_;
  EngineCounters& counters_;
  const std::function<void()> on_exception_;

  mutable Mutex mu_{LockLevel::kLeaf};
  std::deque<Clock::Duration> recent_errors_ GUARDED_BY(mu_);
  bool critical_ GUARDED_BY(mu_) = false;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_CRITICAL_STATE_H_
