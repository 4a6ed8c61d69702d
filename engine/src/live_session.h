// LiveSession (RawSession::Impl): one active session on one profile — its lock identity
// (epoch), what it last saved (a digest of the payload), user ids and metadata, signals, the seal, and the save /
// final-save logic. RawSession and Profile<Codec> are handles to it. It reports its end upward
// through the SessionOwner it is given (its store's session registry), never by including it.
//
// Locks: save_mu_ is held for the whole of each save (so saves of one session, including an
// auto-save racing EndSession, run one after another); mu_ guards the state below and is never
// held while calling user code, the data slot, the store or the runtime.
// Lock order: see docs/architecture.md (save_mu_ -> data lock -> SessionRegistry::mu_ -> mu_).
#ifndef HOLDFAST_SRC_LIVE_SESSION_H_
#define HOLDFAST_SRC_LIVE_SESSION_H_

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "autosave_scheduler.h"
#include "engine_context.h"
#include "holdfast/session.h"
#include "mutex.h"
#include "profile_transactions.h"
#include "store_config.h"

namespace holdfast {
namespace internal {

using LiveSession = RawSession::Impl;

// Who is told when a session ends: its store's session registry.
class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  // `session` ended (or gave its lock back): it no longer holds `key` in this engine.
  virtual void SessionEnded(const std::string& key, const LiveSession* session) = 0;
  // `session`'s final save handed its lock to a waiting start (SaveRequest::hand_to) in the
  // same commit: `granted` is that start's acquisition. Called before the session ends.
  virtual void HandedOver(const std::string& key, const LiveSession* session,
                          AcquireResult granted) = 0;
};

// Identifies a payload without keeping it: equal payloads have equal digests. Equal digests
// do not prove equal payloads (a CRC can collide), so they are confirmed against the bytes.
struct PayloadDigest {
  uint32_t crc = 0;
  size_t size = 0;
  static PayloadDigest Of(std::string_view bytes);
  bool operator==(const PayloadDigest&) const = default;
};

}  // namespace internal

