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
#include "session_driver_model.h"

namespace holdfast::fuzz {
namespace driver {

void Driver::Run(FuzzInput& in) {
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

void Driver::ResetCounters() {
  base_ = Read();
  model_ = Counters{};
  critical_ = {CriticalState{}};
}

Counters Driver::Read() {
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

void Driver::Arm(ProfileModel& key, const FaultSpec& spec) {
  key.faults[static_cast<int>(spec.kind)] = spec;
  h_.hooks().Arm(key.name, spec.kind, InjectedFault{spec.code, spec.commits, spec.busy});
  faults_armed_ = true;
}

void Driver::DisarmAll() {
  for (ProfileModel& key : keys_) {
    for (FaultSpec& f : key.faults) f = FaultSpec{};
  }
  h_.hooks().DisarmAll();
}

StatusCode Driver::Hook(FaultSpec& f) {
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

Outcome Driver::NextTransaction(ProfileModel& key, std::initializer_list<CommitKind> kinds) {
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

Outcome Driver::NextCommit(ProfileModel& key, CommitKind kind) {
  return NextTransaction(key, {kind});
}

void Driver::Count(const Outcome& o) {
  model_.conflicts += o.restarts;
  model_.injected += o.injected;
  model_.io_errors += o.storage_error();
}

void Driver::Critical(std::vector<StatusCode> codes) {
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

void Driver::Account(const Outcome& o) {
  Count(o);
  Critical({o.code});
}

void Driver::Commit(ProfileModel& key, SessionModel& s, VersionReason reason) {
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

void Driver::Ended(SessionModel& s, State state, EndReason reason, bool unsaved) {
  s.state = state;
  FUZZ_CHECK(s.ends->calls == 1, "OnSessionEnd ran " << s.ends->calls << " times");
  FUZZ_CHECK(s.ends->last.reason == reason, "end reason " << EndReasonName(s.ends->last.reason)
                                                          << ", expected "
                                                          << EndReasonName(reason));
  FUZZ_CHECK(s.ends->last.unsaved_changes == unsaved, "unsaved_changes should be " << unsaved);
}

}  // namespace driver

void RunSessionOps(const uint8_t* data, size_t size, const SessionDriverOptions& options) {
  Harness& harness = Harness::Get();
  harness.BeginInput();
  FuzzInput in(data, size);
  driver::Driver(harness, options).Run(in);
}

}  // namespace holdfast::fuzz
