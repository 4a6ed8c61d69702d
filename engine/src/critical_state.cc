#include "critical_state.h"

#include <functional>

namespace holdfast::internal {

void CriticalState::Record(const Status& s) {
  const bool storage_error =
      s.code() == StatusCode::kIOError || s.code() == StatusCode::kResourceExhausted;
  if (!storage_error && !s.ok()) return;
  std::function<void(bool)> notify;
  bool now_critical = false;
  {
    MutexLock lock(mu_);
    const Clock::Duration now = clock_.Monotonic();
    if (storage_error) {
      EngineCounters::Add(counters_.io_errors);
      recent_errors_.push_back(now);
      while (!recent_errors_.empty() && now - recent_errors_.front() > options_.critical_window) {
        recent_errors_.pop_front();
      }
      if (!critical_ &&
          static_cast<int>(recent_errors_.size()) >= options_.critical_error_threshold) {
        critical_ = true;
        EngineCounters::Add(counters_.critical_state_entries);
        notify = options_.on_critical_state;
        now_critical = true;
      }
    } else if (critical_) {
      critical_ = false;
      recent_errors_.clear();
      notify = options_.on_critical_state;
    }
  }
  if (!notify) return;
  try {
    notify(now_critical);
  } catch (...) {
    if (on_exception_) on_exception_();
  }
}

bool CriticalState::critical() const {
  MutexLock lock(mu_);
  return critical_;
}

}  // namespace holdfast::internal
