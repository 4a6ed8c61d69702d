// The operation-sequence fuzzer's model and driver (fuzz/session_driver.cc says what it checks
// and why): what a profile, a session and a commit should look like, and the Driver class that
// runs an input against the engine and the model. Private to the driver's three files:
// session_driver.cc (the input loop, fault and counter accounting), session_driver_ops.cc (the
// operations) and session_driver_checks.cc (the checks after each operation).
#ifndef HOLDFAST_FUZZ_SESSION_DRIVER_MODEL_H_
#define HOLDFAST_FUZZ_SESSION_DRIVER_MODEL_H_

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "session_driver.h"
#include "internals.h"
#include "fuzz_util.h"
#include "critical_state_model.h"
#include "history_oracle.h"
#include "session_harness.h"
#include "stored_profile.h"
#include "version_model.h"

namespace holdfast::fuzz::driver {

using namespace std::chrono_literals;

constexpr int kMaxAutosavesPerInput = 1;  // each waits on the fake clock's polling (~1 ms)
constexpr uint8_t kAllKeys = (1u << kKeys) - 1;
constexpr int kCommitKinds = 5;  // CommitKind values

enum class State { kLive, kEnded, kHandedOff, kStolen, kShutdown, kRolledBack };

// OnSessionEnd calls seen for one session.
struct EndLog {
  int calls = 0;
  SessionEnd last{EndReason::kManual, false, ""};
};

// What one session (one StartSession) should look like.
struct SessionModel {
  State state = State::kLive;
  std::string data;   // the handle's data
  std::string saved;  // the payload it last saved or loaded
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool meta_dirty = false;  // user ids or metadata changed since the last save
  uint64_t epoch = 0;
  std::shared_ptr<EndLog> ends = std::make_shared<EndLog>();
};

struct Slot {
  std::optional<Handle> handle;
  std::shared_ptr<SessionModel> session;
};

// What one commit the model predicts returns, given the faults armed on its profile.
struct Outcome {
  StatusCode code = StatusCode::kOk;
  int restarts = 0;  // conflicts the engine retried
  int injected = 0;  // failures the hooks returned
  bool ok() const { return code == StatusCode::kOk; }
  bool storage_error() const {
    return code == StatusCode::kIOError || code == StatusCode::kResourceExhausted;
  }
};

// Aborts unless `status` has the code `expected` (FUZZ_CHECK_CODE for a code known at run time).
inline void CheckCode(const Status& status, StatusCode expected, const std::string& what) {
  FUZZ_CHECK(status.code() == expected,
             what << " -> " << status.ToString() << ", expected " << StatusCodeName(expected));
}

inline VersionRetention FuzzRetention() {
  VersionRetention retention;
  retention.keep_newest = kKeepNewest;
  return retention;
}

// What one profile should look like, in storage and in the engine.
struct ProfileModel {
  std::string name;
  bool exists = false;
  HistoryModel history{FuzzRetention()};  // the newest version is the committed data
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  uint64_t epoch = 0;
  uint64_t load_count = 0;
  bool orphan_lock = false;            // a crashed engine's lock is stored
  bool stale_lock = false;             // the lock of a holder fenced for a failed steal is stored
  std::shared_ptr<SessionModel> live;  // the live session; its handle may have been dropped
  Slot slots[kSlots];
  FaultSpec faults[kCommitKinds];  // armed, by CommitKind (commits left)

  const std::string& committed() const { return history.newest().payload; }
};

inline StatusCode EndedCode(State state) {
  return state == State::kShutdown ? StatusCode::kClosed : StatusCode::kLockLost;
}

// The engine's counters the model predicts (cheap atomics, unlike EngineStats), and the hooks'.
struct Counters {
  uint64_t handoffs = 0, steals = 0, orphans = 0, orphan_reports = 0, rollbacks = 0;
  uint64_t conflicts = 0, io_errors = 0, injected = 0;
  // Not predicted one by one: checked against the critical states (CriticalState).
  uint64_t critical_entries = 0, entered_calls = 0, left_calls = 0;
};

inline void CheckVersion(const VersionInfo& info, const VersionModel& v, bool with_source) {
  FUZZ_CHECK(info.version == v.version, "version " << info.version << ", expected " << v.version);
  FUZZ_CHECK(info.written_unix_ms == v.written_unix_ms,
             "version " << v.version << " written at " << info.written_unix_ms << ", expected "
                        << v.written_unix_ms);
  FUZZ_CHECK(info.reason == v.reason, "version " << v.version << " reason "
                                                 << VersionReasonName(info.reason) << ", expected "
                                                 << VersionReasonName(v.reason));
  FUZZ_CHECK(info.epoch == v.epoch,
             "version " << v.version << " epoch " << info.epoch << ", expected " << v.epoch);
  FUZZ_CHECK(!with_source || info.source_version == v.source_version,
             "version " << v.version << " source " << info.source_version << ", expected "
                        << v.source_version);
  FUZZ_CHECK(info.payload_bytes == v.payload.size(), "version " << v.version << " payload size");
  FUZZ_CHECK(!info.damaged, "version " << v.version << " listed as damaged");
}

class Driver {
 public:
  Driver(Harness& harness, const SessionDriverOptions& options)
      : h_(harness),
        max_reopens_(options.max_reopens),
        start_unix_ms_(harness.clock().WallUnixMillis()) {
    static const std::string kSuffixes[kKeys] = {"a", std::string("a\0", 2), "\xff"};
    for (int k = 0; k < kKeys; ++k) {
      keys_[k].name = "i" + std::to_string(h_.input_number()) + "/" + kSuffixes[k];
    }
    ResetCounters();
    h_.commit_log().Clear();  // this input's keys are new: their history starts here
  }

  void Run(FuzzInput& in);

