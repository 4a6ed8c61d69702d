// Engine::Close's final saves, many sessions to one transaction (RawSession::Impl::FinishTogether).
// Each batched session's save lock is taken in the caller's (store, key) order and kept from its
// snapshot through the shared commit, as a trade does. No game code runs while a batch holds
// several locks: sessions with save signals are finished alone, and so is a session whose save
// lock another thread holds (it may be waiting for one of the batch's).
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "live_session.h"

namespace holdfast {

using internal::CommitSave;
using internal::CommitSaveTogether;
using internal::TogetherPart;

namespace {

// Forwards to the engine's fault hooks and remembers the last commit point they refused: a
// refusal at one session's point is that session's failure (as it would have been in its own
// commit), not the whole batch's.
class RefusalRecorder final : public FaultHooks {
 public:
  explicit RefusalRecorder(FaultHooks& hooks) : hooks_(hooks) {}
  Status BeforeCommit(const CommitPoint& point) override {
    Status s = hooks_.BeforeCommit(point);
    if (!s.ok()) {
      refused_key_ = std::string(point.key);
      refused_store_ = std::string(point.store);
      refusal_ = s;
    }
    return s;
  }
  void AfterCommit(const CommitPoint& point, uint64_t version) override {
    hooks_.AfterCommit(point, version);
  }
  // Whether `failure` is the last refusal, made at (store, key).
  bool Refused(const Status& failure, std::string_view store, std::string_view key) const {
    // (A transaction that kept conflicting adds context to the last refusal's message.)
    return refusal_ && refusal_->code() == failure.code() &&
           failure.message().find(refusal_->message()) != std::string::npos &&
           refused_store_ == store && refused_key_ == key;
  }

 private:
  FaultHooks& hooks_;
  std::optional<Status> refusal_;
  std::string refused_store_;
  std::string refused_key_;
};

}  // namespace

std::vector<Status> RawSession::Impl::FinishTogether(
    const std::vector<std::shared_ptr<Impl>>& sessions, EndReason reason) {
  std::vector<Status> statuses(sessions.size());
  if (sessions.empty()) return statuses;
  EngineContext& rt = *sessions.front()->engine_;

  // The sessions whose final save was prepared, with their locks held.
  struct Pending {
    size_t index = 0;
    std::unique_ptr<SaveLock> lock;
    PreparedSave prepared;
    std::exception_ptr thrown;  // reported where it was thrown; never rethrown here
  };
  std::vector<Pending> pending;
  pending.reserve(sessions.size());
  // Commits the prepared sessions as one transaction and lets each follow its outcome.
  auto commit_pending = [&] {
    if (pending.empty()) return;
    std::vector<TogetherPart> parts;
    parts.reserve(pending.size());
    for (const Pending& p : pending) {
      const Impl& session = *sessions[p.index];
      parts.push_back({{session.store_->name, session.key_},
                       session.RequestFor(p.prepared, /*final=*/true, reason)});
    }
    const Clock::Duration started = rt.clock().Monotonic();
    size_t failed = parts.size();
    internal::TransactionContext ctx = rt.Transaction();
    std::optional<RefusalRecorder> recorder;
    if (ctx.hooks) ctx.hooks = &recorder.emplace(*ctx.hooks);
    auto saved = CommitSaveTogether(ctx, parts, &failed);
    if (!saved.ok() && failed == parts.size() && recorder) {
      for (size_t k = 0; k < parts.size(); ++k) {
        if (recorder->Refused(saved.status(), parts[k].at.store, parts[k].at.key)) failed = k;
      }
    }
    if (saved.ok()) {
      rt.critical_state().Record(saved.status());
      for (size_t k = 0; k < pending.size(); ++k) {
        Pending& p = pending[k];
        sessions[p.index]->SaveStored(p.prepared, (*saved)[k], /*final=*/true, started, &p.thrown);
      }
      // Every lock is released before any session ends (its waiters take its save lock, and
      // OnSessionEnd may save another profile of this batch).
      for (Pending& p : pending) p.lock.reset();
      for (Pending& p : pending) {
        Impl& session = *sessions[p.index];
        if (reason == EndReason::kExternal) {
          internal::EngineCounters::Add(rt.counters().handoffs, 1);
        }
        // The session was sealed with the snapshot this save stored: no change is unsaved.
        session.EndOnce(reason, "", false, &p.thrown);
      }
      return;
    }
    // The shared commit stored nothing. A failure that is no one session's (storage) is every
    // session's, as if each had committed alone and failed: they stay active and the caller ends
    // them unsaved. A failure of one session (its lock lost, its meta damaged, a fault hook
    // refusing its commit point) is that session's alone: the others commit on their own, as
    // Finish would have, so it never costs them their saves.
    for (size_t k = 0; k < pending.size(); ++k) {
      Pending& p = pending[k];
      Impl& session = *sessions[p.index];
      Result<internal::SaveResult> one(saved.status());
      if (failed < parts.size() && k != failed) {
        one = CommitSave(rt.Transaction(), parts[k].at, parts[k].request);
      }
      statuses[p.index] =
          session.Committed(*p.lock, p.prepared, one, /*final=*/true, reason, started, &p.thrown);
      if (!statuses[p.index].ok()) {
        session.ReportFailed(FailedOperation::kFinalSave, statuses[p.index]);
      }
    }
  };

  // Sessions finished alone, as Finish does, holding no other session's lock: those with save
  // signals (game code that may save another profile, whose lock another batch may hold) and
  // those whose save lock is busy (a delivery or a save on another thread, which may be
  // waiting for a lock this batch holds).
  std::vector<size_t> alone;
  for (size_t i = 0; i < sessions.size(); ++i) {
    Impl& session = *sessions[i];
    {
      internal::MutexLock state(session.mu_);
      if (session.on_save_ || session.on_last_save_ || session.on_after_save_) {
        alone.push_back(i);
        continue;
      }
    }
    if (!pending.empty() &&
        session.saving_thread_.load(std::memory_order_relaxed) != std::thread::id()) {
      alone.push_back(i);
      continue;
    }
    auto lock = std::make_unique<SaveLock>(session);
    {
      internal::MutexLock state(session.mu_);
      if (session.fenced_) {
        statuses[i] = session.EndedStatus();
        continue;  // `lock` is released here
      }
    }
    Pending p;
    p.index = i;
    auto prepared = session.PrepareSave(/*final=*/true, reason, &p.thrown);
    if (!prepared.ok()) {
      statuses[i] = prepared.status();
      session.ReportFailed(FailedOperation::kFinalSave, statuses[i]);
      continue;
    }
    p.lock = std::move(lock);
    p.prepared = std::move(*prepared);
    pending.push_back(std::move(p));
  }
  commit_pending();
  for (size_t i : alone) statuses[i] = sessions[i]->Finish(reason);
  return statuses;
}

}  // namespace holdfast
