// The operation-sequence fuzzer's driver (fuzz/session_driver.h): runs session operations
// (start, steal, edit, save, end, drop, orphaned locks, auto-save, reopen), store operations
// (rollback, rollback to a time, version listing, read-only views) and injected storage faults
// on an in-memory engine (fuzz/session_harness.h) and checks the engine after every operation
// against a model of what the README and the public headers promise.
//
// The model keeps, per profile: its version history (fuzz/version_model.h; the last one is the
// committed data), user ids and metadata (what a new session must load), epoch and load count,
// which session is live, which lock is stored without a live session (an orphan, or the lock of
// a holder fenced for a steal that failed), and the faults armed on it; per handle: its state
// (live, ended, handed off, stolen, shut down, rolled back), its data and its last saved data;
// per engine: the critical state. After every operation it checks the exact status code of the
// call and what the call returned, every handle's data and liveness (at most one live handle per
// profile), the session-end signals (reason, unsaved flag, exactly once), the engine's counters
// (conflicts retried and storage errors included), the critical state, and the stored records of
// every profile the operation may have changed.
//
// Injected faults (kFault). Every commit the model predicts takes the next armed fault of its
// kind on its profile (Outcome), as the hooks do. What a failed commit does, from the README
// ("Errors", "Sessions") and holdfast/store.h:
//  - a save (Save, auto-save): nothing is written (no version, no meta); the session stays
//    active with its data; a save with nothing to write makes no commit and meets no fault;
//  - a final save (EndSession): the same, and the session stays active and accepts edits;
//  - a start: no lock, no data, no epoch or load count (a profile it would have created does not
//    exist); an orphaned lock stays an orphan. A steal whose acquisition fails still ends the
//    holder it fenced (kStolen, unsaved judged against the holder's last save) and leaves that
//    holder's lock stored; the next start takes it at once and it is not an orphan
//    (session_registry.cc, Acquire; holdfast/raw_store.h says "nothing changed" — see the fuzz README);
//  - a handoff is one transaction (the holder's release point, then the start's acquisition
//    point: a fault on either fails both);
//  - a handoff whose final save fails: the holder stays until handoff_timeout, then the starter
//    steals (kStolen, unsaved against what is stored; a steal, not a handoff). The driver makes
//    that wait deterministic: the start runs on a helper thread whose clock jumps past the
//    timeout once the holder's failure is accounted (FuzzClock), while no auto-save becomes due;
//  - a rollback: a live session's final save comes first and stays done; a rollback
//    transaction that fails writes nothing (no epoch bump, no version); if the final save
//    failed, the rollback steals after handoff_timeout as a start does;
//  - Engine::Close: a session whose final save fails ends (kShutdown, unsaved against its last
//    save) and its lock stays stored: after the reopen it is an orphan, taken over at the next
//    start; Close returns the code of a failed save;
//  - conflicts fewer than kDefaultTransactionAttempts are retried: the call succeeds and
//    conflicts_retried rises by exactly that many; as many fail the call with Busy, change
//    nothing, and count kDefaultTransactionAttempts - 1 restarts;
//  - IOError and ResourceExhausted count in io_errors; kCriticalThreshold of them within
//    kCriticalWindow enter the critical state, and the next successful commit leaves it (and
//    empties the window). The results of an auto-save's parallel saves reach that accounting in
//    an order the driver cannot see, so the model keeps every critical state some order gives
//    and each check keeps those that match the engine (one, unless an auto-save mixed results).
//
// What is checked when. Handles and counters: after every operation. Stored records of a
// profile (meta, data and version records read and decoded, most of what checking costs; the
// rules shared with the other harnesses are tests/support/stored_profile.h's): after every
// operation that the model says writes it or that its own code writes (rollback, orphan), after
// every operation during which the commit log saw a commit on it (any engine thread, any
// profile), and for every profile at the end of the input; an operation that writes nothing
// (edit, metadata, drop, listing, views) and saw no commit leaves them as they were checked.
// Active sessions (EngineStats, which also summarises latency histograms): after every operation
// that can start or end a session. At the end of the input, the input's whole commit log is
// replayed against the lock's rules (tests/support/history_oracle.h: epochs rising by one, every
// save and release fenced on the current epoch, versions rising by one) and every profile's
// stored records are checked against that history as well as against the model.
#include "session_driver.h"

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

#include "internals.h"
#include "fuzz_util.h"
#include "critical_state_model.h"
#include "history_oracle.h"
#include "session_harness.h"
#include "stored_profile.h"
#include "version_model.h"

