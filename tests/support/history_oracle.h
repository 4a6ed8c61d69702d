// The commit-history oracle: the one model of the session lock's epoch rules that the concurrency
// test and the operation fuzzer check the engine against (the crash test shares the stored-record
// half, stored_profile.h; its worker runs in another process, where no commit log can be kept).
//
// CommitLog is a FaultHooks that records every successful commit on one store, and forwards
// every call to the hooks it wraps (the fuzzer's fault injection, or none). ReplayHistory sorts
// the log into commit order and replays it profile by profile, reporting each broken rule:
//  - every commit has its own BeforeCommit stamp;
//  - an acquisition takes the epoch after the previous one (epochs rise by exactly one, a
//    rollback's included); a session id is acquired once per engine open; an acquisition creates
//    the profile exactly when it has no data;
//  - every save, release and abandon is fenced: made by the session holding the current epoch,
//    while the lock is held (so a superseded or released session never commits again);
//  - an abandon writes no payload, and abandoning an acquisition that created the profile
//    deletes the profile's data again;
//  - a rollback takes a new epoch with no session, restores a profile that has data, writes a
//    payload and leaves the lock free;
//  - payload versions rise by exactly one per payload written.
// The replay assumes no stored record is damaged: a start's repair of a damaged record writes two
// versions in one commit (quarantine and recovery) and is reported as a creating acquisition.
//
// How the log learns the commit order. AfterCommit hooks run after the commit with no lock held,
// so two commits on one profile may report in either order. BeforeCommit, however, runs inside
// the transaction after its GetForUpdate of the profile's meta record, and every commit on a
// profile (acquire, save, release, abandon, rollback) writes that record. Of two successful
// commits on one profile, the later one must have read meta after the earlier one was published
// (otherwise optimistic validation fails it and it starts over), so its BeforeCommit ran after
// the earlier one's. CommitLog stamps every BeforeCommit that the wrapped hooks let through from
// one counter and hands the stamp of the thread's last one (the attempt that committed) to its
// AfterCommit: sorting a profile's commits by stamp gives their commit order.
#ifndef HOLDFAST_TESTS_SUPPORT_HISTORY_ORACLE_H_
#define HOLDFAST_TESTS_SUPPORT_HISTORY_ORACLE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holdfast/hooks.h"
#include "violations.h"

namespace holdfast::test {

std::string_view CommitKindName(CommitKind kind);

struct CommitEvent {
  CommitKind kind;
  std::string key;
  uint64_t epoch;
  uint64_t session_id;
  uint64_t version;  // payload version written, 0 when none
  uint64_t stamp;    // commit order (see the top of this file)
  int incarnation;   // which engine open committed it (session ids are per open)
};

// Thread-safe: engine threads call the hooks; the test thread reads and clears the log.
class CommitLog final : public FaultHooks {
 public:
  // Records the commits on `store`; `inner` (may be null) sees every call first, and a failure
  // it returns fails the attempt, which is then neither stamped nor recorded.
  explicit CommitLog(std::string store, std::shared_ptr<FaultHooks> inner = nullptr)
      : store_(std::move(store)), inner_(std::move(inner)) {}

  Status BeforeCommit(const CommitPoint& point) override;
  void AfterCommit(const CommitPoint& point, uint64_t version) override;

  // Call between closing an engine and opening the next one that uses this log.
  void NextIncarnation();
  std::vector<CommitEvent> Events() const;
  // Forgets the commits logged so far (stamps and incarnations keep counting).
  void Clear();

 private:
  const std::string store_;
  const std::shared_ptr<FaultHooks> inner_;
  // The stamp of this thread's latest BeforeCommit of each key and kind: a transaction runs and
  // commits on one thread, so at AfterCommit it is the stamp of the attempt that committed (a
  // trade stages one point per profile; a handoff's final save two for one profile, its release
  // then the waiting start's acquisition, stamped in that order).
  static std::string StampKey(const CommitPoint& point) {
    return std::string(point.key) + '\0' + std::to_string(static_cast<int>(point.kind));
  }
  static inline thread_local std::map<std::string, uint64_t, std::less<>> last_stamps_;
  std::atomic<uint64_t> next_stamp_{0};
  mutable std::mutex mu_;
  std::vector<CommitEvent> events_;  // guarded by mu_
  int incarnation_ = 0;              // guarded by mu_
};

// What the history says about one profile after the replay, in commit order.
struct KeyHistory {
  struct Acquire {
    uint64_t session_id = 0;
    uint64_t loaded_version = 0;  // what the session loaded: the latest payload, or its creation
    bool created = false;         // the acquire created the profile (from the template)
  };
  uint64_t epoch = 0;  // latest epoch taken (by an acquisition or a rollback)
  uint64_t holder = 0;
  bool locked = false;
  bool data_exists = false;  // an abandoned start that created the profile deletes it again
  uint64_t last_version = 0;
  uint64_t last_version_epoch = 0;
  std::map<uint64_t, Acquire> acquires;  // by epoch
  std::set<uint64_t> created_versions;   // payload versions written from the template
  std::map<CommitKind, int> counts;
};

// Replays `events` (in any order: they are sorted by stamp) against the rules at the top of this
// file, reports each broken one to `sink`, and returns every profile's history by key.
std::map<std::string, KeyHistory> ReplayHistory(std::vector<CommitEvent> events,
                                                ViolationSink& sink);

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_SUPPORT_HISTORY_ORACLE_H_
