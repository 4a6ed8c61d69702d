#include "session_runtime.h"

#include <cmath>
#include <cstdio>
#include <latch>
#include <vector>

#include "session_core.h"
#include "store_core.h"

namespace holdfast::internal {

SessionRuntime::SessionRuntime(Storage* storage, const EngineOptions& options,
                               std::shared_ptr<Clock> clock, uint64_t incarnation)
    : storage_(storage),
      options_(options),
      clock_(std::move(clock)),
      incarnation_(incarnation),
      executor_(options.worker_threads) {
  autosave_thread_ = std::thread([this] { AutosaveLoop(); });
}

SessionRuntime::~SessionRuntime() { (void)Shutdown(); }

TransactionContext SessionRuntime::Context() {
  TransactionContext ctx;
  ctx.storage = storage_;
  ctx.hooks = options_.fault_hooks.get();
  ctx.conflicts = &counters_.conflicts_retried;
  ctx.now_unix_ms = clock_->WallUnixMillis();
  return ctx;
}

Status SessionRuntime::ValidateSettings(const StoreSettings& settings) {
  if (settings.autosave_period.count() <= 0 || settings.handoff_timeout.count() < 0 ||
      settings.start_timeout.count() < 0) {
    return Status::InvalidArgument(
        "autosave_period must be positive; handoff_timeout and start_timeout not negative");
  }
  return Status::Ok();
}

Result<std::shared_ptr<StoreCore>> SessionRuntime::OpenStore(const std::string& name,
                                                             const std::string& codec,
                                                             const StoreSettings& settings,
                                                             PayloadValidator check) {
  if (Status s = ValidateSettings(settings); !s.ok()) return s;
  std::lock_guard lock(mu_);
  if (closing_) return Status::Closed("engine is closing");
  auto it = stores_.find(name);
  if (it != stores_.end()) {
    if (it->second->codec() != codec) {
      return Status::InvalidArgument("store '" + name + "' is open with codec '" +
                                     it->second->codec() + "', not '" + codec + "'");
    }
    return it->second;
  }
  auto store =
      std::make_shared<StoreCore>(shared_from_this(), name, codec, settings, std::move(check));
  stores_.emplace(name, store);
  return store;
}

bool SessionRuntime::BeginStart() {
  std::lock_guard lock(mu_);
  if (closing_) return false;
  ++starts_in_flight_;
  return true;
}

void SessionRuntime::EndStart() {
  std::lock_guard lock(mu_);
  if (--starts_in_flight_ == 0) starts_done_.notify_all();
}

void SessionRuntime::Register(const std::shared_ptr<SessionCore>& session) {
  {
    std::lock_guard lock(mu_);
    active_[session.get()] = session;
  }
  // Spread first auto-saves evenly over the period: the golden-ratio sequence of session ids
  // fills [0, 1) uniformly whatever the order of starts.
  double fraction = std::fmod(static_cast<double>(session->session_id()) * 0.6180339887498949, 1.0);
  auto period =
      std::chrono::duration_cast<Clock::Duration>(session->store().timing().autosave_period);
  auto offset =
      Clock::Duration(static_cast<int64_t>(fraction * static_cast<double>(period.count())));
  ScheduleAutosave(session, clock_->Monotonic() + offset + Clock::Duration(1));
}

void SessionRuntime::Unregister(SessionCore* session) {
  std::lock_guard lock(mu_);
  active_.erase(session);
}

void SessionRuntime::ScheduleAutosave(const std::shared_ptr<SessionCore>& session,
                                      Clock::Duration due) {
  {
    std::lock_guard lock(schedule_mu_);
    if (stop_autosave_) return;
    schedule_.emplace(due, session);
  }
  schedule_cv_.notify_all();
}

void SessionRuntime::AutosaveLoop() {
  std::unique_lock lock(schedule_mu_);
  while (!stop_autosave_) {
    if (schedule_.empty()) {
      schedule_cv_.wait(lock);
      continue;
    }
    auto first = schedule_.begin();
    Clock::Duration due = first->first;
    if (clock_->Monotonic() < due) {
      clock_->WaitUntil(schedule_cv_, lock, due);
      continue;
    }
    std::shared_ptr<SessionCore> session = first->second.lock();
    schedule_.erase(first);
    if (!session || !session->IsActive()) {
      idle_cv_.notify_all();
      continue;
    }
    ++autosaves_in_flight_;
    lock.unlock();
    bool submitted = executor_.Submit([this, session, due] {
      (void)session->Save();  // failures are counted and retried at the next period
      if (session->IsActive()) {
        auto period =
            std::chrono::duration_cast<Clock::Duration>(session->store().timing().autosave_period);
        ScheduleAutosave(session, std::max(due + period, clock_->Monotonic()));
      }
      std::lock_guard done(schedule_mu_);
      --autosaves_in_flight_;
      idle_cv_.notify_all();
    });
    lock.lock();
    if (!submitted) {
      --autosaves_in_flight_;
      break;
    }
  }
}

void SessionRuntime::WaitAutosaveIdle() {
  std::unique_lock lock(schedule_mu_);
  for (;;) {
    bool due_pending = !schedule_.empty() && schedule_.begin()->first <= clock_->Monotonic();
    if (stop_autosave_ || (!due_pending && autosaves_in_flight_ == 0)) return;
    // The auto-save thread re-checks a fake clock every few milliseconds; wake with it.
    idle_cv_.wait_for(lock, std::chrono::milliseconds(2));
  }
}

void SessionRuntime::RecordStorageResult(const Status& s) {
  bool storage_error =
      s.code() == StatusCode::kIOError || s.code() == StatusCode::kResourceExhausted;
  if (!storage_error && !s.ok()) return;  // LockLost, Corruption, ...: not storage trouble
  std::function<void(bool)> notify;
  bool now_critical = false;
  {
    std::lock_guard lock(mu_);
    Clock::Duration now = clock_->Monotonic();
    if (storage_error) {
      counters_.io_errors.fetch_add(1, std::memory_order_relaxed);
      recent_errors_.push_back(now);
      while (!recent_errors_.empty() && now - recent_errors_.front() > options_.critical_window) {
        recent_errors_.pop_front();
      }
      if (!critical_ &&
          static_cast<int>(recent_errors_.size()) >= options_.critical_error_threshold) {
        critical_ = true;
        counters_.critical_state_entries.fetch_add(1, std::memory_order_relaxed);
        notify = options_.on_critical_state;
        now_critical = true;
      }
    } else if (critical_) {
      critical_ = false;
      recent_errors_.clear();
      notify = options_.on_critical_state;
    }
  }
  if (notify) notify(now_critical);
}

void SessionRuntime::ReportOrphan(const OrphanTakeover& orphan) {
  if (options_.on_orphan_takeover) {
    options_.on_orphan_takeover(orphan);
    return;
  }
  std::fprintf(stderr,
               "holdfast: took over the lock of profile '%s' in store '%s', left by session %llu "
               "of engine incarnation %llu (%s)\n",
               orphan.key.c_str(), orphan.store.c_str(),
               static_cast<unsigned long long>(orphan.previous_session_id),
               static_cast<unsigned long long>(orphan.previous_incarnation),
               orphan.previous_owner.c_str());
}

EngineStats SessionRuntime::Stats() const {
  EngineStats s;
  {
    std::lock_guard lock(mu_);
    s.active_sessions = active_.size();
    s.critical = critical_;
  }
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.starts = get(counters_.starts);
  s.saves = get(counters_.saves);
  s.saves_skipped = get(counters_.saves_skipped);
  s.bytes_written = get(counters_.bytes_written);
  s.conflicts_retried = get(counters_.conflicts_retried);
  s.handoffs = get(counters_.handoffs);
  s.steals = get(counters_.steals);
  s.orphans_taken_over = get(counters_.orphans_taken_over);
  s.io_errors = get(counters_.io_errors);
  s.storage_reopens = storage_->Reopens();
  s.critical_state_entries = get(counters_.critical_state_entries);
  s.corruptions_repaired = get(counters_.corruptions_repaired);
  s.rollbacks = get(counters_.rollbacks);
  s.start_latency = counters_.start_latency.Summary();
  s.save_latency = counters_.save_latency.Summary();
  return s;
}

Status SessionRuntime::Shutdown() {
  std::vector<std::shared_ptr<StoreCore>> stores;
  {
    std::unique_lock lock(mu_);
    if (shut_down_) return Status::Ok();
    closing_ = true;
    for (auto& [name, store] : stores_) stores.push_back(store);
  }
  for (auto& store : stores) store->WakeAll();  // waiting starters return Closed
  {
    std::unique_lock lock(mu_);
    starts_done_.wait(lock, [&] { return starts_in_flight_ == 0; });
  }

  // Final saves in parallel on the workers, so they share WAL syncs.
  std::vector<std::shared_ptr<SessionCore>> sessions;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : active_) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  Status first_error;
  std::mutex error_mu;
  std::latch done(static_cast<std::ptrdiff_t>(sessions.size()));
  for (auto& session : sessions) {
    auto task = [&, session] {
      Status s = session->Finish(EndReason::kShutdown);
      if (!s.ok() && s.code() != StatusCode::kLockLost && s.code() != StatusCode::kClosed) {
        std::lock_guard lock(error_mu);
        if (first_error.ok()) first_error = s.WithContext("final save of '" + session->key() + "'");
      }
      done.count_down();
    };
    if (!executor_.Submit(task)) task();
  }
  done.wait();
  // Anything still active (its final save failed) is fenced now: storage closes after this.
  for (auto& session : sessions) {
    session->EndOnce(EndReason::kShutdown, "the engine closed before this session could be saved");
  }

  {
    std::lock_guard lock(schedule_mu_);
    stop_autosave_ = true;
    schedule_.clear();
  }
  schedule_cv_.notify_all();
  if (autosave_thread_.joinable()) autosave_thread_.join();
  executor_.Shutdown();
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
    stores_.clear();  // breaks the runtime <-> store reference cycle
    active_.clear();
  }
  return first_error;
}

}  // namespace holdfast::internal
