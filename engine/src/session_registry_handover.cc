// The session registry's side of a handoff: asking the holder to release (on a worker, which
// confirms the request is still wanted), offering the newest waiting start to the holder's final
// save so that its commit hands the lock over (SaveRequest::hand_to), keeping the grant until
// the start takes it (FromGrant), and giving back, fenced on its epoch, a grant whose start left.
#include "session_registry.h"

namespace holdfast {

using internal::LiveSession;

void RawStore::Impl::RequestRelease(const std::string& key, KeyEntry& entry,
                                    EndReason release_reason) {
  entry.release_wanted = true;
  std::shared_ptr<LiveSession> holder = entry.holder;
  if (!holder->MarkReleaseRequested()) return;  // already asked (and not withdrawn since)
  // The release runs on a worker, which first asks whether it is still wanted: a start that
  // gave up in the meantime withdrew it, and the holder then keeps its session.
  engine_->workers().Submit([registry = weak_from_this(), key, holder, release_reason] {
    auto self = registry.lock();
    std::optional<internal::HandOverTo> hand_to;
    if (self && !self->ConfirmRelease(key, *holder, release_reason, &hand_to)) return;
    (void)holder->Finish(release_reason, hand_to ? &*hand_to : nullptr);
    if (self) self->ReleaseReturned(key, *holder);
  });
}

bool RawStore::Impl::ConfirmRelease(const std::string& key, LiveSession& holder,
                                    EndReason release_reason,
                                    std::optional<internal::HandOverTo>* hand_to) {
  internal::MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.holder.get() != &holder) {
    return false;  // the holder already ended (or was stolen): nothing to release
  }
  KeyEntry& entry = it->second;
  if (entry.release_wanted) {
    entry.releasing = true;
    // A start's handoff (not an admin's, nor another engine's) goes straight to the newest start.
    if (release_reason == EndReason::kExternal && entry.handover_to &&
        entry.handover_generation == entry.newest_start) {
      *hand_to = *entry.handover_to;
      entry.offered_generation = entry.handover_generation;
    }
    return true;
  }
  holder.WithdrawReleaseRequest();
  return false;
}

void RawStore::Impl::ReleaseReturned(const std::string& key, LiveSession& holder) {
  std::optional<internal::AcquireResult> unused;
  {
    internal::MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    KeyEntry& entry = it->second;
    // A lock handed to a start that left before taking it (it left no offer behind).
    if (entry.grant &&
        !(entry.handover_to && entry.handover_generation == entry.grant_generation)) {
      unused = std::move(*entry.grant);
      entry.grant.reset();
    }
    if (entry.holder.get() == &holder) {
      entry.releasing = false;
      holder.WithdrawReleaseRequest();
    }
    if (entry.Unused()) entries_.erase(it);
    cv_.notify_all();
  }
  if (unused) ReturnGrant(key, *unused);
}

void RawStore::Impl::HandedOver(const std::string& key, const LiveSession* session,
                                internal::AcquireResult granted) {
  {
    internal::MutexLock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.holder.get() == session) {
      it->second.grant = std::make_unique<internal::AcquireResult>(std::move(granted));
      it->second.grant_generation = it->second.offered_generation;
      return;
    }
  }
  // The holder was fenced for a steal while its commit landed: the stealing start takes the
  // profile by its own acquisition; the lock handed over is nobody's.
  ReturnGrant(key, granted);
}

void RawStore::Impl::ReturnGrant(const std::string& key, const internal::AcquireResult& grant) {
  EngineContext& rt = *engine_;
  internal::SaveRequest request;
  request.lock = {rt.incarnation(), grant.meta.lock ? grant.meta.lock->session_id : 0, grant.epoch};
  request.kind = CommitKind::kAbandon;
  request.codec = config_->codec;
  request.undo = &grant;  // meta as the holder's release left it
  auto returned = internal::CommitSave(rt.Transaction(), {config_->name, key}, request);
  // LockLost: the profile was taken since (by a start of its own); nothing to give back.
  if (returned.status().code() != StatusCode::kLockLost) {
    rt.critical_state().Record(returned.status());
  }
}

void RawStore::Impl::LeaveHandOver(KeyEntry& entry, uint64_t me,
                                   std::optional<internal::AcquireResult>* unused) {
  if (entry.handover_to && entry.handover_generation == me) entry.handover_to.reset();
  if (entry.grant && entry.grant_generation == me) {
    *unused = std::move(*entry.grant);
    entry.grant.reset();
  }
}

std::shared_ptr<internal::LiveSession> RawStore::Impl::FromGrant(const std::string& key,
                                                                 uint64_t session_id,
                                                                 const SessionOptions& options,
                                                                 internal::AcquireResult granted) {
  breaker_.RecordStart(engine_->clock().Monotonic());
  auto session = std::make_shared<LiveSession>(engine_, config_, weak_from_this(), key,
                                               session_id, granted);
  session->SetHandlers(options);  // before any other thread can see the session
  return session;
}

}  // namespace holdfast