class RawSession::Impl final : public internal::AutosaveTarget,
                               public std::enable_shared_from_this<RawSession::Impl> {
 public:
  using AcquireResult = internal::AcquireResult;
  using EngineContext = internal::EngineContext;
  using StoreConfig = internal::StoreConfig;
  using SessionOwner = internal::SessionOwner;

  Impl(std::shared_ptr<EngineContext> engine, std::shared_ptr<const StoreConfig> store,
       std::weak_ptr<SessionOwner> owner, std::string key, uint64_t session_id,
       const AcquireResult& acquired);

  const std::string& key() const { return key_; }
  uint64_t session_id() const { return session_id_; }
  uint64_t epoch() const { return epoch_; }
  int64_t started_unix_ms() const { return started_unix_ms_; }
  const StoreConfig& store() const { return *store_; }
  bool BelongsTo(const EngineContext& engine) const { return engine_.get() == &engine; }

  // Save(): a save that keeps the lock. OK without a write when nothing changed. Failures are
  // reported (EngineOptions::on_error); an exception a save signal threw is reported and, once
  // the save is done, rethrown to the caller.
  Status Save();
  // The same save run by the auto-saver: exceptions are reported, never rethrown.
  Status AutoSave() override;
  // EndSession(): the final save that releases the lock (kManual); like Save for failures and
  // exceptions.
  Status EndSession();
  Clock::Duration AutosavePeriod() const override;
  // The final save that releases the lock and ends the session with `reason` (kExternal,
  // kShutdown, kRollback), run by the engine: exceptions are reported, never rethrown. Fires
  // OnSave, then OnLastSave. With `hand_to` (a handoff), the same commit gives the lock to that
  // waiting start, and the owner learns its acquisition (SessionOwner::HandedOver).
  Status Finish(EndReason reason, const internal::HandOverTo* hand_to = nullptr);
  // Engine::SaveTogether (save_together.cc): stores the current data of every session (distinct,
  // of this engine, at least one) in one transaction fenced on each one's epoch, each as a kTrade
  // version naming the others. All or nothing: on failure no profile's stored data changed, the
  // status names the profile to blame, and a session whose lock was lost ends (the others stay
  // active with their data).
  // With `change` (Engine::Trade), it runs first, under every session's save lock, and each
  // session's data is put back as it was before it unless the commit stores it.
  static Status SaveTogether(const std::vector<std::shared_ptr<Impl>>& sessions,
                             const std::function<Status()>* change = nullptr);
  // Engine::Close (shutdown_saves.cc): the final saves of `sessions` (distinct, of this engine,
  // sorted by (store, key)) for `reason`, committed as ONE transaction fenced on each one's
  // epoch instead of one commit each: a close of 100k sessions is bound by per-commit work
  // (transaction set-up, the WAL write, the write group's hand-offs), not by the records. Each
  // session fires OnSave/OnLastSave and ends exactly as through Finish; a session with save
  // signals (game code that may save another profile) or whose save lock is busy is finished
  // alone through Finish, holding no other lock, so that no batch waits on a lock while holding
  // others. If one session fails
  // the shared commit (its lock lost, its meta damaged), the others are committed on their own,
  // so it never costs them their saves; a failure that is no one session's (storage, a fault at
  // the commit) fails every session of the batch, as a failed Finish does (each stays active,
  // unsealed). Returns each session's status, in order.
  static std::vector<Status> FinishTogether(const std::vector<std::shared_ptr<Impl>>& sessions,
                                            EndReason reason);
  // The session's live data (null for a byte-level session without one).
  std::shared_ptr<SessionData> Slot() const;
  // Gives the lock back without saving and ends the session silently: for a start that was
  // superseded, cancelled or failed to decode after its acquisition committed.
  Status Abandon();
  // The start that acquired this session returned it to the caller: it will never be abandoned,
  // so what undoing the acquisition needs is dropped.
  void StartCompleted();

  // Called by a starter (or a removal) holding SessionRegistry::mu_: no new writes may begin; a
  // save in flight is left to the database's fence and, if it then fails, ends the session with
  // `reason` (kStolen, kRemoved). Returns false if the session was already fenced (ended, or its
  // final save committed): there is nothing to take.
  bool FenceFor(EndReason reason);
  // Ends the session (once) with `reason`, firing OnSessionEnd. `unsaved` is computed against
  // the last saved payload when unset; a steal passes it (its save may still be in flight).
  // An exception OnSessionEnd throws is reported and, with `thrown`, kept there for the caller.
  void EndOnce(EndReason reason, std::string detail, std::optional<bool> unsaved = std::nullopt,
               std::exception_ptr* thrown = nullptr);
  // Whether this session's data, user ids or metadata differ from what is stored: for a steal,
  // which knows the stored state from its own transaction even while this session's last save
  // is still finishing on another thread.
  bool UnsavedAgainst(std::string_view stored_payload, const std::vector<int64_t>& stored_user_ids,
                      const std::map<std::string, std::string>& stored_metadata);
  // Marks that a handoff asked this session to release; true only for the first request (until
  // it is withdrawn).
  bool MarkReleaseRequested();
  // The handoff request was withdrawn (every start that asked gave up before the release
  // began) or its release failed: a later start may ask again.
  void WithdrawReleaseRequest();
  // For a starter whose steal found the lock already released by this session's own final save
  // (no engine lock held): waits for that save to return, then for its OnSessionEnd, so the new
  // session never exists before the old one's end is signalled. If that save reported a failure
  // although its release is stored (a failed sync whose write survived), ends the session here
  // as stolen, with unsaved changes judged against what the starter loaded.
  void EndAfterItsReleaseWasStored(std::string_view stored_payload,
                                   const std::vector<int64_t>& stored_user_ids,
                                   const std::map<std::string, std::string>& stored_metadata);

  bool IsActive() const override;
  // OK while edits are accepted; see RawSession::EditStatus.
  Status EditStatus() const;
  ProfileInfo Info() const;
  // The payload of the last successful save (or as loaded). Once data is attached, the live
  // session keeps no copy of it: unedited since, it is the data's own encoding; edited since, it
  // is read from the stored version — and when that read fails (storage down), the failure goes
  // to EngineOptions::on_error (kLastSavedData) and the answer is empty.
  std::string LastSavedBytes() const;
  // Whether the data, user ids or metadata differ from what this session last stored. Exact:
  // a digest first, the stored version's bytes when the digests are equal; true when those
  // bytes cannot be read.
  bool HasUnsavedChanges();
  // When the session ends (EndOnce; a removal, before it deletes the versions): reads its last
  // saved payload back into memory, so that its handles can still ask for it after the engine
  // closed. Skipped when already kept; left to LastSavedBytes when unreadable.
  void KeepLastSaved();
  // The store schema version of the last saved (or loaded) payload.
  uint32_t StoredSchemaVersion() const;
  Status EditUserIds(const std::function<void(std::vector<int64_t>&)>& edit);
  Status EditMetadata(const std::function<Status(std::map<std::string, std::string>&)>& edit);
  std::optional<std::string> Metadata(std::string_view key) const;
  // The session's live data (from SessionDataFactory); set by the registry before the session is
  // visible. Without it, the data is the last saved payload.
  void SetData(std::shared_ptr<SessionData> data);

  void SetOnSave(std::function<void()> fn);
  void SetOnLastSave(std::function<void(EndReason)> fn);
  void SetOnAfterSave(std::function<void(std::string_view)> fn);
  void SetOnSessionEnd(std::function<void(const SessionEnd&)> fn);
  // Installs the handlers given in SessionOptions (before the session is registered).
  void SetHandlers(const SessionOptions& options);

  // Messages (live_session_messages.cc). Delivers the messages waiting for the profile to the
  // handler on an engine worker: one delivery at a time per session; a call during one makes it
  // look again when it is done. Called when the session starts, when a message for it was
  // stored, and when a handler is installed.
  void DeliverMessages();
  void SetMessageHandler(MessageHandler fn);

 private:
  // Holds save_mu_ and marks the calling thread as the one saving (signals run there, and a
  // Save from one of them is refused instead of waiting for itself).
  class SCOPED_CAPABILITY SaveLock {
   public:
    explicit SaveLock(Impl& session) ACQUIRE(session.save_mu_);
    ~SaveLock() RELEASE();
    // Releases early (before ending the session, whose waiters take save_mu_).
    void Unlock() RELEASE();

   private:
    Impl& session_;
    bool held_ = true;
  };

  // What one save stores, taken under save_mu_ after the save signals ran (PrepareSave).
  struct PreparedSave {
    std::string payload;
    bool payload_changed = false;
    bool meta_changed = false;
    uint64_t meta_generation = 0;
    std::vector<int64_t> user_ids;                // when meta_changed
    std::map<std::string, std::string> metadata;  // when meta_changed
    // Messages marked processed so far (no handler runs under save_mu_): their removal is
    // stored with the edits they caused.
    std::vector<uint64_t> processed;
    std::optional<uint64_t> changes;  // the slot's ChangeCount before the snapshot
    bool Unchanged() const { return !payload_changed && !meta_changed && processed.empty(); }
  };

  // With save_mu_ held and the session not fenced: fires OnSave (and, for a final save,
  // OnLastSave), snapshots the data (sealing the session for a final save) and checks its size.
  // A failure leaves the session active and unsealed.
  Result<PreparedSave> PrepareSave(bool final, EndReason reason, std::exception_ptr* thrown);
  // The request that stores `prepared` under this session's lock.
  internal::SaveRequest RequestFor(const PreparedSave& prepared, CommitKind kind,
                                   VersionReason reason) const;
  // The request of a save (`final`: the final save for `reason`).
  internal::SaveRequest RequestFor(const PreparedSave& prepared, bool final,
                                   EndReason reason) const;
  // After the commit of `prepared` returned `saved` (with save_mu_ held through `saving`): the
  // session follows — saved (and, when final, ended), unsealed after a failure, or ended after
  // LockLost. Returns the save's status.
  Status Committed(SaveLock& saving, const PreparedSave& prepared,
                   Result<internal::SaveResult>& saved, bool final, EndReason reason,
                   Clock::Duration started, std::exception_ptr* thrown);
  // Reports a failed save to EngineOptions::on_error.
  void ReportFailed(FailedOperation operation, const Status& status);
  // After `prepared` was stored as `saved`: the session's state follows, counters, OnAfterSave.
  void SaveStored(const PreparedSave& prepared, const internal::SaveResult& saved, bool final,
                  Clock::Duration started, std::exception_ptr* thrown);
  // A save failed with LockLost: no new writes. The caller then releases save_mu_ and calls
  // EndLost.
  std::optional<EndReason> FenceLost();
  // `unsaved`: what the lost save carried (unset: judged against the last saved data).
  void EndLost(std::optional<EndReason> fenced_for, const Status& lost,
               std::optional<bool> unsaved, std::exception_ptr* thrown);
  void Unseal();

  // Runs Commit for `operation` and reports a failure; rethrows a handler's exception when the
  // caller is the game's own thread (`rethrow`).
  Status Run(bool final, EndReason reason, FailedOperation operation, bool rethrow,
             const internal::HandOverTo* hand_to = nullptr);
  // The shared body of every save. `*attempted`: it got past the checks (a failure is worth
  // reporting); `*thrown`: the first exception a handler threw (the save went on regardless).
  Status Commit(bool final, EndReason reason, bool* attempted, std::exception_ptr* thrown,
                const internal::HandOverTo* hand_to);
  // Runs game code: an exception is reported and kept in `*thrown` (when set and still empty).
  void Guarded(std::string_view doing, const std::function<void()>& call,
               std::exception_ptr* thrown);
  // InvalidArgument when the calling thread holds a lock the save needs: inside Edit/Read of
  // this profile, or inside one of its save signals.
  Status CheckNotReentrant() const;
  // The status for a write attempted after the session ended.
  Status EndedStatus() const REQUIRES(mu_);
  // The status for an edit attempted while a final save for `reason` is in flight (mu_ held).
  static Status SealedStatus(EndReason reason);
  // The encoding of `slot`'s data when its ChangeCount equals `saved_changes` before and after
  // encoding (so it is the last saved data); nullopt otherwise.
  std::optional<std::string> EncodeIfUnedited(SessionData& slot,
                                              std::optional<uint64_t> saved_changes) const;
  // Whether `payload` (a snapshot taken when the slot's ChangeCount was `changes`) is exactly
  // the last saved payload (see last_saved_); false when the stored version it must be compared
  // with cannot be read.
  bool MatchesLastSaved(std::string_view payload, std::optional<uint64_t> changes) const;
  // The stored payload of version `version` of this profile.
  Result<std::string> StoredPayload(uint64_t version) const;
  // Encodes the current data: the slot's encoding, or the last saved payload without a slot.
  // With `seal_for`, the session is sealed for that final save in the same critical section as
  // the snapshot (under the slot's data lock), so no edit lands between the two.
  // `changes`, when given, receives the slot's ChangeCount read just before the snapshot.
  Result<std::string> Encode(std::optional<EndReason> seal_for = std::nullopt,
                             std::optional<uint64_t>* changes = nullptr);
  // Leaves the auto-save schedule and tells the owner (if it still exists) that this session no
  // longer holds the key.
  void LeaveOwner();
  // Drops every handler once the session has ended: they can never run again, and a handler that
  // holds the session's own handle (a message handler editing its profile) would otherwise keep
  // the session alive forever.
  void ClearHandlers() REQUIRES(mu_);
  // The delivery loop run on a worker (DeliverMessages).
  void RunDelivery();
  // Hands one message to the handler with save_mu_ held. False when the session no longer
  // delivers (ended, or no handler).
  bool DeliverOne(const internal::MessageRecord& message);
  // processed() of a delivered message: its removal joins the next save.
  void MarkProcessed(uint64_t sequence);
  void ReportMessageFailure(uint64_t sequence, const Status& status);

  // Constant after construction.
  const std::shared_ptr<EngineContext> engine_;
  const std::shared_ptr<const StoreConfig> store_;
  const std::weak_ptr<SessionOwner> owner_;
  const std::string key_;
  const uint64_t session_id_;
  const uint64_t epoch_;
  const int64_t created_unix_ms_;
  const uint64_t load_count_;
  const int64_t first_session_unix_ms_;
  const int64_t started_unix_ms_;  // when this session took the lock

  internal::Mutex save_mu_{internal::LockLevel::kSessionSave};
  // The thread holding save_mu_ in a save (where signals run) or a message delivery; only that
  // thread can match.
  std::atomic<std::thread::id> saving_thread_{};

  mutable internal::Mutex mu_{internal::LockLevel::kSessionState};
  std::shared_ptr<SessionData> slot_ GUARDED_BY(mu_);
  bool fenced_ GUARDED_BY(mu_) = false;  // no new writes: ended, or stolen
  // Set while a final save runs, from its snapshot of the data until its commit: edits and user
  // id / metadata changes are refused (they would not be stored). Cleared if the save fails
  // and the session stays active.
  std::optional<EndReason> sealed_for_ GUARDED_BY(mu_);
  // Why another party fenced this session (kStolen, kRemoved): the end a save failing with
  // LockLost reports.
  std::optional<EndReason> fenced_for_ GUARDED_BY(mu_);
  bool release_requested_ GUARDED_BY(mu_) = false;
  std::optional<SessionEnd> ended_ GUARDED_BY(mu_);  // set once, when the session ended
  bool end_notified_ GUARDED_BY(mu_) = false;
  // A final save committed; its thread ends the session.
  bool final_committed_ GUARDED_BY(mu_) = false;
  // EndOnce (or Abandon) has finished, handler included.
  bool end_signalled_ GUARDED_BY(mu_) = false;
  std::condition_variable end_cv_;  // end_signalled_ became true
  // What Abandon() needs to undo the acquisition; dropped when the start completes (a live
  // session never abandons, and the previous meta it holds would cost every session memory).
  std::unique_ptr<const AcquireResult> undo_ GUARDED_BY(mu_);
  // The last saved (or loaded) payload, in memory (last_saved_kept_) only while no data is
  // attached — a raw session without a SessionDataFactory, whose data it is; a start before
  // AttachData — and once the session ended (not after a final save that stored the data's last
  // state: its encoding answers, SaveStored). A live session with data would otherwise hold a
  // second copy of every profile: the slot's change count, the digest and the stored version
  // `version_` stand for it (MatchesLastSaved).
  std::string last_saved_ GUARDED_BY(mu_);
  bool last_saved_kept_ GUARDED_BY(mu_) = true;
  internal::PayloadDigest saved_digest_ GUARDED_BY(mu_);
  // The slot's ChangeCount when its data was last known equal to the stored payload (loaded, or
  // counted before the snapshot a save stored); nullopt: compare the bytes.
  std::optional<uint64_t> saved_changes_ GUARDED_BY(mu_);
  // Its schema version: below the store's, the next save writes the (migrated) data even when
  // its bytes did not change, so that no migration step runs twice on stored data.
  uint32_t stored_schema_version_ GUARDED_BY(mu_) = 0;
  uint64_t version_ GUARDED_BY(mu_) = 0;
  int64_t updated_unix_ms_ GUARDED_BY(mu_) = 0;
  std::vector<int64_t> user_ids_ GUARDED_BY(mu_);
  std::map<std::string, std::string> metadata_ GUARDED_BY(mu_);
  uint64_t meta_generation_ GUARDED_BY(mu_) = 0;  // bumped by every user id / metadata change
  uint64_t meta_saved_generation_ GUARDED_BY(mu_) = 0;
  std::function<void()> on_save_ GUARDED_BY(mu_);
  std::function<void(EndReason)> on_last_save_ GUARDED_BY(mu_);
  std::function<void(std::string_view)> on_after_save_ GUARDED_BY(mu_);
  std::function<void(const SessionEnd&)> on_session_end_ GUARDED_BY(mu_);
  MessageHandler on_message_ GUARDED_BY(mu_);
  uint64_t delivered_up_to_ GUARDED_BY(mu_) = 0;  // highest sequence handed to the handler
  std::vector<uint64_t> processed_ GUARDED_BY(mu_);  // marked processed, removal not yet saved
  bool delivering_ GUARDED_BY(mu_) = false;      // a delivery task is queued or running
  bool deliver_again_ GUARDED_BY(mu_) = false;   // asked again while delivering
};

}  // namespace holdfast

#endif  // HOLDFAST_SRC_LIVE_SESSION_H_
