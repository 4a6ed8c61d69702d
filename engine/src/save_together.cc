// Engine::SaveTogether: several sessions' saves as one transaction (a trade). Every profile's
// save lock is held, in (store, key) order so that two trades over the same profiles cannot wait
// for each other, from the save signals through the commit; the commit is fenced on every
// profile's epoch, so it stores all of them or none.
#include <algorithm>
#include <numeric>

#include "holdfast/limits.h"
#include "live_session.h"

namespace holdfast {

using internal::CommitSaveTogether;
using internal::EngineCounters;
using internal::TogetherPart;

namespace {

std::string Named(const ProfileLocation& at) {
  return "profile '" + at.store + "/" + at.key + "'";
}

}  // namespace

std::shared_ptr<SessionData> RawSession::Impl::Slot() const {
  internal::MutexLock lock(mu_);
  return slot_;
}

Status RawSession::Impl::SaveTogether(const std::vector<std::shared_ptr<Impl>>& sessions,
                                      const std::function<Status()>* change) {
  if (sessions.empty()) return Status::InvalidArgument("SaveTogether needs at least one profile");
  if (sessions.size() > kMaxSaveTogetherProfiles) {
    return Status::InvalidArgument("SaveTogether stores at most " +
                                   std::to_string(kMaxSaveTogetherProfiles) +
                                   " profiles (kMaxSaveTogetherProfiles); got " +
                                   std::to_string(sessions.size()));
  }
  for (const auto& s : sessions) {
    if (!s) return Status::InvalidArgument("SaveTogether was given an empty session handle");
  }
  EngineContext& rt = *sessions.front()->engine_;
  const size_t n = sessions.size();
  // What a failure did to the data in memory.
  const std::string kept = change ? "every profile's data was put back as before the change"
                                  : "every session keeps its data";
  std::vector<ProfileLocation> at(n);
  for (size_t i = 0; i < n; ++i) {
    if (sessions[i]->engine_.get() != &rt) {
      return Status::InvalidArgument(
          "SaveTogether was given profiles of different engines; one transaction can only span "
          "one database");
    }
    at[i] = {sessions[i]->store_->name, sessions[i]->key_};
  }
  // Lock order among the profiles: by (store, key).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return at[a] < at[b]; });
  for (size_t k = 1; k < n; ++k) {
    if (at[order[k]] == at[order[k - 1]]) {
      return Status::InvalidArgument("SaveTogether was given " + Named(at[order[k]]) +
                                     " twice; nothing was written");
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (Status s = sessions[i]->CheckNotReentrant(); !s.ok()) {
      return s.WithContext(Named(at[i]));
    }
  }

  std::exception_ptr thrown;
  // Reports a failure (the game hears it on_error too, as for Save) and rethrows what a save
  // signal threw once every lock is released.
  auto fail = [&](Status status, std::optional<size_t> blamed) -> Status {
    ErrorEvent event;
    if (blamed) {
      event.store = at[*blamed].store;
      event.key = at[*blamed].key;
    }
    event.operation = FailedOperation::kSaveTogether;
    event.status = status;
    rt.ReportError(event);
    return status;
  };
  Status result;
  std::optional<size_t> lost;  // the session whose lock was lost: ended after the unlock
  std::optional<EndReason> lost_fenced_for;
  std::optional<bool> lost_unsaved;  // unset: judged against the stored data (data put back)
  {
    std::vector<std::unique_ptr<SaveLock>> locks;
    locks.reserve(n);
    for (size_t i : order) locks.push_back(std::make_unique<SaveLock>(*sessions[i]));
    for (size_t i = 0; i < n; ++i) {
      internal::MutexLock lock(sessions[i]->mu_);
      if (sessions[i]->fenced_) {
        return sessions[i]->EndedStatus().WithContext(Named(at[i]) + " (nothing was written)");
      }
    }
    // Engine::Trade: the change runs while no save of any profile can, and is undone unless it
    // is stored.
    std::vector<std::shared_ptr<const void>> captured(n);
    auto put_back = [&] {
      if (!change) return;
      for (size_t i = 0; i < n; ++i) {
        if (auto slot = sessions[i]->Slot(); slot && captured[i]) slot->Restore(captured[i]);
      }
    };
    if (change) {
      for (size_t i = 0; i < n; ++i) {
        if (auto slot = sessions[i]->Slot()) captured[i] = slot->Capture();
      }
      Status changed;
      try {
        changed = (*change)();
      } catch (...) {
        changed = Status::Internal("the trade's change threw");
        rt.ReportException("", "", "Engine::Trade's change", changed);
        thrown = std::current_exception();
      }
      if (!changed.ok()) {
        put_back();
        result = changed.WithContext(
            "the trade's change failed; every profile's data was put back as it was and "
            "nothing was written");
      }
    }
    std::vector<PreparedSave> prepared;
    prepared.reserve(n);
    for (size_t i = 0; i < n && result.ok(); ++i) {
      auto p = sessions[i]->PrepareSave(/*final=*/false, EndReason::kManual, &thrown);
      if (!p.ok()) {
        put_back();
        result = fail(p.status().WithContext(Named(at[i]) + ": nothing of the trade was written; " +
                                             kept),
                      i);
        break;
      }
      prepared.push_back(std::move(*p));
    }
    if (result.ok()) {
      std::vector<std::vector<ProfileLocation>> partners(n);
      std::vector<TogetherPart> parts;
      parts.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        for (size_t j : order) {
          if (j != i) partners[i].push_back(at[j]);
        }
        TogetherPart part{{at[i].store, at[i].key},
                          sessions[i]->RequestFor(prepared[i], CommitKind::kTrade,
                                                  VersionReason::kTrade)};
        part.request.partners = &partners[i];
        parts.push_back(std::move(part));
      }
      const Clock::Duration started = rt.clock().Monotonic();
      size_t failed = n;
      auto saved = CommitSaveTogether(rt.Transaction(), parts, &failed);
      rt.critical_state().Record(saved.status());
      if (saved.ok()) {
        EngineCounters::Add(rt.counters().trades, 1);
        for (size_t i = 0; i < n; ++i) {
          sessions[i]->SaveStored(prepared[i], (*saved)[i], /*final=*/false, started, &thrown);
        }
      } else {
        put_back();
        std::optional<size_t> blamed;
        if (failed < n) blamed = failed;
        const std::string who = blamed ? Named(at[*blamed]) + ": " : std::string();
        if (saved.status().code() == StatusCode::kLockLost && blamed) {
          lost = blamed;
          lost_fenced_for = sessions[*lost]->FenceLost();
          if (!change) {
            lost_unsaved = prepared[*lost].payload_changed || prepared[*lost].meta_changed;
          }
          result = fail(saved.status().WithContext(
                            who + "it lost its lock, so nothing of the trade was written; that "
                                  "session has ended, the others stay active; " + kept),
                        blamed);
        } else {
          result = fail(
              saved.status().WithContext(who + "nothing of the trade was written; every "
                                               "session stays active; " + kept),
              blamed);
        }
      }
    }
  }  // every save lock released here
  if (lost) {
    sessions[*lost]->EndLost(lost_fenced_for, result, lost_unsaved, &thrown);
  }
  if (thrown) std::rethrow_exception(thrown);
  return result;
}

}  // namespace holdfast
