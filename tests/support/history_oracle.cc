#include "history_oracle.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace holdfast::test {

std::string_view CommitKindName(CommitKind kind) {
  switch (kind) {
    case CommitKind::kAcquire:
      return "acquire";
    case CommitKind::kSave:
      return "save";
    case CommitKind::kRelease:
      return "release";
    case CommitKind::kAbandon:
      return "abandon";
    case CommitKind::kRollback:
      return "rollback";
    case CommitKind::kMessage:
      return "message";
    case CommitKind::kRemove:
      return "remove";
    case CommitKind::kTrade:
      return "trade";
    case CommitKind::kAdminWrite:
      return "admin-write";
  }
  return "?";
}

Status CommitLog::BeforeCommit(const CommitPoint& point) {
  if (inner_) {
    if (Status s = inner_->BeforeCommit(point); !s.ok()) return s;
  }
  if (point.store == store_) last_stamps_[StampKey(point)] = next_stamp_.fetch_add(1) + 1;
  return Status::Ok();
}

void CommitLog::AfterCommit(const CommitPoint& point, uint64_t version) {
  if (inner_) inner_->AfterCommit(point, version);
  if (point.store != store_) return;
  uint64_t stamp = 0;
  if (auto it = last_stamps_.find(StampKey(point)); it != last_stamps_.end()) {
    stamp = it->second;
    last_stamps_.erase(it);
  }
  std::lock_guard lock(mu_);
  events_.push_back({point.kind, std::string(point.key), point.epoch, point.session_id, version,
                     stamp, incarnation_});
}

void CommitLog::NextIncarnation() {
  std::lock_guard lock(mu_);
  ++incarnation_;
}

std::vector<CommitEvent> CommitLog::Events() const {
  std::lock_guard lock(mu_);
  return events_;
}

void CommitLog::Clear() {
  std::lock_guard lock(mu_);
  events_.clear();
}

namespace {

// One profile's replay: applies its commits in commit order and reports what breaks a rule.
class Replay {
 public:
  explicit Replay(ViolationSink& sink) : sink_(sink) {}

  void Apply(const CommitEvent& e, KeyHistory& h) {
    std::ostringstream at;
    at << CommitKindName(e.kind) << " of '" << e.key << "' epoch " << e.epoch << " session "
       << e.session_id << " version " << e.version << " stamp " << e.stamp;
    at_ = at.str();
    if (e.stamp == 0 || e.stamp == previous_stamp_) {
      Violation("commit without its own BeforeCommit stamp");
    }
    previous_stamp_ = e.stamp;
    ++h.counts[e.kind];
    switch (e.kind) {
      case CommitKind::kAcquire:
        Acquire(e, h);
        break;
      case CommitKind::kRollback:
      case CommitKind::kAdminWrite:
        Rollback(e, h);
        break;
      case CommitKind::kMessage:  // not fenced, and changes no epoch, lock or payload
        if (e.version != 0) Violation("a message wrote a payload");
        break;
      case CommitKind::kRemove: {  // the profile is gone: it starts over (epochs from 1)
        if (e.version != 0) Violation("a removal wrote a payload");
        const auto counts = h.counts;
        h = KeyHistory{};
        h.counts = counts;
        break;
      }
      default:
        Fenced(e, h);
        break;
    }
    if (e.version != 0) {
      if (e.version != h.last_version + 1) {
        Violation("payload version did not increase by one (previous " +
                  std::to_string(h.last_version) + ")");
      }
      h.last_version = e.version;
      h.last_version_epoch = e.epoch;
      h.data_exists = true;
    }
  }

 private:
  void Violation(const std::string& what) { sink_.Add(what + ": " + at_); }

  void NextEpoch(const CommitEvent& e, const KeyHistory& h) {
    if (e.epoch != h.epoch + 1) {
      Violation("epoch did not increase by one (previous " + std::to_string(h.epoch) + ")");
    }
  }

  void Acquire(const CommitEvent& e, KeyHistory& h) {
    NextEpoch(e, h);
    if (!acquiring_sessions_.insert({e.incarnation, e.session_id}).second) {
      Violation("session id acquired twice");
    }
    const bool created = e.version != 0;
    if (created && h.data_exists) Violation("an acquire created a profile that existed");
    if (!created && !h.data_exists) Violation("an acquire loaded a profile that has no data");
    if (created) h.created_versions.insert(e.version);
    h.acquires[e.epoch] = {e.session_id, created ? e.version : h.last_version, created};
    h.epoch = e.epoch;
    h.holder = e.session_id;
    h.locked = true;
  }

  // A rollback or an admin write fences every session of the profile by taking a new epoch, and
  // leaves it free. Only an admin write (a release) may write no payload.
  void Rollback(const CommitEvent& e, KeyHistory& h) {
    NextEpoch(e, h);
    if (e.session_id != 0) Violation("a rollback made by a session");
    if (!h.data_exists) Violation("a rollback of a profile that has no data");
    if (e.version == 0 && e.kind == CommitKind::kRollback) Violation("a rollback wrote no payload");
    h.epoch = e.epoch;
    h.holder = 0;
    h.locked = false;
  }

  // A save, release or abandon: allowed only to the session holding the current epoch.
  void Fenced(const CommitEvent& e, KeyHistory& h) {
    if (!h.locked) Violation("commit while no session held the lock");
    if (e.epoch != h.epoch || e.session_id != h.holder) {
      Violation("commit by a session that does not hold the current epoch " +
                std::to_string(h.epoch) + " (holder session " + std::to_string(h.holder) + ")");
    }
    if (e.kind == CommitKind::kAbandon) {
      if (e.version != 0) Violation("an abandon wrote a payload");
      // A start that fails changes no stored data: giving back a lock whose acquisition created
      // the profile deletes the profile again (only meta's epoch and version counter stay).
      if (h.acquires[h.epoch].created) h.data_exists = false;
    }
    if (e.kind != CommitKind::kSave) h.locked = false;
  }

  ViolationSink& sink_;
  std::string at_;  // the commit being applied, for the reports
  uint64_t previous_stamp_ = 0;
  std::set<std::pair<int, uint64_t>> acquiring_sessions_;  // (incarnation, session id)
};

}  // namespace

std::map<std::string, KeyHistory> ReplayHistory(std::vector<CommitEvent> events,
                                                ViolationSink& sink) {
  std::sort(events.begin(), events.end(),
            [](const CommitEvent& a, const CommitEvent& b) { return a.stamp < b.stamp; });
  std::map<std::string, KeyHistory> history;
  Replay replay(sink);
  for (const CommitEvent& e : events) replay.Apply(e, history[e.key]);
  return history;
}

}  // namespace holdfast::test
