#include "store_core.h"

#include <algorithm>

#include "holdfast/limits.h"
#include "holdfast/store.h"
#include "session_core.h"
#include "session_runtime.h"

namespace holdfast::internal {
namespace {
// Longest real wait between checks of a cancel predicate or token.
constexpr Clock::Duration kCancelPoll = std::chrono::milliseconds(10);
}  // namespace

StoreCore::StoreCore(std::shared_ptr<SessionRuntime> runtime, std::string name, std::string codec,
                     StoreSettings settings, PayloadValidator check)
    : runtime_(std::move(runtime)),
      name_(std::move(name)),
      codec_(std::move(codec)),
      settings_(std::move(settings)),
      history_{settings_.retention, settings_.corruption_policy, std::move(check)} {}

bool StoreCore::Cancelled(const SessionOptions& options) {
  if (options.cancel_token && options.cancel_token->IsCancelled()) return true;
  return options.cancel && options.cancel();
}

Status StoreCore::Claim(std::unique_lock<std::mutex>& lock, KeyEntry& entry, uint64_t me,
                        const SessionOptions& options, Clock::Duration deadline,
                        EndReason release_reason, std::shared_ptr<SessionCore>* victim) {
  SessionRuntime& rt = *runtime_;
  Clock& clock = rt.clock();
  std::optional<Clock::Duration> handoff_deadline;
  for (;;) {
    if (rt.closing()) return Status::Closed("engine is closing");
    if (entry.newest_start != me) {
      return Status::Aborted("a newer start or rollback of this profile superseded this one");
    }
    lock.unlock();
    bool cancelled = Cancelled(options);  // user code: never under mu_
    lock.lock();
    if (cancelled) return Status::Cancelled("StartSession was cancelled");
    const Clock::Duration now = clock.Monotonic();
    // The deadline only limits waiting: a free profile is taken even with a zero timeout.
    const bool must_wait = entry.acquiring || (entry.holder && !options.steal &&
                                               !(handoff_deadline && now >= *handoff_deadline));
    if (must_wait && now >= deadline) {
      return Status::TimedOut("timed out waiting for the profile");
    }
    if (options.fail_if_held && !options.steal && (entry.acquiring || entry.holder)) {
      return entry.holder
                 ? Status::Locked("profile is held by session " +
                                  std::to_string(entry.holder->session_id()) + " (epoch " +
                                  std::to_string(entry.holder->epoch()) + ") of this engine")
                 : Status::Locked("another start is taking the profile");
    }
    Clock::Duration wake = std::min(deadline, now + kCancelPoll);
    if (entry.acquiring) {
      clock.WaitUntil(cv_, lock, wake);
      continue;
    }
    if (entry.holder) {
      bool steal = options.steal || (handoff_deadline && now >= *handoff_deadline);
      if (!steal) {
        if (!handoff_deadline) {
          handoff_deadline = now + settings_.handoff_timeout;
          std::shared_ptr<SessionCore> holder = entry.holder;
          if (holder->MarkReleaseRequested()) {
            rt.Submit([holder, release_reason] { (void)holder->Finish(release_reason); });
          }
        }
        clock.WaitUntil(cv_, lock, std::min(wake, *handoff_deadline));
        continue;
      }
      if (!entry.holder->FenceForSteal()) {
        // The holder is already finishing (its final save committed, or it lost the lock):
        // it leaves in a moment, and there is nothing to steal.
        clock.WaitUntil(cv_, lock, wake);
        continue;
      }
      *victim = std::move(entry.holder);
    }
    entry.acquiring = true;
    return Status::Ok();
  }
}

void StoreCore::Unclaim(KeyEntry& entry) {
  entry.acquiring = false;
  cv_.notify_all();
}

StoreCore::KeyEntry& StoreCore::EnterEntry(const std::string& key, uint64_t* generation) {
  KeyEntry& entry = entries_[key];  // map nodes are stable; erased only when unused
  *generation = ++entry.newest_start;
  ++entry.starters;
  cv_.notify_all();  // older starters of this key see they are superseded
  return entry;
}

void StoreCore::LeaveEntry(const std::string& key, KeyEntry& entry) {
  --entry.starters;
  if (!entry.holder && !entry.acquiring && entry.starters == 0) entries_.erase(key);
}

Result<RawSession> StoreCore::Start(std::string_view key_view, const SessionOptions& options,
                                    const std::string& template_payload) {
  if (Status s = ValidateProfileKey(key_view); !s.ok()) return s;
  SessionRuntime& rt = *runtime_;
  InFlightGuard guard(rt);
  if (!guard.admitted()) return Status::Closed("engine is closing");

  Clock& clock = rt.clock();
  const Clock::Duration started = clock.Monotonic();
  const Clock::Duration deadline = started + options.timeout.value_or(settings_.start_timeout);
  const std::string key(key_view);

  std::unique_lock lock(mu_);
  uint64_t me = 0;
  KeyEntry& entry = EnterEntry(key, &me);

  std::shared_ptr<SessionCore> victim;
  Status failure = Claim(lock, entry, me, options, deadline, EndReason::kExternal, &victim);
  std::shared_ptr<SessionCore> session;
  if (failure.ok()) {
    lock.unlock();
    auto acquired = Acquire(key, template_payload, victim, options);
    // The acquisition committed; keep it only if this start is still wanted. A start that is
    // not gives the lock back before the claim ends, so no other starter can mistake the lock
    // for an orphan. Cancel predicates are user code: never called under mu_.
    bool cancelled = acquired.ok() && Cancelled(options);
    lock.lock();
    if (!acquired.ok()) {
      failure = acquired.status();
    } else if (entry.newest_start != me || rt.closing() || cancelled) {
      failure = entry.newest_start != me
                    ? Status::Aborted("a newer StartSession for this profile superseded this one")
                : rt.closing() ? Status::Closed("engine is closing")
                               : Status::Cancelled("StartSession was cancelled");
      lock.unlock();
      (void)(*acquired)->Abandon();  // the stored data is unchanged
      lock.lock();
    } else {
      session = std::move(*acquired);
      entry.holder = session;
      rt.Register(session);
    }
    Unclaim(entry);
  }
  LeaveEntry(key, entry);
  lock.unlock();
  if (!session) return failure;
  rt.counters().starts.fetch_add(1, std::memory_order_relaxed);
  rt.counters().start_latency.Record(clock.Monotonic() - started);
  return RawSession(std::move(session));
}

Status StoreCore::Exclusive(
    std::string_view key_view, EndReason release_reason,
    const std::function<Status(const std::string& key, const std::shared_ptr<SessionCore>&)>& fn) {
  if (Status s = ValidateProfileKey(key_view); !s.ok()) return s;
  SessionRuntime& rt = *runtime_;
  InFlightGuard guard(rt);
  if (!guard.admitted()) return Status::Closed("engine is closing");
  const std::string key(key_view);
  const Clock::Duration deadline = rt.clock().Monotonic() + settings_.start_timeout;
  std::unique_lock lock(mu_);
  uint64_t me = 0;
  KeyEntry& entry = EnterEntry(key, &me);
  std::shared_ptr<SessionCore> victim;
  Status s = Claim(lock, entry, me, SessionOptions{}, deadline, release_reason, &victim);
  if (s.ok()) {
    lock.unlock();
    s = fn(key, victim);
    lock.lock();
    Unclaim(entry);
  }
  LeaveEntry(key, entry);
  return s;
}

Result<std::shared_ptr<SessionCore>> StoreCore::Acquire(
    const std::string& key, const std::string& template_payload,
    const std::shared_ptr<SessionCore>& victim, const SessionOptions& options) {
  SessionRuntime& rt = *runtime_;
  AcquireRequest request;
  request.incarnation = rt.incarnation();
  request.session_id = rt.NextSessionId();
  request.owner = rt.options().owner_description;
  request.codec = codec_;
  request.template_payload = &template_payload;
  request.history = &history_;
  auto acquired = AcquireProfile(rt.Context(), {name_, key}, request);
  rt.RecordStorageResult(acquired.status());
  bool stole = false;
  if (acquired.ok() && victim && acquired->previous_lock &&
      acquired->previous_lock->session_id == victim->session_id() &&
      acquired->previous_lock->incarnation == rt.incarnation()) {
    stole = true;
    rt.counters().steals.fetch_add(1, std::memory_order_relaxed);
  }
  if (stole || (victim && !acquired.ok())) {
    // A victim whose final save landed before this acquisition ends by its own path (kExternal
    // or kManual); one whose lock was taken, or that stays fenced because the acquire failed,
    // ends here.
    // What the steal loaded is exactly what the victim had stored (it held the lock until
    // then), even if the victim's last save is still returning on another thread: compare
    // against that rather than the victim's own bookkeeping.
    std::optional<bool> unsaved;
    if (stole) {
      unsaved = victim->UnsavedAgainst(acquired->payload, acquired->meta.user_ids,
                                       acquired->meta.metadata);
    }
    victim->EndOnce(
        EndReason::kStolen,
        stole ? "the profile was taken by session " + std::to_string(request.session_id)
              : "fenced for a steal whose acquisition failed: " + acquired.status().ToString(),
        unsaved);
  }
  if (!acquired.ok()) return acquired.status();
  if (victim && !stole) {
    // The victim's own final save (a handoff or EndSession) released the lock before this
    // acquisition: it ends by its own path, on its own thread, and its OnSessionEnd must come
    // before the new session exists, as in every handoff. That save is past its commit, so the
    // wait is short.
    victim->EndAfterItsReleaseWasStored(acquired->payload, acquired->meta.user_ids,
                                        acquired->meta.metadata);
  }
  if (acquired->repair) {
    rt.counters().corruptions_repaired.fetch_add(1, std::memory_order_relaxed);
    if (settings_.on_corruption) {
      const CorruptionRepair& r = *acquired->repair;
      settings_.on_corruption(CorruptionEvent{name_, key, r.quarantined_version, r.restored_from,
                                              r.restored_as, r.reason});
    }
  }
  // A lock of an earlier incarnation is an orphan. One of this incarnation that is not the
  // victim's was left by a holder whose steal failed after fencing it (ended, reported): not a
  // crashed process, so not an orphan.
  if (acquired->previous_lock && !stole &&
      acquired->previous_lock->incarnation != rt.incarnation()) {
    const SessionLock& previous = *acquired->previous_lock;
    rt.counters().orphans_taken_over.fetch_add(1, std::memory_order_relaxed);
    rt.ReportOrphan(OrphanTakeover{name_, key, previous.incarnation, previous.session_id,
                                   previous.owner, previous.acquired_unix_ms});
  }
  auto session =
      std::make_shared<SessionCore>(shared_from_this(), key, request.session_id, *acquired);
  session->SetHandlers(options);  // before any other thread can see the session
  return session;
}

void StoreCore::SessionEnded(const std::string& key, const SessionCore* session) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.holder.get() == session) it->second.holder.reset();
  if (!it->second.holder && !it->second.acquiring && it->second.starters == 0) entries_.erase(it);
  cv_.notify_all();
}

void StoreCore::WakeAll() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

// The non-template entry points of holdfast/store.h.
Result<RawSession> StartRawSession(StoreCore& store, std::string_view key,
                                   const SessionOptions& options,
                                   const std::string& template_bytes) {
  return store.Start(key, options, template_bytes);
}

Status AbandonRawSession(RawSession& session, const Status& why) {
  return session.core() ? session.core()->Abandon() : Status::Ok();
}

const std::string& StoreName(const StoreCore& store) { return store.name(); }

}  // namespace holdfast::internal
