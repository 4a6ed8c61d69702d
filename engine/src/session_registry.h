// SessionRegistry (RawStore::Impl): one open store's live sessions in this engine, by profile
// key, and the coordination of who may acquire each key: a free key is acquired at once; a key
// held by a live session of this engine is handed off (the holder is asked to make its final
// save and release) or stolen (after handoff_timeout, or at once with SessionOptions::steal); of
// several waiting starters the newest wins.
//
// The registry owns its live sessions (a session whose handles were all dropped keeps running,
// auto-saving, until it ends); a session tells it of its end through SessionOwner.
//
// Thread safety: all methods are thread-safe. Lock order (docs/architecture.md): mu_ before a
// session's mu_. User code (cancel predicates) is never called with mu_ held.
#ifndef HOLDFAST_SRC_SESSION_REGISTRY_H_
#define HOLDFAST_SRC_SESSION_REGISTRY_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine_context.h"
#include "holdfast/clock.h"
#include "holdfast/raw_store.h"
#include "holdfast/session.h"
#include "live_session.h"
#include "mutex.h"
#include "peer_messages.h"
#include "profile_transactions.h"
#include "repair_breaker.h"
#include "store_config.h"

namespace holdfast {
namespace internal {
using SessionRegistry = RawStore::Impl;
}  // namespace internal

class RawStore::Impl final : public internal::SessionOwner,
                             public std::enable_shared_from_this<RawStore::Impl> {
 public:
  using EngineContext = internal::EngineContext;
  using StoreConfig = internal::StoreConfig;
  using LiveSession = internal::LiveSession;

  Impl(std::shared_ptr<EngineContext> engine, std::shared_ptr<const StoreConfig> config);

  const StoreConfig& config() const { return *config_; }
  EngineContext& engine() const { return *engine_; }

  // See RawStore::StartSession for the contract.
  Result<RawSession> Start(std::string_view key, const SessionOptions& options,
                           const SessionDataFactory& make_data);

  // Runs `fn` with the key claimed (no session of this engine holds it; a live holder is asked
  // to make its final save with `release_reason`, a stuck one is fenced and passed as the
  // victim). For admin transactions such as rollback. Statuses as for Start's wait.
  // With `fence_for` (kRemoved) a live holder is not asked to save: it is fenced at once for
  // that reason and passed as the victim.
  Status Exclusive(std::string_view key, EndReason release_reason,
                   const std::function<Status(const std::string& key,
                                              const std::shared_ptr<LiveSession>& victim)>& fn,
                   std::optional<EndReason> fence_for = std::nullopt);

  // See RawStore::Message: stores the message, then hands it to this engine's session of the key.
  Status Message(std::string_view key, std::string_view payload);

  // The sessions that hold a key of this store now.
  std::vector<std::shared_ptr<LiveSession>> LiveSessions() const;
  size_t LiveCount() const;
  // Keys with any state here (a holder, a claim, a waiting starter); for tests: an ended
  // profile leaves none.
  size_t EntryCount() const;

  // A session ended: forget it as the key's holder and wake waiting starters.
  void SessionEnded(const std::string& key, const LiveSession* session) override;
  // The holder's final save handed the lock to the start it was offered to (ConfirmRelease):
  // kept for that start, which takes it when the holder has ended.
  void HandedOver(const std::string& key, const LiveSession* session,
                  internal::AcquireResult granted) override;
  // Wakes every waiting starter (engine closing).
  void WakeAll();

  // Another engine sent a notification about `key` of this store (peer_messages.h): ask this
  // engine's holder to hand off, wake the starter waiting for it, or deliver a message.
  void OnPeerMessage(internal::PeerMessageKind kind, const std::string& key);
  // This engine's lease on a shared database is lost: every live session is fenced and ends
  // with kLockLost (its unsaved changes reported), and waiting starters wake up.
  void EndAllForLeaseLost(const Status& why);

  // Run by the worker that is about to make `holder`'s handoff release: true when a starter
  // still wants it (the release can no longer be withdrawn from then on); false when every
  // starter that asked has given up — the request is withdrawn and the holder keeps its session.
  // With `release_reason` kExternal and the newest starter waiting for this handoff, `*hand_to`
  // is set to it: the final save hands the lock straight to that start (one commit).
  bool ConfirmRelease(const std::string& key, LiveSession& holder, EndReason release_reason,
                      std::optional<internal::HandOverTo>* hand_to);
  // The handoff release of `holder` returned; if the session is still the key's holder (the
  // release failed), a later start may ask again. A lock it handed to a start that has given up
  // meanwhile is given back here.
  void ReleaseReturned(const std::string& key, LiveSession& holder);

 private:
  struct KeyEntry {
    std::shared_ptr<LiveSession> holder;  // the live session of this engine, if any
    bool acquiring = false;               // a starter is running the acquire transaction
    // A starter asked the holder to hand off and still waits for it; cleared when the last
    // starter leaves (the request is withdrawn) unless the holder's release has begun.
    bool release_wanted = false;
    // The holder's handoff release has begun (ConfirmRelease said yes): it can no longer be
    // withdrawn.
    bool releasing = false;
    uint64_t newest_start = 0;            // generation of the newest starter
    int starters = 0;                     // starters currently inside Start for this key
    uint64_t peer_events = 0;             // notifications that the key was freed elsewhere
    // The newest start waiting for the holder's handoff, to which its final save may hand the
    // lock (`handover_generation`: that start's generation); cleared when it leaves. Both are
    // held by pointer: an entry exists per live session, and most never see a handoff.
    std::unique_ptr<const internal::HandOverTo> handover_to;
    uint64_t handover_generation = 0;
    uint64_t offered_generation = 0;  // the start the running handoff release was offered to
    // A lock the holder's final save handed to start `grant_generation`, until it takes it (or,
    // once it has left, until it is given back).
    std::unique_ptr<internal::AcquireResult> grant;
    uint64_t grant_generation = 0;
    bool Unused() const { return !holder && !acquiring && starters == 0 && !grant; }
  };

  // What an acquisition does about a live session of another engine.
  struct PeerChoice {
    bool take = false;             // steal it
    bool request_release = false;  // record a release request and notify its engine
  };

  // Runs the acquire transaction and builds the session (not yet registered). Called without
  // mu_; `victim` is the session being stolen from, if any. When another engine's live session
  // holds the key and `peer` does not take it, returns a null session and sets `*held`.
  Result<std::shared_ptr<LiveSession>> Acquire(const std::string& key,
                                               const std::shared_ptr<LiveSession>& victim,
                                               const SessionOptions& options,
                                               const PeerChoice& peer,
                                               std::optional<internal::PeerHold>* held);
  // Acquire, handing off from another engine's live session when one holds the key: a release
  // request, then a wait for the notification that it was freed (or for the holder's lease to
  // run out), a steal after handoff_timeout; on_held, fail_if_held, cancel, the deadline and a
  // newer start as for a holder of this engine. Called without mu_ (`lock` is unlocked on entry
  // and on return); the caller's claim keeps other starters of this engine out meanwhile.
  Result<std::shared_ptr<LiveSession>> AcquireAcrossEngines(
      internal::UniqueLock& lock, const std::string& key, KeyEntry& entry, uint64_t me,
      const SessionOptions& options, Clock::Duration deadline,
      const std::shared_ptr<LiveSession>& victim) NO_THREAD_SAFETY_ANALYSIS;
  // Exclusive's part on a database engines share: while a live session of another engine holds
  // the key, asks it to hand off and waits for the notification that it did (or for its lease
  // to end); once handoff_timeout passed, returns OK anyway (the admin write then fences that
  // session). Called without mu_, as AcquireAcrossEngines.
  Status WaitForPeerRelease(internal::UniqueLock& lock, const std::string& key, KeyEntry& entry,
                            uint64_t me, Clock::Duration deadline) NO_THREAD_SAFETY_ANALYSIS;
  // Waits (taking mu_ through `lock`, unlocked on entry and return) until a notification about
  // the key arrives after `seen`, or until `retry_at`; OK to try again, or Closed, Aborted (a
  // newer start) or Cancelled (`options`, when given).
  Status WaitForPeerEvent(internal::UniqueLock& lock, const std::string& key, KeyEntry& entry,
                          uint64_t me, uint64_t seen, Clock::Duration retry_at,
                          const SessionOptions* options) NO_THREAD_SAFETY_ANALYSIS;
  // The start's cancel token or predicate says stop; a predicate that throws counts as a cancel
  // (reported).
  bool Cancelled(const SessionOptions& options, std::string_view key);
  // Asks Cancelled with mu_ released for the call (it runs user code). The static analysis cannot
  // follow `lock` (which holds mu_) through the reference, so it checks the callers instead.
  bool CancelledWithout(internal::UniqueLock& lock, const SessionOptions& options,
                        std::string_view key) REQUIRES(mu_) NO_THREAD_SAFETY_ANALYSIS;
  // Asks options.on_held about `holder` with mu_ released (user code); a handler that throws
  // cancels (reported). Same analysis note as CancelledWithout.
  HeldChoice AskWithout(internal::UniqueLock& lock, const SessionOptions& options,
                        std::string_view key, const HolderInfo& holder)
      REQUIRES(mu_) NO_THREAD_SAFETY_ANALYSIS;
  // Builds the session's live data from its loaded payload; Corruption when the factory
  // refuses it.
  Status AttachData(LiveSession& session, const SessionDataFactory& make_data);
  // With mu_ held by `lock`: waits until this caller (generation `me`) may act on the key alone —
  // no acquisition in flight and no live holder (handed off with `release_reason`, or fenced
  // for a steal and returned in `*victim`) — then marks the entry acquiring. Closed, Aborted,
  // Cancelled or TimedOut otherwise.
  // A start (`hand_to` set) offers itself to the holder's handoff release (filled in when it
  // first waits for one): when that release hands the lock over, Claim returns OK with the
  // acquisition in `*granted` instead of marking the entry for an acquisition of its own.
  Status Claim(internal::UniqueLock& lock, const std::string& key, KeyEntry& entry, uint64_t me,
               const SessionOptions& options, Clock::Duration deadline, EndReason release_reason,
               std::shared_ptr<LiveSession>* victim, EndReason fence_for = EndReason::kStolen,
               std::optional<internal::HandOverTo>* hand_to = nullptr,
               std::optional<internal::AcquireResult>* granted = nullptr) REQUIRES(mu_);
  // The session of a lock a handoff release handed to this start.
  std::shared_ptr<LiveSession> FromGrant(const std::string& key, uint64_t session_id,
                                         const SessionOptions& options,
                                         internal::AcquireResult granted);
  // Gives back a lock handed to a start that no longer wants it (fenced on its epoch: nothing
  // happens when someone took the profile since).
  void ReturnGrant(const std::string& key, const internal::AcquireResult& grant);
  // mu_ held: the start `me` leaves; a lock handed to it and not taken is returned in `*unused`.
  void LeaveHandOver(KeyEntry& entry, uint64_t me, std::optional<internal::AcquireResult>* unused)
      REQUIRES(mu_);
  // mu_ held: registers a caller of the key as its newest (generation in *generation).
  KeyEntry& EnterEntry(const std::string& key, uint64_t* generation) REQUIRES(mu_);
  void Unclaim(KeyEntry& entry) REQUIRES(mu_);
  // Asks the holder of `entry` to hand off with `release_reason` (once per holder; a request
  // that was withdrawn is renewed).
  void RequestRelease(const std::string& key, KeyEntry& entry, EndReason release_reason)
      REQUIRES(mu_);
  // The key's holder is gone (ended, or taken by a steal).
  void DropHolder(KeyEntry& entry) REQUIRES(mu_);
  void LeaveEntry(const std::string& key, KeyEntry& entry) REQUIRES(mu_);

  // Longest real wait between checks of a cancel predicate or token (a local holder's handoff and
  // one across engines alike).
  static constexpr Clock::Duration kCancelPoll = std::chrono::milliseconds(10);

  // Constant after construction.
  const std::shared_ptr<EngineContext> engine_;
  const std::shared_ptr<const StoreConfig> config_;

  internal::RepairBreakerState breaker_;  // thread-safe itself

  mutable internal::Mutex mu_{internal::LockLevel::kStoreSessions};
  std::condition_variable cv_;  // any entry changed
  std::map<std::string, KeyEntry> entries_ GUARDED_BY(mu_);
  // Entries with a holder: Stats() reads it for every store, so it is counted, not scanned.
  size_t live_ GUARDED_BY(mu_) = 0;
};

}  // namespace holdfast

#endif  // HOLDFAST_SRC_SESSION_REGISTRY_H_
