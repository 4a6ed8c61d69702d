// A live session's saves and its end: PrepareSave, Commit, the final save (Finish), Abandon,
// EndOnce. Its state accessors are in live_session_state.cc, what it last stored in
// live_session_last_saved.cc, message delivery in live_session_messages.cc.
#include "live_session.h"

#include <algorithm>
#include <thread>

#include "holdfast/limits.h"

namespace holdfast {

using internal::CommitSave;
using internal::EngineCounters;
using internal::SaveRequest;

RawSession::Impl::Impl(std::shared_ptr<EngineContext> engine,
                       std::shared_ptr<const StoreConfig> store, std::weak_ptr<SessionOwner> owner,
                       std::string key, uint64_t session_id, const AcquireResult& acquired)
    : engine_(std::move(engine)),
      store_(std::move(store)),
      owner_(std::move(owner)),
      key_(std::move(key)),
      session_id_(session_id),
      epoch_(acquired.epoch),
      created_unix_ms_(acquired.meta.created_unix_ms),
      load_count_(acquired.meta.load_count),
      first_session_unix_ms_(acquired.meta.first_session_unix_ms),
      started_unix_ms_(acquired.meta.lock ? acquired.meta.lock->acquired_unix_ms : 0),
      undo_(std::make_unique<AcquireResult>(AcquireResult{acquired.epoch,
                                                          {},
                                                          {},
                                                          acquired.version,
                                                          acquired.schema_version,
                                                          acquired.created,
                                                          acquired.previous_lock,
                                                          acquired.previous_meta,
                                                          std::nullopt,
                                                          std::nullopt,
                                                          false})),
      last_saved_(acquired.payload),
      saved_digest_(internal::PayloadDigest::Of(acquired.payload)),
      stored_schema_version_(acquired.schema_version),
      version_(acquired.version),
      updated_unix_ms_(acquired.meta.updated_unix_ms),
      user_ids_(acquired.meta.user_ids),
      metadata_(acquired.meta.metadata) {}

Clock::Duration RawSession::Impl::AutosavePeriod() const {
  return std::chrono::duration_cast<Clock::Duration>(store_->settings.autosave_period);
}

void RawSession::Impl::LeaveOwner() {
  engine_->autosaves().Remove(this);  // nothing is kept for an ended session
  if (auto owner = owner_.lock()) owner->SessionEnded(key_, this);
}

Status RawSession::Impl::EndedStatus() const {
  // Between a final save's commit and the end of its session: report the save in progress.
  if (!ended_ && sealed_for_) return SealedStatus(*sealed_for_);
  if (!ended_) return Status::LockLost("the profile was taken by another session");
  // Say what became of the data, so the caller knows whether anything is left to recover.
  const std::string stored =
      ended_->unsaved_changes
          ? "; changes since its last successful save were not stored (still readable here)"
          : "; everything it changed is stored";
  if (ended_->reason == EndReason::kShutdown) {
    return Status::Closed("the session ended because the engine closed" + stored);
  }
  if (ended_->reason == EndReason::kRemoved) {
    return Status::Removed("the profile was removed (Store::Remove): nothing of it is stored; " +
                           std::string(ended_->unsaved_changes
                                           ? "its data is still readable here"
                                           : "there were no unsaved changes"));
  }
  if (ended_->reason == EndReason::kManual) {
    return Status::LockLost("the session was ended with EndSession" + stored);
  }
  return Status::LockLost("the session ended (" + std::string(EndReasonName(ended_->reason)) + ")" +
                          (ended_->detail.empty() ? "" : ": " + ended_->detail) + stored);
}

Status RawSession::Impl::SealedStatus(EndReason reason) {
  switch (reason) {
    case EndReason::kShutdown:
      return Status::Closed("the engine is closing: the session's final save has taken its data");
    case EndReason::kManual:
      return Status::LockLost("EndSession is in progress: its final save has taken the data");
    default:
      return Status::LockLost("the session is ending (" + std::string(EndReasonName(reason)) +
                              "): its final save has taken the data");
  }
}

Result<std::string> RawSession::Impl::Encode(std::optional<EndReason> seal_for,
                                             std::optional<uint64_t>* changes) {
  std::shared_ptr<SessionData> slot;
  {
    internal::MutexLock lock(mu_);
    slot = slot_;
    if (!slot) {
      if (seal_for) sealed_for_ = seal_for;
      return last_saved_;
    }
  }
  try {
    // Counted before the snapshot: an edit in between is in the snapshot but not in the count,
    // which can only make the next save compare bytes it could have skipped.
    if (changes) *changes = slot->ChangeCount();
    if (!seal_for) return slot->Encode(nullptr);
    // Lock order: the slot's data lock, then mu_.
    return slot->Encode([&] {
      internal::MutexLock lock(mu_);
      sealed_for_ = seal_for;
    });
  } catch (...) {
    Status failed = Status::Internal("validate or the codec threw while encoding the profile data");
    engine_->ReportException(store_->name, key_, "Encode", failed);
    return failed;
  }
}

void RawSession::Impl::Guarded(std::string_view doing, const std::function<void()>& call,
                               std::exception_ptr* thrown) {
  try {
    call();
  } catch (...) {
    engine_->ReportException(store_->name, key_, doing, Status::Ok());
    if (thrown && !*thrown) *thrown = std::current_exception();
  }
}

Status RawSession::Impl::Save() {
  return Run(/*final=*/false, EndReason::kManual, FailedOperation::kSave, /*rethrow=*/true);
}
Status RawSession::Impl::AutoSave() {
  return Run(/*final=*/false, EndReason::kManual, FailedOperation::kAutoSave, /*rethrow=*/false);
}
Status RawSession::Impl::EndSession() {
  return Run(/*final=*/true, EndReason::kManual, FailedOperation::kFinalSave, /*rethrow=*/true);
}
Status RawSession::Impl::Finish(EndReason reason, const internal::HandOverTo* hand_to) {
  return Run(/*final=*/true, reason, FailedOperation::kFinalSave, /*rethrow=*/false, hand_to);
}

Status RawSession::Impl::Run(bool final, EndReason reason, FailedOperation operation,
                             bool rethrow, const internal::HandOverTo* hand_to) {
  std::exception_ptr thrown;
  bool attempted = false;
  Status s = Commit(final, reason, &attempted, &thrown, hand_to);
  if (!s.ok() && attempted) ReportFailed(operation, s);
  if (thrown && rethrow) std::rethrow_exception(thrown);
  return s;
}

void RawSession::Impl::ReportFailed(FailedOperation operation, const Status& status) {
  ErrorEvent event;
  event.store = store_->name;
  event.key = key_;
  event.operation = operation;
  event.status = status;
  event.will_retry = operation == FailedOperation::kAutoSave && IsActive();
  engine_->ReportError(event);
}

Status RawSession::Impl::CheckNotReentrant() const {
  std::shared_ptr<SessionData> slot;
  {
    internal::MutexLock lock(mu_);
    slot = slot_;
  }
  if (slot && slot->HeldByThisThread()) {
    return Status::InvalidArgument(
        "Save/EndSession called inside Edit or Read of the same profile: the save needs the "
        "data lock that call holds; save after it returns");
  }
  if (saving_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    return Status::InvalidArgument(
        "Save/EndSession called from OnSave, OnLastSave or OnAfterSave of the same profile: the "
        "save running the signal holds the save lock; edits made there are saved by it");
  }
  return Status::Ok();
}

RawSession::Impl::SaveLock::SaveLock(Impl& session) : session_(session) {
  session_.save_mu_.Lock();
  session_.saving_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

RawSession::Impl::SaveLock::~SaveLock() {
  if (held_) Unlock();
}

void RawSession::Impl::SaveLock::Unlock() {
  held_ = false;
  session_.saving_thread_.store(std::thread::id(), std::memory_order_relaxed);
  session_.save_mu_.Unlock();
}

void RawSession::Impl::Unseal() {
  internal::MutexLock lock(mu_);
  sealed_for_.reset();
}

Result<RawSession::Impl::PreparedSave> RawSession::Impl::PrepareSave(bool final, EndReason reason,
                                                                     std::exception_ptr* thrown) {
  std::function<void()> on_save;
  std::function<void(EndReason)> on_last_save;
  {
    internal::MutexLock lock(mu_);
    on_save = on_save_;
    on_last_save = on_last_save_;
  }
  // ProfileStore's order: OnSave first, then (for a final save) OnLastSave; edits made in either
  // are in the snapshot below. A handler that throws does not stop the save.
  if (on_save) Guarded("OnSave", on_save, thrown);
  if (final && on_last_save)
    Guarded(
        "OnLastSave", [&] { on_last_save(reason); }, thrown);

  // A final save seals the session with its snapshot: an edit after this point fails instead of
  // returning OK and being dropped. A save that fails (other than LockLost) unseals.
  std::optional<uint64_t> changes;
  auto encoded = Encode(final ? std::optional<EndReason>(reason) : std::nullopt, &changes);
  if (!encoded.ok()) {
    return encoded.status().WithContext("encoding profile data; the session stays active");
  }
  PreparedSave prepared;
  prepared.payload = std::move(*encoded);
  prepared.changes = changes;
  if (Status s =
          ValidatePayloadSize(prepared.payload.size(), engine_->options().max_payload_bytes);
      !s.ok()) {
    if (final) Unseal();
    return s.WithContext("the session stays active and keeps the data in memory");
  }
  const bool same_payload = MatchesLastSaved(prepared.payload, changes);
  internal::MutexLock lock(mu_);
  prepared.processed = processed_;
  prepared.payload_changed =
      !same_payload || stored_schema_version_ != store_->settings.schema_version;
  prepared.meta_generation = meta_generation_;
  prepared.meta_changed = meta_generation_ != meta_saved_generation_;
  if (prepared.meta_changed) {
    prepared.user_ids = user_ids_;
    prepared.metadata = metadata_;
  }
  return prepared;
}

internal::SaveRequest RawSession::Impl::RequestFor(const PreparedSave& prepared, CommitKind kind,
                                                   VersionReason reason) const {
  SaveRequest request;
  request.lock = {engine_->incarnation(), session_id_, epoch_};
  request.kind = kind;
  request.reason = reason;
  request.history = &store_->history;
  // A trade always writes a version (its record names the partners), changed or not.
  request.payload =
      prepared.payload_changed || kind == CommitKind::kTrade ? &prepared.payload : nullptr;
  request.codec = store_->codec;
  request.schema_version = store_->settings.schema_version;
  request.user_ids = prepared.meta_changed ? &prepared.user_ids : nullptr;
  request.metadata = prepared.meta_changed ? &prepared.metadata : nullptr;
  request.processed_messages = prepared.processed.empty() ? nullptr : &prepared.processed;
  return request;
}

void RawSession::Impl::SaveStored(const PreparedSave& prepared, const internal::SaveResult& saved,
                                  bool final, Clock::Duration started,
                                  std::exception_ptr* thrown) {
  EngineContext& rt = *engine_;
  EngineCounters::Add(rt.counters().saves, 1);
  EngineCounters::Add(rt.counters().messages_processed, saved.messages_removed);
  if (prepared.payload_changed) {
    EngineCounters::Add(rt.counters().bytes_written, prepared.payload.size());
  }
  rt.counters().save_latency.Record(rt.clock().Monotonic() - started);
  // A final save keeps the bytes it stored for the handles that outlive the session, unless
  // they are the data's last state: sealed by this save, no edit or trade can follow it, so a
  // count still equal to the one taken before the snapshot means the data's encoding answers
  // LastSavedData (EncodeIfUnedited) without a second copy — 100 MB at a Close of 100k 1 KiB
  // profiles, allocated just before the process exits.
  bool keep_copy = final;
  if (final && prepared.changes) {
    std::shared_ptr<SessionData> slot = Slot();
    try {
      keep_copy = !slot || slot->HeldByThisThread() || slot->ChangeCount() != prepared.changes;
    } catch (...) {
      keep_copy = true;
    }
  }
  std::function<void(std::string_view)> on_after_save;
  {
    internal::MutexLock lock(mu_);
    if (prepared.payload_changed) {  // (unchanged bytes are already in this schema version)
      saved_digest_ = internal::PayloadDigest::Of(prepared.payload);
      if (last_saved_kept_) last_saved_ = prepared.payload;  // a session without a slot
      stored_schema_version_ = store_->settings.schema_version;
    }
    saved_changes_ = prepared.changes;
    if (keep_copy) {  // the session ends: its handles may still ask what it stored
      last_saved_ = prepared.payload;
      last_saved_kept_ = true;
    }
    // The marks just stored are done; later ones (none can be added during a save) stay.
    std::erase_if(processed_, [&](uint64_t s) {
      return std::find(prepared.processed.begin(), prepared.processed.end(), s) !=
             prepared.processed.end();
    });
    version_ = saved.version;
    updated_unix_ms_ = saved.updated_unix_ms;
    meta_saved_generation_ = prepared.meta_generation;
    if (final) fenced_ = final_committed_ = true;
    on_after_save = on_after_save_;
  }
  if (on_after_save)
    Guarded(
        "OnAfterSave", [&] { on_after_save(prepared.payload); }, thrown);
}

std::optional<EndReason> RawSession::Impl::FenceLost() {
  internal::MutexLock lock(mu_);
  fenced_ = true;
  return fenced_for_;
}

void RawSession::Impl::EndLost(std::optional<EndReason> fenced_for, const Status& lost,
                               std::optional<bool> unsaved, std::exception_ptr* thrown) {
  // Sealed or not, edits after the snapshot were refused: what the save carried is exactly what
  // was not stored.
  EndOnce(fenced_for.value_or(EndReason::kLockLost), lost.message(), unsaved, thrown);
}

Status RawSession::Impl::Commit(bool final, EndReason reason, bool* attempted,
                                std::exception_ptr* thrown, const internal::HandOverTo* hand_to) {
  EngineContext& rt = *engine_;
  if (Status s = CheckNotReentrant(); !s.ok()) return s;
  SaveLock saving(*this);
  {
    internal::MutexLock lock(mu_);
    if (ended_ && final && reason == EndReason::kManual && ended_->reason == EndReason::kManual) {
      return Status::Ok();  // EndSession is idempotent
    }
    if (fenced_) return EndedStatus();
  }
  *attempted = true;
  auto prepared = PrepareSave(final, reason, thrown);
  if (!prepared.ok()) return prepared.status();
  if (!final && prepared->Unchanged()) {
    EngineCounters::Add(rt.counters().saves_skipped, 1);
    return Status::Ok();
  }

  SaveRequest request = RequestFor(*prepared, final, reason);
  if (final) request.hand_to = hand_to;
  const Clock::Duration started = rt.clock().Monotonic();
  auto saved = CommitSave(rt.Transaction(), {store_->name, key_}, request);
  return Committed(saving, *prepared, saved, final, reason, started, thrown);
}

internal::SaveRequest RawSession::Impl::RequestFor(const PreparedSave& prepared, bool final,
                                                   EndReason reason) const {
  const VersionReason version_reason = !final                           ? VersionReason::kSave
                                       : reason == EndReason::kExternal ? VersionReason::kHandoff
                                       : reason == EndReason::kShutdown ? VersionReason::kShutdown
                                                                        : VersionReason::kEndSession;
  return RequestFor(prepared, final ? CommitKind::kRelease : CommitKind::kSave, version_reason);
}

// Releases the caller's save lock early on the paths that end the session (its waiters take
// save_mu_): a conditional release of a lock held through a reference, which clang's analysis
// cannot follow; the SaveLock knows at run time whether it still holds the lock.
Status RawSession::Impl::Committed(SaveLock& saving, const PreparedSave& prepared,
                                   Result<internal::SaveResult>& saved, bool final,
                                   EndReason reason, Clock::Duration started,
                                   std::exception_ptr* thrown) NO_THREAD_SAFETY_ANALYSIS {
  EngineContext& rt = *engine_;
  rt.critical_state().Record(saved.status());
  if (!saved.ok()) {
    if (saved.status().code() != StatusCode::kLockLost) {
      if (final) Unseal();
      return saved.status();
    }
    const bool had_changes = prepared.payload_changed || prepared.meta_changed;
    const std::optional<EndReason> fenced_for = FenceLost();
    saving.Unlock();
    EndLost(fenced_for, saved.status(), had_changes, thrown);
    return saved.status().WithContext(had_changes
                                          ? "this save stored nothing; its changes are unsaved"
                                          : "this save stored nothing; there were no changes");
  }
  SaveStored(prepared, *saved, final, started, thrown);
  if (final && saved->granted) {
    // The start this commit handed the lock to gets what is stored now: this save's payload.
    AcquireResult granted = std::move(*saved->granted);
    granted.payload = prepared.payload;
    {
      internal::MutexLock lock(mu_);
      granted.schema_version = stored_schema_version_;
    }
    if (auto owner = owner_.lock()) owner->HandedOver(key_, this, std::move(granted));
  }
  if (final) {
    if (reason == EndReason::kExternal) EngineCounters::Add(rt.counters().handoffs, 1);
    saving.Unlock();
    // The session was sealed with the snapshot this save stored: no change is unsaved.
    EndOnce(reason, "", false, thrown);
  }
  return Status::Ok();
}

Status RawSession::Impl::Abandon() {
  EngineContext& rt = *engine_;
  internal::UniqueLock save_lock(save_mu_);
  std::unique_ptr<const AcquireResult> undo;
  {
    internal::MutexLock lock(mu_);
    if (fenced_) return Status::Ok();
    undo = std::move(undo_);
    fenced_ = true;
    ended_ = SessionEnd{EndReason::kManual, false, "abandoned by its start"};
    end_notified_ = true;  // never handed to the user: no signal
    end_signalled_ = true;
    ClearHandlers();
    end_cv_.notify_all();
  }
  SaveRequest request;
  request.lock = {rt.incarnation(), session_id_, epoch_};
  request.kind = CommitKind::kAbandon;
  request.codec = store_->codec;
  request.undo = undo.get();  // null once the start completed: a plain release
  auto released = CommitSave(rt.Transaction(), {store_->name, key_}, request);
  rt.critical_state().Record(released.status());
  save_lock.Unlock();
  LeaveOwner();
  // LockLost means someone already took the lock over: nothing of ours is left behind.
  if (!released.ok() && released.status().code() != StatusCode::kLockLost) return released.status();
  return Status::Ok();
}

void RawSession::Impl::StartCompleted() {
  internal::MutexLock lock(mu_);
  undo_.reset();
}

bool RawSession::Impl::FenceFor(EndReason reason) {
  internal::MutexLock lock(mu_);
  if (fenced_) return false;
  fenced_ = true;
  fenced_for_ = reason;
  return true;
}

bool RawSession::Impl::MarkReleaseRequested() {
  internal::MutexLock lock(mu_);
  if (release_requested_ || fenced_) return false;
  release_requested_ = true;
  return true;
}

void RawSession::Impl::WithdrawReleaseRequest() {
  internal::MutexLock lock(mu_);
  release_requested_ = false;
}

void RawSession::Impl::EndOnce(EndReason reason, std::string detail, std::optional<bool> unsaved,
                               std::exception_ptr* thrown) {
  {
    internal::MutexLock lock(mu_);
    if (ended_) return;
  }
  const bool lost = unsaved ? *unsaved : HasUnsavedChanges();
  KeepLastSaved();
  std::function<void(const SessionEnd&)> on_end;
  SessionEnd end{reason, lost, std::move(detail)};
  {
    internal::MutexLock lock(mu_);
    if (ended_) return;  // another thread ended it meanwhile
    fenced_ = true;
    ended_ = end;
    on_end = on_session_end_;
    end_notified_ = static_cast<bool>(on_end);
  }
  // The handler runs before a waiting starter is woken, so a handoff's OnSessionEnd comes
  // before the new session exists.
  if (on_end)
    Guarded(
        "OnSessionEnd", [&] { on_end(end); }, thrown);
  {
    internal::MutexLock lock(mu_);
    end_signalled_ = true;
    ClearHandlers();
  }
  end_cv_.notify_all();
  LeaveOwner();
}

void RawSession::Impl::ClearHandlers() {
  on_save_ = nullptr;
  on_last_save_ = nullptr;
  on_after_save_ = nullptr;
  on_session_end_ = nullptr;
  on_message_ = nullptr;
}

void RawSession::Impl::EndAfterItsReleaseWasStored(
    std::string_view stored_payload, const std::vector<int64_t>& stored_user_ids,
    const std::map<std::string, std::string>& stored_metadata) {
  { internal::MutexLock wait_for_the_save(save_mu_); }  // the save that released has returned
  {
    internal::UniqueLock lock(mu_);
    if (final_committed_ || ended_) {
      while (!end_signalled_) end_cv_.wait(lock.native());
      return;
    }
  }
  EndOnce(EndReason::kStolen,
          "the profile was taken over after this session's final save reported an error",
          UnsavedAgainst(stored_payload, stored_user_ids, stored_metadata));
}

}  // namespace holdfast