 private:
  void ResetCounters();

  internal::EngineCounters& EngineCounters() { return test::CountersOf(h_.engine()); }

  Counters Read();

  // Arms a fault in the model and in the hooks.
  void Arm(ProfileModel& key, const FaultSpec& spec);

  void DisarmAll();

  // One BeforeCommit of a point with armed fault `f`, answered as FuzzHooks::BeforeCommit does.
  static StatusCode Hook(FaultSpec& f);

  // One transaction whose points are `kinds` on the profile, in order (the first refusal ends an
  // attempt), restarted after a conflict up to kBusyLimit attempts, as the engine runs it.
  static Outcome NextTransaction(ProfileModel& key, std::initializer_list<CommitKind> kinds);

  // The next commit of `kind` on the profile: takes the armed fault, as the hooks do.
  static Outcome NextCommit(ProfileModel& key, CommitKind kind);

  // A predicted commit happened: its counters.
  void Count(const Outcome& o);

  // Commit results reaching the critical-state accounting in any order (one: in that order).
  void Critical(std::vector<StatusCode> codes);

  // One predicted commit, counted and accounted.
  void Account(const Outcome& o);

  // Runs `call` (a start or rollback that waits for a holder whose final save will fail, with
  // `release`) on a helper thread and lets its handoff timeout pass once that failure is
  // accounted: the holder's save has failed and its io error (or conflicts) and any critical
  // notification are counted, so the steal that follows is ordered after it. Only the waiting
  // thread sees the time move: auto-saves stay as they were.
  template <typename Call>
  auto PastHandoffTimeout(Call call, const Outcome& release) -> decltype(call());

  // A payload committed as the profile's next version.
  uint64_t AppendVersion(ProfileModel& key, std::string payload, VersionReason reason,
                         uint64_t epoch, uint64_t source_version = 0) {
    return key.history.Append(VersionModel{0, h_.clock().WallUnixMillis(), reason, epoch,
                                           source_version, std::move(payload)});
  }

  // The session's data and meta reach storage (a save, final save, or auto-save that wrote).
  void Commit(ProfileModel& key, SessionModel& s, VersionReason reason);

  // The session ended: checks its OnSessionEnd call.
  static void Ended(SessionModel& s, State state, EndReason reason, bool unsaved);

  void Start(ProfileModel& key, Slot& slot, SessionOp op);

  void Edit(Slot& slot, const std::string& value);

  // Whether the holder's data, user ids or metadata differ from what is stored.
  static bool UnsavedAgainstStored(const ProfileModel& key, const SessionModel& holder);

  // Whether a save of the session writes (a save with nothing changed makes no commit).
  static bool Changed(const SessionModel& s) { return s.data != s.saved || s.meta_dirty; }

  void Save(ProfileModel& key, Slot& slot);

  void End(ProfileModel& key, Slot& slot);

  void Meta(Slot& slot, const MetaChange& change);

  // Stores the lock a crashed engine would have left; the next start must take it over.
  void Orphan(ProfileModel& key);

  // A rollback that can go ahead first ends the profile's live session (its final save becomes a
  // version); a refused one changes nothing.
  void EndForRollback(ProfileModel& key);

  // Runs `call`, a rollback to `version`: it goes ahead iff that version is kept when the
  // rollback is asked for. The source is chosen before the live session's final save, which may
  // prune it: the restored payload is still that version's.
  template <typename Call>
  void ExpectRollback(ProfileModel& key, Call call, uint64_t version);

  void Rollback(ProfileModel& key, uint8_t version);

  // RollbackTo picks its version before anything changes: without one, the live session stays.
  void RollbackTo(ProfileModel& key, uint8_t time);

  void Versions(ProfileModel& key, uint8_t query_byte);

  // Store::Get: the current data (version 0) or one version, with the profile's stored meta.
  void View(ProfileModel& key, uint8_t version);

  // Returns whether the clock moved (only the input's first auto-save does).
  bool Autosave();

  // Returns whether the engine was reopened (the target's allowance was not used up).
  bool Reopen();

  // Ends what the input left live, so that the next input starts from an idle engine, and checks
  // every profile's stored records one last time.
  void EndEverySession();

  // `written`: profiles whose stored records to check (see the top of this file);
  // `sessions_change`: whether to compare the engine's active sessions with the model.
  void CheckAll(uint8_t written, bool sessions_change);

  void CheckCounters(const Counters& now);

  static std::string Who(const ProfileModel& key);

  // Aborts with every violation the shared oracle reported.
  static void Report(const test::ViolationList& violations);

  // The profile's stored records against the model: the rules shared with the other harnesses
  // (stored_profile.h), then what only this model knows (load count, user ids, metadata, times,
  // the index entry by entry).
  void CheckStored(ProfileModel& key);

  // After the input ended its sessions: its commit log against the lock's rules, and every
  // profile's stored records against that history. Orphaned locks (kOrphan, or a session whose
  // shutdown save failed) and a failed steal's stale lock are not commits of the log: the model
  // says whether one is stored.
  void CheckHistory();

  Harness& h_;
  const int max_reopens_;
  const int64_t start_unix_ms_;  // the fake wall clock when the input began
  ProfileModel keys_[kKeys];
  int reopens_ = 0;
  int autosaves_ = 0;
  bool faults_armed_ = false;  // the input armed a fault
  size_t events_checked_ = 0;  // commit log events already looked at by CheckAll
  // Engine counters at the start of the input (or the last reopen), and the model's since then.
  Counters base_;
  Counters model_;
  // The critical states the engine may be in (one, unless an auto-save mixed results).
  std::vector<CriticalState> critical_{CriticalState{}};
};

}  // namespace holdfast::fuzz::driver

#endif  // HOLDFAST_FUZZ_SESSION_DRIVER_MODEL_H_
