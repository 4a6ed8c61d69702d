#include "autosave_scheduler.h"

#include <algorithm>
#include <cmath>

namespace holdfast::internal {

AutosaveScheduler::AutosaveScheduler(const Clock& clock, Executor& workers)
    : clock_(clock), workers_(workers) {
  thread_ = std::thread([this] { Loop(); });
}

AutosaveScheduler::~AutosaveScheduler() { Stop(); }

void AutosaveScheduler::Add(const std::shared_ptr<AutosaveTarget>& target, uint64_t spread_key) {
  const double fraction = std::fmod(static_cast<double>(spread_key) * 0.6180339887498949, 1.0);
  const Clock::Duration period = target->AutosavePeriod();
  const auto offset =
      Clock::Duration(static_cast<int64_t>(fraction * static_cast<double>(period.count())));
  Schedule(Entry{target, target.get()}, clock_.Monotonic() + offset + Clock::Duration(1));
}

void AutosaveScheduler::Remove(const AutosaveTarget* target) {
  MutexLock lock(mu_);
  auto it = index_.find(target);
  if (it == index_.end()) return;
  schedule_.erase(it->second);
  index_.erase(it);
}

size_t AutosaveScheduler::Size() {
  MutexLock lock(mu_);
  return schedule_.size();
}

void AutosaveScheduler::Schedule(Entry entry, Clock::Duration due) {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    if (auto old = index_.find(entry.id); old != index_.end()) schedule_.erase(old->second);
    const AutosaveTarget* id = entry.id;
    index_[id] = schedule_.emplace(due, std::move(entry));
  }
  changed_.notify_all();
}

void AutosaveScheduler::Loop() {
  UniqueLock lock(mu_);
  while (!stopping_) {
    if (schedule_.empty()) {
      changed_.wait(lock.native());
      continue;
    }
    auto first = schedule_.begin();
    const Clock::Duration due = first->first;
    if (clock_.Monotonic() < due) {
      clock_.WaitUntil(changed_, lock.native(), due);
      continue;
    }
    Entry entry = first->second;
    index_.erase(entry.id);
    schedule_.erase(first);
    ++in_flight_;
    // The target is looked at without mu_: IsActive takes the session's own lock, which comes
    // before every leaf lock, and dropping the last reference to a session runs its destructor.
    lock.Unlock();
    bool submitted = true;
    bool dispatched = false;
    if (std::shared_ptr<AutosaveTarget> target = entry.target.lock();
        target && target->IsActive()) {
      dispatched = true;
      submitted = workers_.Submit([this, target, entry, due] {
        (void)target->AutoSave();
        if (target->IsActive()) {
          Schedule(entry, std::max(due + target->AutosavePeriod(), clock_.Monotonic()));
        }
        MutexLock done(mu_);
        --in_flight_;
        idle_.notify_all();
      });
    }
    lock.Lock();
    if (!dispatched || !submitted) {
      --in_flight_;
      idle_.notify_all();
    }
    if (!submitted) break;
  }
}

void AutosaveScheduler::WaitIdle() {
  UniqueLock lock(mu_);
  for (;;) {
    const bool due_pending = !schedule_.empty() && schedule_.begin()->first <= clock_.Monotonic();
    if (stopping_ || (!due_pending && in_flight_ == 0)) return;
    // The scheduler thread re-checks a fake clock every few milliseconds; wake with it.
    idle_.wait_for(lock.native(), std::chrono::milliseconds(2));
  }
}

void AutosaveScheduler::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    schedule_.clear();
    index_.clear();
  }
  changed_.notify_all();
  idle_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace holdfast::internal
