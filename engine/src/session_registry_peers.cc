// The session registry's side of engines sharing one database (PostgreSQL): a start that finds
// the profile held by a live session of another engine, and what this engine does with the
// notifications other engines send it (peer_messages.h).
//
// A handoff across engines: the starter's acquire transaction finds the other engine's lock and a
// live lease, records a release request (its incarnation and session) in the profile's meta
// record and notifies the holder's engine, in the same commit. That engine asks its session to
// hand off, exactly as a local starter would (final save on a worker, OnLastSave/OnSessionEnd
// with kExternal); the releasing commit notifies the starter, which wakes and acquires. No
// polling: the starter waits for the notification, for the holder's lease to run out (a holder
// that died: its lock is then an orphan), for handoff_timeout (then it steals), or for its own
// deadline. Every decision is taken again in a transaction, so a lost notification only costs
// time.
#include "session_registry.h"

#include <algorithm>

namespace holdfast {

using internal::LiveSession;
using internal::PeerHold;
using internal::PeerMessageKind;

namespace {

Status HeldElsewhere(const PeerHold& held) {
  return Status::Locked("profile is held by session " + std::to_string(held.lock.session_id) +
                        " (epoch " + std::to_string(held.lock.epoch) +
                        ") of another engine (incarnation " +
                        std::to_string(held.lock.incarnation) + ", " + held.lock.owner + ")");
}

}  // namespace

Result<std::shared_ptr<LiveSession>> RawStore::Impl::AcquireAcrossEngines(
    internal::UniqueLock& lock, const std::string& key, KeyEntry& entry, uint64_t me,
    const SessionOptions& options, Clock::Duration deadline,
    const std::shared_ptr<LiveSession>& victim) {
  EngineContext& rt = *engine_;
  Clock& clock = rt.clock();
  HeldChoice choice = options.steal ? HeldChoice::kSteal : HeldChoice::kTakeOver;
  PeerChoice peer;
  peer.take = options.steal;
  // Ask for the release in the first transaction unless the game decides first (on_held) or
  // will not wait (fail_if_held).
  peer.request_release = !options.steal && !options.fail_if_held && !options.on_held;
  uint64_t requested_from = 0;  // the holder session asked to release (0: none yet)
  uint64_t asked_about = 0;     // the holder session on_held was last asked about
  Clock::Duration ask_again{};
  int attempts = 0;
  std::optional<Clock::Duration> handoff_deadline;
  for (;;) {
    lock.Lock();
    const uint64_t seen = entry.peer_events;
    lock.Unlock();
    std::optional<PeerHold> held;
    auto acquired = Acquire(key, victim, options, peer, &held);
    if (!acquired.ok() || !held) return acquired;
    if (peer.request_release) requested_from = held->lock.session_id;
    peer.request_release = false;
    if (options.fail_if_held) return HeldElsewhere(*held);

    Clock::Duration now = clock.Monotonic();
    if (options.on_held && (held->lock.session_id != asked_about ||
                            (choice == HeldChoice::kWait && now >= ask_again))) {
      asked_about = held->lock.session_id;
      HolderInfo info{held->lock.session_id, held->lock.epoch, held->lock.owner,
                      held->lock.acquired_unix_ms, ++attempts};
      lock.Lock();
      choice = AskWithout(lock, options, key, info);
      lock.Unlock();
      ask_again = clock.Monotonic() + config_->settings.handoff_timeout;
      if (choice == HeldChoice::kCancel) {
        return Status::Cancelled("the start chose not to wait: the profile is held by session " +
                                 std::to_string(asked_about) + " of another engine");
      }
      if (choice == HeldChoice::kSteal) peer.take = true;
      if (choice == HeldChoice::kTakeOver && requested_from != held->lock.session_id) {
        peer.request_release = true;
      }
      continue;  // decide again in a fresh transaction
    }
    if (choice == HeldChoice::kTakeOver) {
      if (requested_from != held->lock.session_id) {  // a new holder: ask it too
        peer.request_release = true;
        continue;
      }
      if (!handoff_deadline) handoff_deadline = now + config_->settings.handoff_timeout;
      if (now >= *handoff_deadline) {
        peer.take = true;  // the holder did not hand off in time: steal
        continue;
      }
    }
    if (now >= deadline) return Status::TimedOut("timed out waiting for the profile");

    // Wait for a notification that the key was freed, for the holder's lease to run out (its
    // engine died: the lock is then an orphan), for the handoff deadline, for on_held's next
    // question, or for the start's own deadline; cancel is polled meanwhile.
    Clock::Duration retry_at =
        std::min(deadline, now + std::chrono::milliseconds(held->lease_remaining_ms + 1));
    if (handoff_deadline) retry_at = std::min(retry_at, *handoff_deadline);
    if (choice == HeldChoice::kWait) retry_at = std::min(retry_at, ask_again);
    if (Status w = WaitForPeerEvent(lock, key, entry, me, seen, retry_at, &options); !w.ok()) {
      return w;
    }
  }
}

Status RawStore::Impl::WaitForPeerEvent(internal::UniqueLock& lock, const std::string& key,
                                        KeyEntry& entry, uint64_t me, uint64_t seen,
                                        Clock::Duration retry_at, const SessionOptions* options) {
  EngineContext& rt = *engine_;
  Clock& clock = rt.clock();
  lock.Lock();
  while (entry.peer_events == seen && clock.Monotonic() < retry_at) {
    if (rt.gate().closing() || entry.newest_start != me) break;
    if (options && CancelledWithout(lock, *options, key)) {
      lock.Unlock();
      return Status::Cancelled("StartSession was cancelled");
    }
    clock.WaitUntil(cv_, lock.native(), std::min(retry_at, clock.Monotonic() + kCancelPoll));
  }
  const bool closing = rt.gate().closing();
  const bool superseded = entry.newest_start != me;
  lock.Unlock();
  if (closing) return Status::Closed("engine is closing");
  if (superseded) {
    return Status::Aborted("a newer start or rollback of this profile superseded this one");
  }
  return Status::Ok();
}

Status RawStore::Impl::WaitForPeerRelease(internal::UniqueLock& lock, const std::string& key,
                                          KeyEntry& entry, uint64_t me,
                                          Clock::Duration deadline) {
  EngineContext& rt = *engine_;
  Clock& clock = rt.clock();
  bool request = true;
  uint64_t requested_from = 0;
  std::optional<Clock::Duration> handoff_deadline;
  for (;;) {
    lock.Lock();
    const uint64_t seen = entry.peer_events;
    lock.Unlock();
    auto held = internal::RequestPeerRelease(rt.Transaction(), {config_->name, key}, request);
    if (!held.ok()) return held.status();
    if (!*held) return Status::Ok();  // nobody else's live session holds it (now)
    const PeerHold& hold = **held;
    if (request) requested_from = hold.lock.session_id;
    request = hold.lock.session_id != requested_from;  // a new holder: ask it too
    if (request) continue;
    const Clock::Duration now = clock.Monotonic();
    if (!handoff_deadline) handoff_deadline = now + config_->settings.handoff_timeout;
    if (now >= *handoff_deadline) return Status::Ok();  // the write fences the holder
    if (now >= deadline) return Status::TimedOut("timed out waiting for the profile");
    const Clock::Duration retry_at =
        std::min({deadline, *handoff_deadline,
                  now + std::chrono::milliseconds(hold.lease_remaining_ms + 1)});
    if (Status w = WaitForPeerEvent(lock, key, entry, me, seen, retry_at, nullptr); !w.ok()) {
      return w;
    }
  }
}

void RawStore::Impl::OnPeerMessage(PeerMessageKind kind, const std::string& key) {
  std::shared_ptr<LiveSession> holder;
  {
    internal::MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;  // nobody here cares about this key
    KeyEntry& entry = it->second;
    switch (kind) {
      case PeerMessageKind::kFreed:
        ++entry.peer_events;
        cv_.notify_all();
        return;
      case PeerMessageKind::kRelease:
        // The handoff runs as for a local starter. A holder still starting (not registered yet)
        // misses the request; the other engine then steals after its handoff_timeout.
        if (entry.holder) RequestRelease(key, entry, EndReason::kExternal);
        return;
      case PeerMessageKind::kMessage:
        holder = entry.holder;
        break;
    }
  }
  if (holder) holder->DeliverMessages();
}

void RawStore::Impl::EndAllForLeaseLost(const Status& why) {
  std::vector<std::shared_ptr<LiveSession>> fenced;
  {
    internal::MutexLock lock(mu_);
    for (auto& [key, entry] : entries_) {
      if (entry.holder && entry.holder->FenceFor(EndReason::kLockLost)) {
        fenced.push_back(entry.holder);
      }
    }
    cv_.notify_all();  // waiting starters try again, and fail: nothing is written any more
  }
  for (const auto& session : fenced) {
    session->EndOnce(EndReason::kLockLost,
                     "this engine's lease on the shared database was lost: " + why.ToString());
  }
}

}  // namespace holdfast
