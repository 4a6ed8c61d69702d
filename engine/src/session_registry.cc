#include "session_registry.h"

#include <algorithm>

#include "holdfast/limits.h"
#include "impl_access.h"

namespace holdfast {

using internal::AcquireProfile;
using internal::AcquireRequest;
using internal::CorruptionRepair;
using internal::EngineCounters;
using internal::LiveSession;
using internal::SessionLock;

namespace {

// A start that failed because the profile could not be loaded (not a wait that gave up).
bool IsLoadFailure(const Status& s) {
  switch (s.code()) {
    case StatusCode::kIOError:
    case StatusCode::kResourceExhausted:
    case StatusCode::kBusy:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
    case StatusCode::kInvalidArgument:  // a disagreement (the key was checked before)
      return true;
    default:
      return false;
  }
}
}  // namespace

RawStore::Impl::Impl(std::shared_ptr<EngineContext> engine,
                     std::shared_ptr<const StoreConfig> config)
    : engine_(std::move(engine)),
      config_(std::move(config)),
      breaker_(config_->settings.repair_breaker) {}

bool RawStore::Impl::CancelledWithout(internal::UniqueLock& lock, const SessionOptions& options,
                                      std::string_view key) {
  lock.Unlock();
  const bool cancelled = Cancelled(options, key);
  lock.Lock();
  return cancelled;
}

HeldChoice RawStore::Impl::AskWithout(internal::UniqueLock& lock, const SessionOptions& options,
                                      std::string_view key, const HolderInfo& holder) {
  lock.Unlock();
  HeldChoice choice = HeldChoice::kCancel;
  try {
    choice = options.on_held(holder);
  } catch (...) {
    engine_->ReportException(config_->name, key, "on_held",
                             Status::Cancelled("an on_held handler that throws cancels the start"));
  }
  lock.Lock();
  return choice;
}

bool RawStore::Impl::Cancelled(const SessionOptions& options, std::string_view key) {
  if (options.cancel_token && options.cancel_token->IsCancelled()) return true;
  try {
    return options.cancel && options.cancel();
  } catch (...) {
    engine_->ReportException(config_->name, key, "the cancel predicate",
                             Status::Cancelled("a cancel predicate that throws cancels the start"));
    return true;
  }
}

Status RawStore::Impl::Claim(internal::UniqueLock& lock, const std::string& key, KeyEntry& entry,
                             uint64_t me, const SessionOptions& options, Clock::Duration deadline,
                             EndReason release_reason, std::shared_ptr<LiveSession>* victim,
                             EndReason fence_for, std::optional<internal::HandOverTo>* hand_to,
                             std::optional<internal::AcquireResult>* granted) {
  EngineContext& rt = *engine_;
  Clock& clock = rt.clock();
  std::optional<Clock::Duration> handoff_deadline;
  // The start's decision about the current holder (SessionOptions::on_held).
  HeldChoice choice = options.steal ? HeldChoice::kSteal : HeldChoice::kTakeOver;
  uint64_t asked_about = 0;  // session id of the holder the start last asked about
  Clock::Duration ask_again{};
  int attempts = 0;
  for (;;) {
    if (rt.gate().closing()) return Status::Closed("engine is closing");
    if (entry.newest_start != me) {
      return Status::Aborted("a newer start or rollback of this profile superseded this one");
    }
    if (CancelledWithout(lock, options, key))
      return Status::Cancelled("StartSession was cancelled");
    if (granted && entry.newest_start == me && !entry.holder && !entry.acquiring && entry.grant &&
        entry.grant_generation == me) {
      // The holder's final save handed the lock to this start in its own commit.
      *granted = std::move(*entry.grant);
      entry.grant.reset();
      entry.acquiring = true;
      return Status::Ok();
    }
    const Clock::Duration now = clock.Monotonic();
    // The deadline only limits waiting: a free profile is taken even with a zero timeout.
    const bool must_wait = entry.acquiring || (entry.holder && choice != HeldChoice::kSteal &&
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
      clock.WaitUntil(cv_, lock.native(), wake);
      continue;
    }
    if (entry.holder) {
      const bool ask = options.on_held && (entry.holder->session_id() != asked_about ||
                                           (choice == HeldChoice::kWait && now >= ask_again));
      if (ask) {
        const LiveSession& holder = *entry.holder;
        asked_about = holder.session_id();
        HolderInfo info{holder.session_id(), holder.epoch(), rt.options().owner_description,
                        holder.started_unix_ms(), ++attempts};
        choice = AskWithout(lock, options, key, info);
        ask_again = clock.Monotonic() + config_->settings.handoff_timeout;
        continue;  // everything may have changed while the game decided
      }
      if (choice == HeldChoice::kCancel) {
        return Status::Cancelled("the start chose not to wait: the profile is held by session " +
                                 std::to_string(asked_about));
      }
      if (choice == HeldChoice::kWait) {
        clock.WaitUntil(cv_, lock.native(), std::min(wake, ask_again));
        continue;
      }
      bool steal = choice == HeldChoice::kSteal || (handoff_deadline && now >= *handoff_deadline);
      if (!steal) {
        if (hand_to && (entry.handover_generation != me || !entry.handover_to)) {
          // Offer this start to the handoff release (the newest offer is the one taken).
          if (!*hand_to) {
            *hand_to = internal::HandOverTo{rt.incarnation(), rt.NextSessionId(),
                                            rt.options().owner_description, options.user_ids};
          }
          entry.handover_to = std::make_unique<const internal::HandOverTo>(**hand_to);
          entry.handover_generation = me;
        }
        if (!handoff_deadline) {
          handoff_deadline = now + config_->settings.handoff_timeout;
          RequestRelease(key, entry, release_reason);
        }
        clock.WaitUntil(cv_, lock.native(), std::min(wake, *handoff_deadline));
        continue;
      }
      if (!entry.holder->FenceFor(fence_for)) {
        // The holder is already finishing (its final save committed, or it lost the lock):
        // it leaves in a moment, and there is nothing to steal.
        clock.WaitUntil(cv_, lock.native(), wake);
        continue;
      }
      *victim = entry.holder;
      DropHolder(entry);
    }
    // A lock a handoff handed to another start (one that has not taken it, or has given up) is
    // replaced by this caller's acquisition or admin write: it can no longer be taken.
    entry.grant.reset();
    entry.acquiring = true;
    return Status::Ok();
  }
}

void RawStore::Impl::Unclaim(KeyEntry& entry) {
  entry.acquiring = false;
  cv_.notify_all();
}

void RawStore::Impl::DropHolder(KeyEntry& entry) {
  entry.holder.reset();
  entry.release_wanted = false;
  entry.releasing = false;
  --live_;
}

RawStore::Impl::KeyEntry& RawStore::Impl::EnterEntry(const std::string& key, uint64_t* generation) {
  KeyEntry& entry = entries_[key];  // map nodes are stable; erased only when unused
  *generation = ++entry.newest_start;
  ++entry.starters;
  cv_.notify_all();  // older starters of this key see they are superseded
  return entry;
}

void RawStore::Impl::LeaveEntry(const std::string& key, KeyEntry& entry) {
  --entry.starters;
  // The last starter is gone (done, or given up): nobody waits for a release it asked for.
  if (entry.starters == 0 && !entry.releasing) entry.release_wanted = false;
  if (entry.Unused()) entries_.erase(key);
}

Result<RawSession> RawStore::Impl::Start(std::string_view key_view, const SessionOptions& options,
                                         const SessionDataFactory& make_data) {
  if (Status s = ValidateProfileKey(key_view); !s.ok()) return s;
  EngineContext& rt = *engine_;
  internal::GatePass guard(rt.gate());
  if (!guard.admitted()) return Status::Closed("engine is closing");

  Clock& clock = rt.clock();
  const Clock::Duration started = clock.Monotonic();
  const Clock::Duration deadline =
      started + options.timeout.value_or(config_->settings.start_timeout);
  const std::string key(key_view);

  internal::UniqueLock lock(mu_);
  uint64_t me = 0;
  KeyEntry& entry = EnterEntry(key, &me);

  std::shared_ptr<LiveSession> victim;
  std::optional<internal::HandOverTo> hand_to;
  std::optional<internal::AcquireResult> granted;
  Status failure = Claim(lock, key, entry, me, options, deadline, EndReason::kExternal, &victim,
                         EndReason::kStolen, &hand_to, &granted);
  std::shared_ptr<LiveSession> session;
  if (failure.ok()) {
    lock.Unlock();
    Result<std::shared_ptr<LiveSession>> acquired =
        granted ? FromGrant(key, hand_to->session_id, options, std::move(*granted))
                : AcquireAcrossEngines(lock, key, entry, me, options, deadline, victim);
    // The acquisition committed; keep it only if this start is still wanted and its data can be
    // built. A start that is not gives the lock back before the claim ends, so no other starter
    // can mistake the lock for an orphan. User code (the data factory, cancel predicates) is
    // never called under mu_.
    Status data_failure;
    if (acquired.ok() && make_data) data_failure = AttachData(**acquired, make_data);
    const bool cancelled = acquired.ok() && data_failure.ok() && Cancelled(options, key);
    lock.Lock();
    if (!acquired.ok()) {
      failure = acquired.status();
    } else if (!data_failure.ok() || entry.newest_start != me || rt.gate().closing() || cancelled) {
      failure = !data_failure.ok() ? data_failure
                : entry.newest_start != me
                    ? Status::Aborted("a newer StartSession for this profile superseded this one")
                : rt.gate().closing() ? Status::Closed("engine is closing")
                                      : Status::Cancelled("StartSession was cancelled");
      lock.Unlock();
      (void)(*acquired)->Abandon();  // the stored data is unchanged
      lock.Lock();
    } else {
      session = std::move(*acquired);
      session->StartCompleted();
      entry.holder = session;
      ++live_;
    }
    Unclaim(entry);
  }
  std::optional<internal::AcquireResult> unused_grant;
  LeaveHandOver(entry, me, &unused_grant);
  LeaveEntry(key, entry);
  lock.Unlock();
  if (unused_grant) ReturnGrant(key, *unused_grant);
  if (!session) {
    if (IsLoadFailure(failure)) {
      ErrorEvent event;
      event.store = config_->name;
      event.key = key;
      event.operation = FailedOperation::kStart;
      event.status = failure;
      rt.ReportError(event);
    }
    return failure;
  }
  if (config_->settings.autosave) rt.autosaves().Add(session, session->session_id());
  session->DeliverMessages();  // those that waited for the profile, if a handler is set
  EngineCounters::Add(rt.counters().starts);
  rt.counters().start_latency.Record(clock.Monotonic() - started);
  return ImplAccess::Wrap(std::move(session));
}

Status RawStore::Impl::AttachData(LiveSession& session, const SessionDataFactory& make_data) {
  Result<std::shared_ptr<SessionData>> data = Status::Internal("");
  try {
    data = make_data(session.LastSavedBytes(), session.StoredSchemaVersion());
  } catch (...) {
    Status failed = Status::Internal("building the session's data from its payload threw");
    engine_->ReportException(config_->name, session.key(), "the session data factory", failed);
    return failed;
  }
  if (data.ok()) {
    session.SetData(std::move(*data));
    return Status::Ok();
  }
  Status why = data.status().code() == StatusCode::kCorruption ||
                       data.status().code() == StatusCode::kInvalidArgument
                   ? data.status()
                   : Status::Corruption(data.status().ToString());
  return why.WithContext("decoding profile with codec '" + config_->codec + "'");
}

Status RawStore::Impl::Exclusive(
    std::string_view key_view, EndReason release_reason,
    const std::function<Status(const std::string& key, const std::shared_ptr<LiveSession>&)>& fn,
    std::optional<EndReason> fence_for) {
  if (Status s = ValidateProfileKey(key_view); !s.ok()) return s;
  EngineContext& rt = *engine_;
  internal::GatePass guard(rt.gate());
  if (!guard.admitted()) return Status::Closed("engine is closing");
  const std::string key(key_view);
  const Clock::Duration deadline = rt.clock().Monotonic() + config_->settings.start_timeout;
  internal::UniqueLock lock(mu_);
  uint64_t me = 0;
  KeyEntry& entry = EnterEntry(key, &me);
  std::shared_ptr<LiveSession> victim;
  SessionOptions options;
  options.steal = fence_for.has_value();
  Status s = Claim(lock, key, entry, me, options, deadline, release_reason, &victim,
                   fence_for.value_or(EndReason::kStolen));
  if (s.ok()) {
    lock.Unlock();
    // A live session of another engine sharing the database hands off first, as one of this
    // engine's did in Claim (a removal fences it through the write instead).
    if (!fence_for && rt.storage().Shared()) s = WaitForPeerRelease(lock, key, entry, me, deadline);
    if (s.ok()) s = fn(key, victim);
    lock.Lock();
    Unclaim(entry);
  }
  LeaveEntry(key, entry);
  return s;
}

Result<std::shared_ptr<LiveSession>> RawStore::Impl::Acquire(
    const std::string& key, const std::shared_ptr<LiveSession>& victim,
    const SessionOptions& options, const PeerChoice& peer,
    std::optional<internal::PeerHold>* held) {
  EngineContext& rt = *engine_;
  AcquireRequest request;
  request.incarnation = rt.incarnation();
  request.session_id = rt.NextSessionId();
  request.owner = rt.options().owner_description;
  request.codec = config_->codec;
  request.template_payload = &config_->template_payload;
  request.history = &config_->history;
  request.add_user_ids = options.user_ids.empty() ? nullptr : &options.user_ids;
  request.take_from_peer = peer.take;
  request.request_release = peer.request_release;
  const Clock::Duration now = rt.clock().Monotonic();
  breaker_.RecordStart(now);
  bool repair_refused = false;
  request.before_repair = [&](const std::string&) {
    bool opened = false;
    Status allowed = breaker_.AllowRepair(now, &opened);
    repair_refused = !allowed.ok();
    return allowed.ok() ? allowed
                        : allowed.WithContext("profile '" + key + "' of store '" + config_->name +
                                              "' is corrupt");
  };
  auto acquired = AcquireProfile(rt.Transaction(), {config_->name, key}, request);
  rt.critical_state().Record(acquired.status());
  if (!acquired.ok() && repair_refused) EngineCounters::Add(rt.counters().repairs_refused);
  if (acquired.status().code() == StatusCode::kInvalidArgument) {
    EngineCounters::Add(rt.counters().disagreements);
  }
  bool stole = false;
  if (acquired.ok() && victim && acquired->previous_lock &&
      acquired->previous_lock->session_id == victim->session_id() &&
      acquired->previous_lock->incarnation == rt.incarnation()) {
    stole = true;
    EngineCounters::Add(rt.counters().steals);
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
  if (acquired->held_by_peer) {
    *held = std::move(acquired->held_by_peer);
    return std::shared_ptr<LiveSession>();
  }
  if (acquired->previous_holder_alive) EngineCounters::Add(rt.counters().steals);
  if (victim && !stole) {
    // The victim's own final save (a handoff or EndSession) released the lock before this
    // acquisition: it ends by its own path, on its own thread, and its OnSessionEnd must come
    // before the new session exists, as in every handoff. That save is past its commit, so the
    // wait is short.
    victim->EndAfterItsReleaseWasStored(acquired->payload, acquired->meta.user_ids,
                                        acquired->meta.metadata);
  }
  if (acquired->repair) {
    EngineCounters::Add(rt.counters().corruptions_repaired);
    if (config_->settings.on_corruption) {
      const CorruptionRepair& r = *acquired->repair;
      try {
        config_->settings.on_corruption(CorruptionEvent{config_->name, key, r.quarantined_version,
                                                        r.restored_from, r.restored_as, r.reason});
      } catch (...) {
        rt.ReportException(config_->name, key, "on_corruption", Status::Ok());
      }
    }
  }
  // A lock of another incarnation whose engine is gone (an earlier process, or an engine sharing
  // the database whose lease expired) is an orphan. One of this incarnation that is not the
  // victim's was left by a holder whose steal failed after fencing it (ended, reported): not a
  // crashed process, so not an orphan.
  if (acquired->previous_lock && !stole && !acquired->previous_holder_alive &&
      acquired->previous_lock->incarnation != rt.incarnation()) {
    const SessionLock& previous = *acquired->previous_lock;
    EngineCounters::Add(rt.counters().orphans_taken_over);
    rt.ReportOrphan(OrphanTakeover{config_->name, key, previous.incarnation, previous.session_id,
                                   previous.owner, previous.acquired_unix_ms});
  }
  auto session = std::make_shared<LiveSession>(engine_, config_, weak_from_this(), key,
                                               request.session_id, *acquired);
  session->SetHandlers(options);  // before any other thread can see the session
  return session;
}

Status RawStore::Impl::Message(std::string_view key_view, std::string_view payload) {
  if (Status s = ValidateProfileKey(key_view); !s.ok()) return s;
  EngineContext& rt = *engine_;
  internal::GatePass guard(rt.gate());
  if (!guard.admitted()) return Status::Closed("engine is closing");
  const std::string key(key_view);
  bool over_limit = false;
  internal::MessageRequest request{payload, config_->settings.max_pending_messages,
                                   config_->settings.max_message_bytes, &over_limit};
  auto sent = internal::CommitMessage(rt.Transaction(), {config_->name, key}, request);
  if (!over_limit) rt.critical_state().Record(sent.status());  // the limits are no storage error
  if (!sent.ok()) return sent.status();
  EngineCounters::Add(rt.counters().messages_sent);
  std::shared_ptr<LiveSession> holder;
  {
    internal::MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) holder = it->second.holder;
  }
  // A session that starts from now on reads the message itself.
  if (holder) holder->DeliverMessages();
  return Status::Ok();
}

void RawStore::Impl::SessionEnded(const std::string& key, const LiveSession* session) {
  std::shared_ptr<LiveSession> released;  // dropped after mu_: it may be the last reference
  internal::MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.holder.get() == session) {
    released = it->second.holder;
    DropHolder(it->second);
  }
  if (it->second.Unused()) entries_.erase(it);
  cv_.notify_all();
}

void RawStore::Impl::WakeAll() {
  internal::MutexLock lock(mu_);
  cv_.notify_all();
}

std::vector<std::shared_ptr<LiveSession>> RawStore::Impl::LiveSessions() const {
  internal::MutexLock lock(mu_);
  std::vector<std::shared_ptr<LiveSession>> live;
  for (const auto& [key, entry] : entries_) {
    if (entry.holder) live.push_back(entry.holder);
  }
  return live;
}

size_t RawStore::Impl::EntryCount() const {
  internal::MutexLock lock(mu_);
  return entries_.size();
}

size_t RawStore::Impl::LiveCount() const {
  internal::MutexLock lock(mu_);
  return live_;
}

}  // namespace holdfast