namespace holdfast::fuzz {
namespace {

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
void CheckCode(const Status& status, StatusCode expected, const std::string& what) {
  FUZZ_CHECK(status.code() == expected,
             what << " -> " << status.ToString() << ", expected " << StatusCodeName(expected));
}

VersionRetention FuzzRetention() {
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

StatusCode EndedCode(State state) {
  return state == State::kShutdown ? StatusCode::kClosed : StatusCode::kLockLost;
}

// The engine's counters the model predicts (cheap atomics, unlike EngineStats), and the hooks'.
struct Counters {
  uint64_t handoffs = 0, steals = 0, orphans = 0, orphan_reports = 0, rollbacks = 0;
  uint64_t conflicts = 0, io_errors = 0, injected = 0;
  // Not predicted one by one: checked against the critical states (CriticalState).
  uint64_t critical_entries = 0, entered_calls = 0, left_calls = 0;
};

void CheckVersion(const VersionInfo& info, const VersionModel& v, bool with_source) {
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

  void Run(FuzzInput& in) {
    for (size_t n = 0; n < kMaxOps && !in.empty(); ++n) {
      auto op = static_cast<SessionOp>(in.Byte() % kOpcodeCount);
      uint8_t written = 0;          // profiles the operation writes, by the model or its own code
      bool sessions_change = true;  // it may start or end a session (a save ends none: a save of
                                    // an ended session fails before it writes)
      if (op == SessionOp::kAutosave) {
        written = Autosave() ? kAllKeys : 0;
      } else if (op == SessionOp::kReopen) {
        written = Reopen() ? kAllKeys : 0;
      } else {
        uint8_t target = in.Byte();
        ProfileModel& key = keys_[target % kKeys];
        Slot& slot = key.slots[target / kKeys % kSlots];
        written = 1u << (target % kKeys);
        // Operations that write no storage, and ones that start or end no session.
        if (op == SessionOp::kEdit || op == SessionOp::kMeta || op == SessionOp::kDrop ||
            op == SessionOp::kVersions || op == SessionOp::kGet || op == SessionOp::kFault) {
          written = 0;
        }
        if (written == 0 || op == SessionOp::kSave || op == SessionOp::kOrphan) {
          sessions_change = false;
        }
        switch (op) {
          case SessionOp::kEdit:
            Edit(slot, ValueOf(in.Byte(), kTemplate));
            break;
          case SessionOp::kSave:
            Save(key, slot);
            break;
          case SessionOp::kEnd:
            End(key, slot);
            break;
          case SessionOp::kMeta:
            Meta(slot, MetaChangeOf(in.Byte()));
            break;
          case SessionOp::kDrop:
            slot.handle.reset();
            slot.session.reset();
            break;
          case SessionOp::kOrphan:
            Orphan(key);
            break;
          case SessionOp::kRollback:
            Rollback(key, in.Byte());
            break;
          case SessionOp::kRollbackTo:
            RollbackTo(key, in.Byte());
            break;
          case SessionOp::kVersions:
            Versions(key, in.Byte());
            break;
          case SessionOp::kGet:
            View(key, in.Byte());
            break;
          case SessionOp::kFault:
            Arm(key, FaultOf(in.Byte()));
            break;
          default:
            Start(key, slot, op);
            break;
        }
      }
      CheckAll(written, sessions_change);
    }
    EndEverySession();
    CheckHistory();
    // Storage errors in the critical window, or the critical state, would reach the next input.
    bool unsettled = false;
    for (const CriticalState& c : critical_) unsettled |= c.critical || !c.errors.empty();
    if (unsettled) h_.Settle();
  }

 private:
  void ResetCounters() {
    base_ = Read();
    model_ = Counters{};
    critical_ = {CriticalState{}};
  }

  internal::EngineCounters& EngineCounters() { return test::CountersOf(h_.engine()); }

  Counters Read() {
    internal::EngineCounters& c = EngineCounters();
    Counters n;
    n.handoffs = c.handoffs.load();
    n.steals = c.steals.load();
    n.orphans = c.orphans_taken_over.load();
    n.orphan_reports = h_.orphan_reports();
    n.rollbacks = c.rollbacks.load();
    n.conflicts = c.conflicts_retried.load();
    n.io_errors = c.io_errors.load();
    n.injected = h_.hooks().injected();
    n.critical_entries = c.critical_state_entries.load();
    n.entered_calls = h_.critical_entered_calls();
    n.left_calls = h_.critical_left_calls();
    return n;
  }

  // Arms a fault in the model and in the hooks.
  void Arm(ProfileModel& key, const FaultSpec& spec) {
    key.faults[static_cast<int>(spec.kind)] = spec;
    h_.hooks().Arm(key.name, spec.kind, InjectedFault{spec.code, spec.commits, spec.busy});
    faults_armed_ = true;
  }

  void DisarmAll() {
    for (ProfileModel& key : keys_) {
      for (FaultSpec& f : key.faults) f = FaultSpec{};
    }
    h_.hooks().DisarmAll();
  }

  // One BeforeCommit of a point with armed fault `f`, answered as FuzzHooks::BeforeCommit does.
  static StatusCode Hook(FaultSpec& f) {
    if (f.commits <= 0) return StatusCode::kOk;
    if (f.code != StatusCode::kBusy) {
      --f.commits;
      return f.code;
    }
    if (f.busy_seen < f.busy) {
      if (++f.busy_seen >= kBusyLimit) {
        f.busy_seen = 0;
        --f.commits;
      }
      return StatusCode::kBusy;
    }
    f.busy_seen = 0;
    --f.commits;
    return StatusCode::kOk;
  }

  // One transaction whose points are `kinds` on the profile, in order (the first refusal ends an
  // attempt), restarted after a conflict up to kBusyLimit attempts, as the engine runs it.
  static Outcome NextTransaction(ProfileModel& key, std::initializer_list<CommitKind> kinds) {
    Outcome o;
    for (int attempt = 1;; ++attempt) {
      StatusCode code = StatusCode::kOk;
      for (CommitKind kind : kinds) {
        code = Hook(key.faults[static_cast<int>(kind)]);
        if (code != StatusCode::kOk) break;
      }
      if (code != StatusCode::kOk) ++o.injected;
      if (code == StatusCode::kBusy && attempt < kBusyLimit) {
        ++o.restarts;
        continue;
      }
      o.code = code;
      return o;
    }
  }

  // The next commit of `kind` on the profile: takes the armed fault, as the hooks do.
  static Outcome NextCommit(ProfileModel& key, CommitKind kind) {
    return NextTransaction(key, {kind});
  }

  // A predicted commit happened: its counters.
  void Count(const Outcome& o) {
    model_.conflicts += o.restarts;
    model_.injected += o.injected;
    model_.io_errors += o.storage_error();
  }

  // Commit results reaching the critical-state accounting in any order (one: in that order).
  void Critical(std::vector<StatusCode> codes) {
    const int64_t now = h_.clock().Monotonic().count();
    std::sort(codes.begin(), codes.end());
    std::vector<CriticalState> next;
    for (const CriticalState& from : critical_) {
      do {
        CriticalState state = from;
        for (StatusCode code : codes) state.Record(code, now);
        if (std::find(next.begin(), next.end(), state) == next.end()) next.push_back(state);
      } while (std::next_permutation(codes.begin(), codes.end()));
    }
    critical_ = std::move(next);
  }

  // One predicted commit, counted and accounted.
  void Account(const Outcome& o) {
    Count(o);
    Critical({o.code});
  }

  // Runs `call` (a start or rollback that waits for a holder whose final save will fail, with
  // `release`) on a helper thread and lets its handoff timeout pass once that failure is
  // accounted: the holder's save has failed and its io error (or conflicts) and any critical
  // notification are counted, so the steal that follows is ordered after it. Only the waiting
  // thread sees the time move: auto-saves stay as they were.
  template <typename Call>
  auto PastHandoffTimeout(Call call, const Outcome& release) -> decltype(call()) {
    internal::EngineCounters& c = EngineCounters();
    const uint64_t io_target = c.io_errors.load() + (release.storage_error() ? 1 : 0);
    const uint64_t conflicts_target = c.conflicts_retried.load() + release.restarts;
    std::optional<decltype(call())> result;
    std::atomic<bool> done{false};
    std::thread caller([&] {
      FuzzClock::MarkThisThread(true);
      result.emplace(call());
      FuzzClock::MarkThisThread(false);
      done.store(true);
    });
    auto accounted = [&] {
      return c.io_errors.load() >= io_target && c.conflicts_retried.load() >= conflicts_target &&
             h_.critical_entered_calls() - base_.entered_calls ==
                 c.critical_state_entries.load() - base_.critical_entries;
    };
    // Well within the targets' -timeout (60 s), so that a hang is reported as what it is.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done.load() && !accounted()) {
      FUZZ_CHECK(std::chrono::steady_clock::now() < give_up,
                 "the holder's final save was not accounted within 20 s");
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    h_.clock().SetAhead(kHandoffTimeout);
    caller.join();
    h_.clock().SetAhead(std::chrono::nanoseconds(0));
    return std::move(*result);
  }

  // A payload committed as the profile's next version.
  uint64_t AppendVersion(ProfileModel& key, std::string payload, VersionReason reason,
                         uint64_t epoch, uint64_t source_version = 0) {
    return key.history.Append(VersionModel{0, h_.clock().WallUnixMillis(), reason, epoch,
                                           source_version, std::move(payload)});
  }

  // The session's data and meta reach storage (a save, final save, or auto-save that wrote).
  void Commit(ProfileModel& key, SessionModel& s, VersionReason reason) {
    if (s.data != s.saved) {
      AppendVersion(key, s.data, reason, s.epoch);
      s.saved = s.data;
    }
    if (s.meta_dirty) {
      key.user_ids = s.user_ids;
      key.metadata = s.metadata;
      s.meta_dirty = false;
    }
  }

  // The session ended: checks its OnSessionEnd call.
  static void Ended(SessionModel& s, State state, EndReason reason, bool unsaved) {
    s.state = state;
    FUZZ_CHECK(s.ends->calls == 1, "OnSessionEnd ran " << s.ends->calls << " times");
    FUZZ_CHECK(s.ends->last.reason == reason, "end reason " << EndReasonName(s.ends->last.reason)
                                                            << ", expected "
                                                            << EndReasonName(reason));
    FUZZ_CHECK(s.ends->last.unsaved_changes == unsaved, "unsaved_changes should be " << unsaved);
  }

  void Start(ProfileModel& key, Slot& slot, SessionOp op) {
    SessionOptions options;
    if (op == SessionOp::kStartSteal) options.steal = true;
    if (op == SessionOp::kStartNoWait) options.timeout = 0ms;
    if (op == SessionOp::kStartCancelled) {
      options.cancel_token = std::make_shared<CancelToken>();
      options.cancel_token->Cancel();
    }
    auto call = [&] { return h_.players().StartSession(key.name, options); };
    if (op == SessionOp::kStartCancelled) {
      FUZZ_CHECK_CODE(call(), kCancelled);
      return;
    }
    if (op == SessionOp::kStartNoWait && key.live) {
      FUZZ_CHECK_CODE(call(), kTimedOut);
      return;
    }
    // The commits of this start. A handoff is one transaction: the holder's final save, which
    // hands the lock to this start (its release point, then the start's acquisition point).
    // When it fails, the holder stays until handoff_timeout and the start then steals with an
    // acquisition of its own; without a holder (or stealing), the start's own acquisition.
    const bool handoff = key.live && op != SessionOp::kStartSteal;
    const Outcome release =
        handoff ? NextTransaction(key, {CommitKind::kRelease, CommitKind::kAcquire}) : Outcome{};
    const bool own_acquisition = !handoff || !release.ok();
    const Outcome acquire = own_acquisition ? NextCommit(key, CommitKind::kAcquire) : Outcome{};
    auto started = handoff && !release.ok() ? PastHandoffTimeout(call, release) : call();
    if (handoff) Account(release);
    if (own_acquisition) Account(acquire);
    if (key.live) {
      SessionModel& holder = *key.live;
      if (handoff && release.ok()) {
        Commit(key, holder, VersionReason::kHandoff);
        Ended(holder, State::kHandedOff, EndReason::kExternal, false);
        ++model_.handoffs;
      } else if (acquire.ok()) {
        // Stolen, at once or after the handoff timeout. Unsaved: what the holder has differs
        // from what is stored (a change undone before the steal loses nothing).
        Ended(holder, State::kStolen, EndReason::kStolen, UnsavedAgainstStored(key, holder));
        ++model_.steals;
      } else {
        // Fenced for a steal whose acquisition failed: ended all the same, judged against its
        // own last save; its lock stays stored.
        Ended(holder, State::kStolen, EndReason::kStolen, Changed(holder));
        key.stale_lock = true;
      }
      key.live.reset();
    }
    if (!acquire.ok()) {
      CheckCode(started.status(), acquire.code, "StartSession with a failing acquisition");
      return;
    }
    FUZZ_CHECK(started.ok(), started.status().ToString());
    if (key.orphan_lock) ++model_.orphans, ++model_.orphan_reports;
    key.orphan_lock = false;
    key.stale_lock = false;
    ++key.epoch;
    ++key.load_count;
    if (!key.exists) {
      key.exists = true;
      AppendVersion(key, kTemplate, VersionReason::kCreate, key.epoch);
    }

    auto session = std::make_shared<SessionModel>();
    session->data = session->saved = key.committed();
    session->user_ids = key.user_ids;
    session->metadata = key.metadata;
    session->epoch = key.epoch;
    Handle& handle = *started;
    FUZZ_CHECK(handle.Data() == key.committed(), "loaded " << Printable(handle.Data())
                                                           << ", expected "
                                                           << Printable(key.committed()));
    ProfileInfo info = handle.Info();
    FUZZ_CHECK(info.epoch == key.epoch, "epoch " << info.epoch << ", expected " << key.epoch);
    FUZZ_CHECK(info.load_count == key.load_count, "load count " << info.load_count);
    FUZZ_CHECK(info.version == key.history.newest().version, "loaded version " << info.version);
    for (const char* name : {"m0", "m1"}) {
      auto it = key.metadata.find(name);
      auto expected = it == key.metadata.end() ? std::nullopt : std::optional(it->second);
      FUZZ_CHECK(handle.Metadata(name) == expected, "metadata " << name);
    }
    handle.OnSessionEnd([ends = session->ends](const SessionEnd& e) {
      ++ends->calls;
      ends->last = e;
    });
    slot.handle.emplace(std::move(handle));
    slot.session = session;
    key.live = std::move(session);
  }

  void Edit(Slot& slot, const std::string& value) {
    if (!slot.handle) return;
    Status s = slot.handle->Edit([&](std::string& data) { data = value; });
    if (slot.session->state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(slot.session->state), "Edit on an ended session: " << s);
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    slot.session->data = value;
  }

  // Whether the holder's data, user ids or metadata differ from what is stored.
  static bool UnsavedAgainstStored(const ProfileModel& key, const SessionModel& holder) {
    return holder.data != key.committed() || holder.user_ids != key.user_ids ||
           holder.metadata != key.metadata;
  }

  // Whether a save of the session writes (a save with nothing changed makes no commit).
  static bool Changed(const SessionModel& s) { return s.data != s.saved || s.meta_dirty; }

  void Save(ProfileModel& key, Slot& slot) {
    if (!slot.handle) return;
    SessionModel& session = *slot.session;
    if (session.state != State::kLive) {
      Status s = slot.handle->Save();
      FUZZ_CHECK(s.code() == EndedCode(session.state), "Save on an ended session: " << s);
      return;
    }
    const bool writes = Changed(session);
    const Outcome o = writes ? NextCommit(key, CommitKind::kSave) : Outcome{};
    Status s = slot.handle->Save();
    if (writes) Account(o);
    if (!o.ok()) {
      // Nothing written; the session stays active with its data.
      CheckCode(s, o.code, "Save with a failing commit");
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    if (writes) Commit(key, session, VersionReason::kSave);
  }

  void End(ProfileModel& key, Slot& slot) {
    if (!slot.handle) return;
    SessionModel& session = *slot.session;
    const Outcome o =
        session.state == State::kLive ? NextCommit(key, CommitKind::kRelease) : Outcome{};
    Status s = slot.handle->EndSession();
    if (session.state == State::kEnded) {
      FUZZ_CHECK(s.ok(), "EndSession is idempotent: " << s);
    } else if (session.state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(session.state), "EndSession on an ended session: " << s);
    } else {
      Account(o);
      if (!o.ok()) {
        // Nothing written; the session stays active and accepts edits again.
        CheckCode(s, o.code, "EndSession with a failing commit");
        return;
      }
      FUZZ_CHECK(s.ok(), s.ToString());
      Commit(key, session, VersionReason::kEndSession);
      Ended(session, State::kEnded, EndReason::kManual, false);
      key.live.reset();
    }
  }

  void Meta(Slot& slot, const MetaChange& change) {
    if (!slot.handle) return;
    Handle& handle = *slot.handle;
    SessionModel& session = *slot.session;
    Status s;
    switch (change.kind) {
      case MetaChange::kAddUserId:
        s = handle.AddUserId(change.user_id);
        break;
      case MetaChange::kRemoveUserId:
        s = handle.RemoveUserId(change.user_id);
        break;
      case MetaChange::kSetMetadata:
        s = handle.SetMetadata(change.key, change.value);
        break;
      case MetaChange::kEraseMetadata:
        s = handle.EraseMetadata(change.key);
        break;
      case MetaChange::kSetEmptyKey:
        FUZZ_CHECK_CODE(handle.SetMetadata("", change.value), kInvalidArgument);
        return;
    }
    if (session.state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(session.state), "meta change on an ended session: " << s);
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    auto& ids = session.user_ids;
    const auto ids_before = ids;
    const auto metadata_before = session.metadata;
    auto at = std::lower_bound(ids.begin(), ids.end(), change.user_id);
    bool present = at != ids.end() && *at == change.user_id;
    if (change.kind == MetaChange::kAddUserId && !present) ids.insert(at, change.user_id);
    if (change.kind == MetaChange::kRemoveUserId && present) ids.erase(at);
    if (change.kind == MetaChange::kSetMetadata) session.metadata[change.key] = change.value;
    if (change.kind == MetaChange::kEraseMetadata) session.metadata.erase(change.key);
    // A change that changes nothing (adding an id it has) leaves nothing to save.
    if (ids != ids_before || session.metadata != metadata_before) session.meta_dirty = true;
  }

  // Stores the lock a crashed engine would have left; the next start must take it over.
  void Orphan(ProfileModel& key) {
    if (key.live || !key.exists) return;  // a stale lock is replaced by the orphan's
    const uint64_t incarnation = h_.engine().Info().incarnation;
    const std::string stored_key = internal::EncodeProfileKey(kStoreName, key.name);
    Status s = internal::RunTransaction(
        test::StorageOf(h_.engine()), [&](internal::StorageTransaction& txn) -> Status {
          std::string bytes;
          if (Status r = txn.GetForUpdate(internal::Family::kMeta, stored_key, &bytes); !r.ok())
            return r;
          auto meta = internal::DecodeProfileMeta(bytes);
          if (!meta.ok()) return meta.status();
          int64_t now = h_.clock().WallUnixMillis();
          meta->lock = internal::SessionLock{incarnation - 1, 7, meta->epoch, now, now, "crashed"};
          return txn.Put(internal::Family::kMeta, stored_key, internal::EncodeProfileMeta(*meta));
        });
    FUZZ_CHECK(s.ok(), s.ToString());
    key.orphan_lock = true;
    key.stale_lock = false;
  }

  // A rollback that can go ahead first ends the profile's live session (its final save becomes a
  // version); a refused one changes nothing.
  void EndForRollback(ProfileModel& key) {
    if (!key.live) return;
    Commit(key, *key.live, VersionReason::kEndSession);
    Ended(*key.live, State::kRolledBack, EndReason::kRollback, false);
    key.live.reset();
  }

  // Runs `call`, a rollback to `version`: it goes ahead iff that version is kept when the
  // rollback is asked for. The source is chosen before the live session's final save, which may
  // prune it: the restored payload is still that version's.
  template <typename Call>
  void ExpectRollback(ProfileModel& key, Call call, uint64_t version) {
    const VersionModel* source = key.exists ? key.history.Find(version) : nullptr;
    if (!source) {
      FUZZ_CHECK_CODE(call(), kNotFound, "(rollback to version " << version << ")");
      return;
    }
    std::string payload = source->payload;  // the final save below may prune `source`
    // Its commits: the live session's final save, then the rollback transaction.
    const bool live = key.live != nullptr;
    const Outcome release = live ? NextCommit(key, CommitKind::kRelease) : Outcome{};
    const Outcome txn = NextCommit(key, CommitKind::kRollback);
    auto rolled = live && !release.ok() ? PastHandoffTimeout(call, release) : call();
    if (live) Account(release);
    Account(txn);
    if (live && release.ok()) {
      EndForRollback(key);
    } else if (live) {
      // The final save failed: the rollback fenced the holder after the handoff timeout.
      SessionModel& holder = *key.live;
      if (txn.ok()) {
        Ended(holder, State::kStolen, EndReason::kStolen, UnsavedAgainstStored(key, holder));
      } else {
        Ended(holder, State::kStolen, EndReason::kStolen, Changed(holder));
        key.stale_lock = true;
      }
      key.live.reset();
    }
    if (!txn.ok()) {
      // Nothing of the rollback transaction is written (a final save before it stays).
      CheckCode(rolled.status(), txn.code, "rollback with a failing commit");
      return;
    }
    FUZZ_CHECK(rolled.ok(), "rollback to version " << version << ": " << rolled.status());
    ++key.epoch;  // fences every session that held the profile; the profile is left free
    key.orphan_lock = false;
    key.stale_lock = false;
    const uint64_t expected =
        AppendVersion(key, std::move(payload), VersionReason::kRollback, key.epoch, version);
    FUZZ_CHECK(*rolled == expected,
               "rollback wrote version " << *rolled << ", expected " << expected);
    ++model_.rollbacks;
  }

  void Rollback(ProfileModel& key, uint8_t version) {
    auto call = [&] { return h_.players().Rollback(key.name, version); };
    ExpectRollback(key, call, version);
  }

  // RollbackTo picks its version before anything changes: without one, the live session stays.
  void RollbackTo(ProfileModel& key, uint8_t time) {
    const int64_t unix_ms = start_unix_ms_ + TimeOf(time);
    auto call = [&] { return h_.players().RollbackTo(key.name, unix_ms); };
    const VersionModel* target = key.exists ? key.history.NewestAtOrBefore(unix_ms) : nullptr;
    if (!target) {
      FUZZ_CHECK_CODE(call(), kNotFound, "(rollback to time " << unix_ms << ")");
      return;
    }
    ExpectRollback(key, call, target->version);
  }

  void Versions(ProfileModel& key, uint8_t query_byte) {
    const VersionQuery query = QueryOf(query_byte, start_unix_ms_);
    auto listed = h_.players().Versions(key.name, query);
    if (!key.exists) {
      FUZZ_CHECK_CODE(listed, kNotFound);
      return;
    }
    FUZZ_CHECK(listed.ok(), listed.status().ToString());
    std::vector<const VersionModel*> expected = key.history.Select(query);
    FUZZ_CHECK(listed->size() == expected.size(),
               "listed " << listed->size() << " versions, expected " << expected.size()
                         << " (query byte " << int{query_byte} << ")");
    for (size_t i = 0; i < expected.size(); ++i) {
      CheckVersion((*listed)[i], *expected[i], /*with_source=*/true);
    }
  }

  // Store::Get: the current data (version 0) or one version, with the profile's stored meta.
  void View(ProfileModel& key, uint8_t version) {
    auto view = version == 0 ? h_.players().Get(key.name) : h_.players().Get(key.name, version);
    const VersionModel* expected = !key.exists    ? nullptr
                                   : version == 0 ? &key.history.newest()
                                                  : key.history.Find(version);
    if (!expected) {
      FUZZ_CHECK_CODE(view, kNotFound, "(Get version " << int{version} << ")");
      return;
    }
    FUZZ_CHECK(view.ok(), view.status().ToString());
    FUZZ_CHECK(view->data == expected->payload, "Get " << int{version} << " data "
                                                       << Printable(view->data) << ", expected "
                                                       << Printable(expected->payload));
    // The current data's view does not name the source of a rollback; a version's view does.
    CheckVersion(view->version, *expected, /*with_source=*/version != 0);
    FUZZ_CHECK(view->load_count == key.load_count, "view load count " << view->load_count);
    FUZZ_CHECK(view->user_ids == key.user_ids, "view user ids");
    FUZZ_CHECK(view->metadata == key.metadata, "view metadata");
    FUZZ_CHECK(view->locked == (key.live || key.orphan_lock || key.stale_lock),
               "view locked " << view->locked);
  }

  // Returns whether the clock moved (only the input's first auto-save does).
  bool Autosave() {
    if (autosaves_++ >= kMaxAutosavesPerInput) return false;
    h_.clock().Advance(kAutosavePeriod);
    test::WaitAutosaveIdle(h_.engine());
    std::vector<StatusCode> results;  // in parallel on the workers: in any order
    for (ProfileModel& key : keys_) {
      if (!key.live || !Changed(*key.live)) continue;  // nothing to write: no commit
      const Outcome o = NextCommit(key, CommitKind::kSave);
      Count(o);
      results.push_back(o.code);
      if (o.ok()) Commit(key, *key.live, VersionReason::kSave);
    }
    Critical(std::move(results));
    return true;
  }

  // Returns whether the engine was reopened (the target's allowance was not used up).
  bool Reopen() {
    if (reopens_++ >= max_reopens_) return false;
    Players closed = h_.players();
    Outcome final_saves[kKeys];
    std::vector<StatusCode> failures;
    for (int k = 0; k < kKeys; ++k) {
      if (!keys_[k].live) continue;
      final_saves[k] = NextCommit(keys_[k], CommitKind::kRelease);
      if (!final_saves[k].ok()) failures.push_back(final_saves[k].code);
    }
    Status s = h_.engine().Close();
    if (failures.empty()) {
      FUZZ_CHECK(s.ok(), s.ToString());
    } else {
      // The first failure of the final saves, which run in parallel.
      FUZZ_CHECK(std::find(failures.begin(), failures.end(), s.code()) != failures.end(),
                 "Close with failing final saves -> " << s);
    }
    for (int k = 0; k < kKeys; ++k) {
      ProfileModel& key = keys_[k];
      // A stale lock is of this incarnation too: an orphan after the reopen.
      if (key.stale_lock) key.orphan_lock = true, key.stale_lock = false;
      if (!key.live) continue;
      Count(final_saves[k]);
      if (final_saves[k].ok()) {
        Commit(key, *key.live, VersionReason::kShutdown);
        Ended(*key.live, State::kShutdown, EndReason::kShutdown, false);
      } else {
        // Nothing written: the session ends, and its lock, of this incarnation, is an orphan
        // once the engine is open again.
        Ended(*key.live, State::kShutdown, EndReason::kShutdown, Changed(*key.live));
        key.orphan_lock = true;
      }
      key.live.reset();
    }
    CheckCounters(Read());  // the closed engine's (the critical state ends with it)
    FUZZ_CHECK_CODE(closed.StartSession(keys_[0].name), kClosed);
    FUZZ_CHECK_CODE(closed.Rollback(keys_[0].name, 1), kClosed);
    FUZZ_CHECK_CODE(closed.Versions(keys_[0].name), kClosed);
    FUZZ_CHECK_CODE(closed.Get(keys_[0].name), kClosed);
    h_.Reopen();
    ResetCounters();
    return true;
  }

  // Ends what the input left live, so that the next input starts from an idle engine, and checks
  // every profile's stored records one last time.
  void EndEverySession() {
    DisarmAll();
    for (int k = 0; k < kKeys; ++k) {
      ProfileModel& key = keys_[k];
      if (!key.live) continue;
      Slot* holder = nullptr;
      for (Slot& slot : key.slots) {
        if (slot.session == key.live) holder = &slot;
      }
      if (!holder) {  // the handle was dropped: hand the session off to a new one
        holder = &key.slots[0];
        Start(key, *holder, SessionOp::kStart);
      }
      End(key, *holder);
      CheckAll(0, true);  // the commit log adds the profiles written
    }
    CheckAll(kAllKeys, true);  // also: no sessions left
  }

  // `written`: profiles whose stored records to check (see the top of this file);
  // `sessions_change`: whether to compare the engine's active sessions with the model.
  void CheckAll(uint8_t written, bool sessions_change) {
    const std::vector<test::CommitEvent> events = h_.commit_log().Events();
    for (size_t i = events_checked_; i < events.size(); ++i) {
      int k = 0;
      while (k < kKeys && keys_[k].name != events[i].key) ++k;
      FUZZ_CHECK(k < kKeys, "a commit on profile " << Printable(events[i].key)
                                                   << ", which this input never used");
      written |= 1u << k;
    }
    events_checked_ = events.size();
    uint64_t live = 0;
    for (ProfileModel& key : keys_) {
      int live_handles = 0;
      for (Slot& slot : key.slots) {
        if (!slot.handle) continue;
        const SessionModel& m = *slot.session;
        const bool active = slot.handle->IsActive();
        FUZZ_CHECK(active == (m.state == State::kLive), "IsActive() is " << active);
        live_handles += active;
        FUZZ_CHECK(!active || key.live == slot.session, "a live handle that is not the holder");
        FUZZ_CHECK(slot.handle->Data() == m.data, "handle data " << Printable(slot.handle->Data())
                                                                 << ", expected "
                                                                 << Printable(m.data));
        FUZZ_CHECK(slot.handle->LastSavedData() == m.saved, "last saved data");
        FUZZ_CHECK(m.ends->calls == (active ? 0 : 1), "OnSessionEnd calls " << m.ends->calls);
        ProfileInfo info = slot.handle->Info();
        FUZZ_CHECK(info.epoch == m.epoch && info.user_ids == m.user_ids, "handle info");
      }
      FUZZ_CHECK(live_handles <= 1, live_handles << " live handles on one profile");
      live += key.live != nullptr;
    }
    const Counters now = Read();
    CheckCounters(now);
    std::optional<EngineStats> stats;
    if (sessions_change || faults_armed_) stats = h_.engine().Stats();
    if (sessions_change) {
      FUZZ_CHECK(stats->active_sessions == live,
                 "active sessions " << stats->active_sessions << ", expected " << live);
    }
    // Keep the critical states the engine's agree with (the state is read only in inputs that
    // armed faults: without storage errors it cannot change).
    const uint64_t entries = now.critical_entries - base_.critical_entries;
    const uint64_t exits = now.left_calls - base_.left_calls;
    FUZZ_CHECK(now.entered_calls - base_.entered_calls == entries,
               "on_critical_state(true) ran " << now.entered_calls - base_.entered_calls
                                              << " times for " << entries << " entries");
    std::vector<CriticalState> agree;
    for (const CriticalState& c : critical_) {
      if (c.entries == entries && c.exits == exits && (!stats || c.critical == stats->critical)) {
        agree.push_back(c);
      }
    }
    FUZZ_CHECK(!agree.empty(), "critical state: critical "
                                   << (stats && stats->critical) << ", entered " << entries
                                   << " times, left " << exits << " times; the model expected "
                                   << DescribeCriticalStates(critical_));
    critical_ = std::move(agree);
    for (int k = 0; k < kKeys; ++k) {
      if (written & (1u << k)) CheckStored(keys_[k]);
    }
  }

  void CheckCounters(const Counters& now) {
    FUZZ_CHECK(now.handoffs - base_.handoffs == model_.handoffs, "handoffs " << now.handoffs);
    FUZZ_CHECK(now.steals - base_.steals == model_.steals, "steals " << now.steals);
    FUZZ_CHECK(now.orphans - base_.orphans == model_.orphans, "orphans taken over");
    FUZZ_CHECK(now.orphan_reports - base_.orphan_reports == model_.orphan_reports,
               "orphan reports");
    FUZZ_CHECK(now.rollbacks - base_.rollbacks == model_.rollbacks, "rollbacks " << now.rollbacks);
    FUZZ_CHECK(now.injected - base_.injected == model_.injected,
               "the hooks injected " << now.injected - base_.injected << " failures, expected "
                                     << model_.injected
                                     << " (a commit the model did not expect, or one missing)");
    FUZZ_CHECK(now.conflicts - base_.conflicts == model_.conflicts,
               "conflicts retried " << now.conflicts - base_.conflicts << ", expected "
                                    << model_.conflicts);
    FUZZ_CHECK(
        now.io_errors - base_.io_errors == model_.io_errors,
        "io errors " << now.io_errors - base_.io_errors << ", expected " << model_.io_errors);
  }

  static std::string Who(const ProfileModel& key) {
    return "'" + Printable(key.name) + "' as stored: ";
  }

  // Aborts with every violation the shared oracle reported.
  static void Report(const test::ViolationList& violations) {
    FUZZ_CHECK(violations.count() == 0, violations.Report());
  }

  // The profile's stored records against the model: the rules shared with the other harnesses
  // (stored_profile.h), then what only this model knows (load count, user ids, metadata, times,
  // the index entry by entry).
  void CheckStored(ProfileModel& key) {
    auto stored = test::ReadStoredProfile(test::StorageOf(h_.engine()), kStoreName, key.name);
    FUZZ_CHECK(stored.ok(), stored.status().ToString());
    test::ExpectedProfile expected;
    expected.has_meta = expected.has_data = key.exists;
    if (key.exists) {
      expected.epoch = key.epoch;
      expected.locked = key.live || key.orphan_lock || key.stale_lock;
      expected.last_version = key.history.last_version();
      expected.data_epoch = key.history.newest().epoch;
      expected.payload = key.history.newest().payload;
    }
    test::ViolationList violations;
    test::CheckStoredProfile(*stored, expected, Who(key), violations);
    Report(violations);
    if (!key.exists) return;
    const internal::ProfileRecord& record = *stored->data;
    const internal::ProfileMeta& meta = *stored->meta;
    const VersionModel& newest = key.history.newest();
    FUZZ_CHECK(record.version == newest.version && record.updated_unix_ms == newest.written_unix_ms,
               "stored version " << record.version << " at " << record.updated_unix_ms
                                 << ", expected " << newest.version << " at "
                                 << newest.written_unix_ms);
    for (Slot& slot : key.slots) {
      if (slot.handle && slot.session == key.live) {
        FUZZ_CHECK(slot.handle->Info().version == record.version, "live handle's version");
      }
    }
    FUZZ_CHECK(meta.load_count == key.load_count, "stored load count " << meta.load_count);
    FUZZ_CHECK(meta.user_ids == key.user_ids, "stored user ids");
    FUZZ_CHECK(meta.metadata == key.metadata, "stored metadata");
    const std::vector<VersionModel>& kept = key.history.kept();
    FUZZ_CHECK(meta.versions.size() == kept.size(), "stored index holds " << meta.versions.size()
                                                                          << " versions, expected "
                                                                          << kept.size());
    for (size_t i = 0; i < kept.size(); ++i) {
      const internal::VersionIndexEntry& e = meta.versions[i];
      FUZZ_CHECK(e.version == kept[i].version && e.written_unix_ms == kept[i].written_unix_ms &&
                     e.reason == static_cast<uint8_t>(kept[i].reason),
                 "stored index entry " << i << ": version " << e.version << " at "
                                       << e.written_unix_ms << " reason " << int{e.reason});
    }
  }

  // After the input ended its sessions: its commit log against the lock's rules, and every
  // profile's stored records against that history. Orphaned locks (kOrphan, or a session whose
  // shutdown save failed) and a failed steal's stale lock are not commits of the log: the model
  // says whether one is stored.
  void CheckHistory() {
    test::ViolationList violations;
    const std::map<std::string, test::KeyHistory> history =
        test::ReplayHistory(h_.commit_log().Events(), violations);
    for (ProfileModel& key : keys_) {
      auto it = history.find(key.name);
      if (it == history.end()) {
        FUZZ_CHECK(!key.exists, Who(key) << "a profile that no logged commit wrote");
        continue;
      }
      auto stored = test::ReadStoredProfile(test::StorageOf(h_.engine()), kStoreName, key.name);
      FUZZ_CHECK(stored.ok(), stored.status().ToString());
      test::ExpectedProfile expected = test::ExpectedFromHistory(it->second);
      expected.locked = key.orphan_lock || key.stale_lock;
      if (key.orphan_lock) expected.lock_session_id.reset();
      test::CheckStoredProfile(*stored, expected, Who(key), violations);
    }
    Report(violations);
  }

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

}  // namespace

void RunSessionOps(const uint8_t* data, size_t size, const SessionDriverOptions& options) {
  Harness& harness = Harness::Get();
  harness.BeginInput();
  FuzzInput in(data, size);
  Driver(harness, options).Run(in);
}

}  // namespace holdfast::fuzz
