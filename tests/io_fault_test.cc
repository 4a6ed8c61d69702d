// I/O faults, the SQLite way: one scenario (open, start, edit, save, create, end, handoff, steal,
// rollback) runs again and again with an error injected at the 1st, 2nd, 3rd, ... file-system
// call of one class (write, sync, read), once (a transient error) or from that call on (a failed
// device), until a run finishes without reaching the armed call. In every run:
//  - each failure surfaces as a Status with a storage code (IOError, or ResourceExhausted for a
//    full disk), never a crash, a hang or a wrong code;
//  - a failed commit puts the engine in its critical state (threshold 1 here), and the state
//    clears once the fault does and a commit succeeds;
//  - nothing acknowledged is lost: after the fault clears, RocksDB's checksums verify and every
//    profile holds its last acknowledged save (or a later one that was in doubt);
//  - the same engine works again once the fault clears, at its first commit: after a failed
//    write-ahead-log write or sync, a failed flush or a full disk, RocksDB refuses every write
//    until reopened, and the storage reopens the database in place before the next transaction
//    (EngineStats::storage_reopens counts it).
// A full disk (appends fail with NoSpace beyond a byte budget) runs through the same scenario.
//
// Each loop counts what its runs did (faults injected, opens, storage errors seen by sessions,
// critical states, recoveries) and fails below a minimum. The engine runs on the system clock
// here (handoff timeouts are real), so every run has a real-time deadline: a run that hangs
// fails the test with its fault position instead of hanging until ctest's timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "internals.h"
#include "fault_fs.h"
#include "holdfast/holdfast.h"
#include "raw_database.h"
#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

constexpr char kPath[] = "/faults";
constexpr char kStore[] = "Players";
constexpr char kTemplate[] = "template";

bool IsStorageError(const Status& s) {
  return s.code() == StatusCode::kIOError || s.code() == StatusCode::kResourceExhausted;
}

// A run takes well under a second; a minute means it hung.
constexpr std::chrono::seconds kRunDeadline{60};

// What one run learned; the test asserts on it.
struct RunReport {
  std::vector<std::string> problems;  // violations of the contract, with the step
  bool fault_fired = false;
  bool opened = false;             // Engine::Open succeeded despite the fault
  int session_storage_errors = 0;  // starts, saves and ends that failed with a storage error
  bool entered_critical = false;
  bool works_again_in_same_engine = false;  // at the first attempt after the fault cleared
  std::string still_failing;                // why it did not, when it did not
  bool left_critical = false;
  void Problem(std::string what) { problems.push_back(std::move(what)); }
};

// What one loop did, summed over its runs. A loop ends at the first run whose armed call is
// never reached, so a scenario that stopped making calls of a kind (syncs skipped, say) would
// end it after one run and pass having tested nothing: the tests hold each count to a minimum.
struct LoopTally {
  int runs = 0;
  int fired = 0;           // runs in which the fault was injected (all but the last)
  int opened = 0;          // runs whose Engine::Open succeeded despite the fault
  int session_errors = 0;  // runs in which a start, save or end failed with a storage error
  int critical = 0;        // runs that entered the critical state
  int recovered = 0;       // runs whose engine committed again at its first attempt
  void Add(const RunReport& r) {
    ++runs;
    fired += r.fault_fired;
    opened += r.opened;
    session_errors += r.session_storage_errors > 0;
    critical += r.entered_critical;
    recovered += r.works_again_in_same_engine;
  }
  std::string Describe() const {
    return std::to_string(runs) + " runs, " + std::to_string(fired) + " with the fault fired, " +
           std::to_string(opened) + " opened, " + std::to_string(session_errors) +
           " with session storage errors, " + std::to_string(critical) +
           " entered the critical state, " + std::to_string(recovered) +
           " saved again in the same engine";
  }
};

// Asserts that a loop did at least `min` of everything it counts.
void ExpectAtLeast(const LoopTally& tally, const LoopTally& min) {
  EXPECT_GE(tally.runs, min.runs) << "too few runs: " << tally.Describe();
  EXPECT_EQ(tally.fired, tally.runs - 1) << "every run but the last must inject its fault";
  EXPECT_GE(tally.opened, min.opened) << tally.Describe();
  EXPECT_GE(tally.session_errors, min.session_errors) << tally.Describe();
  EXPECT_GE(tally.critical, min.critical) << tally.Describe();
  EXPECT_GE(tally.recovered, min.recovered) << tally.Describe();
}

class IoFaultTest : public ::testing::Test {
 protected:
  EngineOptions Options() {
    EngineOptions o;
    o.memory_volume = volume_;
    o.sync_writes = true;
    o.conflict_buckets = 1024;
    o.worker_threads = 2;
    o.write_buffer_bytes = 64 << 10;
    o.on_orphan_takeover = [](const OrphanTakeover&) {};
    // Every storage error enters the critical state, so that each run shows the engine entering
    // it (on the first failed commit) and leaving it (on the first successful one).
    o.critical_error_threshold = 1;
    return o;
  }
  static StoreOptions<std::string> PlayerOptions() {
    StoreOptions<std::string> o;
    o.template_value = kTemplate;
    o.autosave_period = 1h;    // commits happen only where the scenario makes them
    o.handoff_timeout = 50ms;  // a holder whose final save fails is stolen from quickly
    o.start_timeout = 10s;
    return o;
  }

  // A fresh volume holding a closed database with "a", "b" and "c" saved and flushed to table
  // files (so that reads reach the file system).
  void Prepare() {
    volume_ = FaultVolume::InMemory();
    acked_.clear();
    doubt_.clear();
    auto engine = Engine::Open(kPath, Options());
    ASSERT_OK(engine);
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, PlayerOptions());
    ASSERT_OK(players);
    for (const std::string key : {"a", "b", "c"}) {
      auto profile = players->StartSession(key);
      ASSERT_OK(profile);
      std::string value = key + "-saved-" + std::string(2000, key[0]);
      ASSERT_OK(profile->Edit([&](std::string& d) { d = value; }));
      ASSERT_OK(profile->EndSession());
      acked_[key] = value;
      auto versions = players->Versions(key);
      ASSERT_OK(versions);
      prepared_version_[key] = versions->front().version;
      prepared_value_[key] = value;
    }
    ASSERT_OK((*engine)->Close());
  }

  // Checks a step's status: OK, or a storage error while a fault is armed.
  void Expect(RunReport& r, const char* step, const Status& s) {
    if (expected_storage_code_ && !s.ok() && s.code() != *expected_storage_code_) {
      r.Problem(std::string(step) + " returned " + s.ToString() + ", expected " +
                std::string(StatusCodeName(*expected_storage_code_)));
      return;
    }
    const bool engine_step =
        std::string_view(step) != "open" && std::string_view(step) != "open store";
    if (IsStorageError(s) && engine_step) ++r.session_storage_errors;
    if (s.ok() || IsStorageError(s)) return;
    r.Problem(std::string(step) + " returned " + s.ToString());
  }
  // Records a write whose outcome is `s`: acknowledged, or in doubt.
  void Wrote(const std::string& key, const std::string& value, const Status& s) {
    if (s.ok()) {
      acked_[key] = value;
      doubt_[key].clear();
    } else {
      doubt_[key].insert(value);
    }
  }

  // The scenario. Every engine call may fail with a storage error while the fault is armed.
  void Scenario(RunReport& r, Engine& engine, Players& players) {
    std::map<std::string, Handle> held;
    auto start = [&](const std::string& key, bool steal) {
      SessionOptions options;
      options.steal = steal;
      auto profile = players.StartSession(key, options);
      Expect(r, steal ? "steal" : "start", profile.status());
      if (!profile.ok()) {
        if (key == "d" || key == "e") doubt_[key].insert(kTemplate);  // creation in doubt
        // A holder asked to hand off, or stolen from, is fenced before the acquisition runs;
        // when the acquisition fails it stays fenced (its OnSessionEnd reports the failure).
        if (held.count(key) && held.at(key).IsActive()) {
          r.Problem("'" + key + "' holder still active after a failed handoff or steal");
        }
        held.erase(key);
        return;
      }
      if ((key == "d" || key == "e") && !acked_.count(key)) acked_[key] = kTemplate;
      held.erase(key);
      held.emplace(key, std::move(*profile));
    };
    auto edit_save = [&](const std::string& key, const std::string& value) {
      if (!held.count(key)) return;
      Expect(r, "edit", held.at(key).Edit([&](std::string& d) { d = value; }));
      Status s = held.at(key).Save();
      Expect(r, "save", s);
      Wrote(key, value, s);
    };
    start("a", false);
    edit_save("a", "a-1-" + std::string(3000, 'x'));
    start("d", false);
    edit_save("d", "d-1");
    // A trade between "d" and a new "e": both stored or neither (checked after the fault).
    start("e", false);
    if (held.count("d") && held.count("e")) {
      Handle& d = held.at("d");
      Handle& e = held.at("e");
      Status s = engine.Trade(
          [&]() -> Status {
            if (Status x = d.Edit([](std::string& v) { v = "d-traded"; }); !x.ok()) return x;
            return e.Edit([](std::string& v) { v = "e-traded"; });
          },
          d, e);
      Expect(r, "trade", s);
      Wrote("d", "d-traded", s);
      Wrote("e", "e-traded", s);
      if (!s.ok() && (d.Data() == "d-traded" || e.Data() == "e-traded")) {
        r.Problem("a failed trade left its change in memory");
      }
    }
    if (held.count("a")) {
      (void)held.at("a").Edit([](std::string& d) { d = "a-final"; });
      Status s = held.at("a").EndSession();
      Expect(r, "end", s);
      Wrote("a", "a-final", s);
    }
    start("b", false);
    if (held.count("b")) {
      (void)held.at("b").Edit([](std::string& d) { d = "b-handed-off"; });
      // A handoff: the holder's final save runs on an engine worker; it is acknowledged when
      // the new start succeeds without a steal (a failed final save ends in a steal after
      // handoff_timeout, and the new holder loads the data saved before).
      doubt_["b"].insert("b-handed-off");
      const uint64_t steals = engine.Stats().steals;
      start("b", false);
      if (held.count("b") && engine.Stats().steals == steals) {
        if (held.at("b").Data() != "b-handed-off") r.Problem("the handoff lost the final save");
        acked_["b"] = "b-handed-off";
        doubt_["b"].clear();
      }
    }
    start("c", false);
    edit_save("c", "c-1");
    start("c", /*steal=*/true);  // the holder's unsaved state is gone; "c-1" stays
    edit_save("c", "c-2");
    // "c" back to the value Prepare() saved: ends the session holding it (its final save is a
    // version of its own) and writes that value as a new version.
    auto rolled = players.Rollback("c", prepared_version_["c"]);
    Expect(r, "rollback", rolled.status());
    Wrote("c", prepared_value_["c"], rolled.status());
    // A rollback that succeeded ended the holder. One that failed may have failed before it
    // claimed the profile (the holder stays, its data intact) or after (the holder ended).
    if (rolled.ok() && held.count("c") && held.at("c").IsActive()) {
      r.Problem("'c' holder still active after a rollback succeeded");
    }
  }

  // Runs the scenario with a fault armed by `arm` before the open, then clears the fault and
  // checks recovery. `persistent`: the fault stays until cleared (a failed device).
  RunReport Run(const std::function<void(FaultFileSystem&)>& arm, bool persistent) {
    RunReport r;
    Prepare();
    if (HasFatalFailure()) return r;
    FaultFileSystem& fs = volume_->fs();
    arm(fs);
    auto opened = Engine::Open(kPath, Options());
    Expect(r, "open", opened.status());
    if (opened.ok()) {
      r.opened = true;
      std::unique_ptr<Engine> engine = std::move(*opened);
      auto players = engine->OpenStore<BytesCodec>(kStore, PlayerOptions());
      Expect(r, "open store", players.status());
      if (players.ok()) {
        Scenario(r, *engine, *players);
        r.fault_fired = fs.InjectedErrors() > 0;
        if (persistent && r.fault_fired) KeepProbing(r, *players);
      }
      r.entered_critical = engine->Stats().critical_state_entries > 0;
      fs.ClearFaults();
      fs.SetSpaceBudget(std::nullopt);
      if (!players.ok()) {  // the fault hit the store's registration: the same engine retries
        players = engine->OpenStore<BytesCodec>(kStore, PlayerOptions());
      }
      if (players.ok()) {
        CheckWorksAgain(r, *engine, *players);
      } else {
        r.still_failing = "open store: " + players.status().ToString();
      }
      (void)engine->Close();  // may report the errors of the run
    }
    r.fault_fired = fs.InjectedErrors() > 0;
    fs.ClearFaults();
    fs.SetSpaceBudget(std::nullopt);
    VerifyNothingAcknowledgedIsLost(r);
    return r;
  }

  // The device stays failed: a start, an edit and a save of fresh keys keep failing with storage
  // errors (or succeed, when the failing calls are not on their path), never anything else.
  void KeepProbing(RunReport& r, Players& players) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto profile = players.StartSession("probe-" + std::to_string(attempt));
      Status s = profile.status();
      if (profile.ok()) {
        s = profile->Edit([](std::string& d) { d = "probe"; });
        if (s.ok()) s = profile->Save();
      }
      Expect(r, "probe", s);
    }
  }

  // Once the fault clears, does the same engine commit again (first attempt) and leave the
  // critical state? Recorded here, asserted by the loops.
  void CheckWorksAgain(RunReport& r, Engine& engine, Players& players) {
    std::string key = "after-" + std::to_string(++after_counter_);
    auto attempt = [&]() -> Status {
      auto profile = players.StartSession(key);
      if (!profile.ok()) return profile.status().WithContext("start");
      if (Status s = profile->Edit([](std::string& d) { d = "works"; }); !s.ok()) return s;
      return profile->EndSession().WithContext("end");
    };
    Status works = attempt();
    r.works_again_in_same_engine = works.ok();
    if (!works.ok()) r.still_failing = works.ToString();
    if (r.works_again_in_same_engine) acked_[key] = "works";
    r.left_critical = !engine.Stats().critical;
  }

  void VerifyNothingAcknowledgedIsLost(RunReport& r) {
    {
      auto raw = RawDatabase::Open(kPath, volume_->env());
      if (!raw.ok()) return r.Problem("read-only open: " + raw.status().ToString());
      if (Status s = (*raw)->VerifyChecksums(); !s.ok()) r.Problem(s.ToString());
    }
    auto engine = Engine::Open(kPath, Options());
    if (!engine.ok()) return r.Problem("reopen: " + engine.status().ToString());
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, PlayerOptions());
    if (!players.ok()) return r.Problem("reopen store: " + players.status().ToString());
    std::map<std::string, std::string> loaded;
    for (const auto& [key, value] : acked_) {
      SessionOptions no_wait;
      no_wait.timeout = 0ms;
      auto profile = players->StartSession(key, no_wait);
      if (!profile.ok()) {
        r.Problem("start '" + key + "' after the fault: " + profile.status().ToString());
        continue;
      }
      std::string data = profile->Data();
      loaded[key] = data;
      if (data != value && !doubt_[key].count(data)) {
        r.Problem("'" + key + "' holds '" + data.substr(0, 20) + "', acknowledged '" +
                  value.substr(0, 20) + "'");
      }
      (void)profile->EndSession();
    }
    if (loaded.count("d") && loaded.count("e") &&
        (loaded["d"] == "d-traded") != (loaded["e"] == "e-traded")) {
      r.Problem("half a trade is stored: 'd' holds '" + loaded["d"] + "', 'e' holds '" +
                loaded["e"] + "'");
    }
    (void)(*engine)->Close();
  }

  // One failed write (or sync) of the write-ahead log: the save fails with IOError, as it should,
  // and puts the engine in its critical state (threshold 1 here); once the fault has cleared, the
  // same session saves again and the engine leaves the critical state.
  void ExpectSaveRecoversAfterOneWalFault(FileOpKind kind) {
    ASSERT_NO_FATAL_FAILURE(Prepare());
    auto engine = Engine::Open(kPath, Options());
    ASSERT_OK(engine);
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, PlayerOptions());
    ASSERT_OK(players);
    auto profile = players->StartSession("a");
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& d) { d = "a-after-the-fault"; }));
    const auto before = RawProfileRecords(**engine, kStore, "a");
    ASSERT_FALSE(before.empty());
    volume_->fs().FailNth(kind, 1, FaultMode::kOnce, std::nullopt, ".log");
    EXPECT_CODE(profile->Save(), kIOError);
    EXPECT_EQ(volume_->fs().InjectedErrors(), 1u);
    // The open database shows nothing of the failed commit: meta, data and history as they were.
    // (A failed sync left the commit in the log, so the reopen below may replay it: in doubt.)
    EXPECT_EQ(RawProfileRecords(**engine, kStore, "a"), before);
    EXPECT_TRUE(profile->IsActive());
    EXPECT_TRUE((*engine)->Stats().critical);
    EXPECT_EQ((*engine)->Stats().storage_reopens, 0u);
    // The fault is gone: the next save reopens the database in place and commits.
    ASSERT_OK(profile->Edit([](std::string& d) { d = "a-after-the-fault-cleared"; }));
    EXPECT_OK(profile->Save());
    EXPECT_EQ((*engine)->Stats().storage_reopens, 1u);
    EXPECT_FALSE((*engine)->Stats().critical);
    Status ended = profile->EndSession();
    EXPECT_OK(ended);
    EXPECT_OK((*engine)->Close());
    if (ended.ok()) acked_["a"] = "a-after-the-fault-cleared";
    RunReport r;
    VerifyNothingAcknowledgedIsLost(r);
    for (const auto& p : r.problems) ADD_FAILURE() << p;
  }

  // The SQLite loop: fail the 1st, 2nd, ... call of `kind` until a run never reaches it.
  // Returns what the loop did, for the caller to hold against its minimums.
  LoopTally LoopOverEveryCall(FileOpKind kind, FaultMode mode) {
    LoopTally tally;
    for (uint64_t n = 1;; ++n) {
      const std::string position = std::string(FileOpKindName(kind)) +
                                   (mode == FaultMode::kOnce ? " once" : " from-nth-on") +
                                   ", call " + std::to_string(n);
      SCOPED_TRACE(position);
      Watchdog watchdog("I/O-fault run (" + position + ")", kRunDeadline);
      RunReport r = Run([&](FaultFileSystem& fs) { fs.FailNth(kind, n, mode); },
                        mode == FaultMode::kFromNthOn);
      if (HasFatalFailure()) return tally;
      tally.Add(r);
      for (const auto& p : r.problems) ADD_FAILURE() << p;
      if (r.session_storage_errors > 0) {
        EXPECT_TRUE(r.entered_critical)
            << r.session_storage_errors << " storage errors did not raise the critical state";
      }
      if (r.works_again_in_same_engine) {
        EXPECT_TRUE(r.left_critical) << "a successful commit did not leave the critical state";
      }
      EXPECT_TRUE(!r.opened || r.works_again_in_same_engine)
          << "the engine kept failing after the fault cleared: " << r.still_failing;
      if (!r.fault_fired) break;  // the scenario no longer reaches call n: every call was hit
      if (n > 5000) {
        ADD_FAILURE() << "the scenario makes more than 5000 " << FileOpKindName(kind) << " calls";
        break;
      }
    }
    std::cout << FileOpKindName(kind) << (mode == FaultMode::kOnce ? " once" : " from-nth-on")
              << ": " << tally.Describe() << "\n";
    return tally;
  }

  // Runs the scenario against a disk that fills up after `budget` more bytes, for growing
  // budgets, until one is large enough for the whole scenario.
  LoopTally LoopOverDiskSizes() {
    expected_storage_code_ = StatusCode::kResourceExhausted;
    LoopTally tally;
    for (uint64_t budget = 0;; budget = budget == 0 ? 256 : budget * 2) {
      SCOPED_TRACE("space budget " + std::to_string(budget));
      Watchdog watchdog("full-disk run (budget " + std::to_string(budget) + ")", kRunDeadline);
      RunReport r = Run([&](FaultFileSystem& fs) { fs.SetSpaceBudget(budget); }, true);
      if (HasFatalFailure()) return tally;
      tally.Add(r);
      for (const auto& p : r.problems) ADD_FAILURE() << p;
      if (r.session_storage_errors > 0) EXPECT_TRUE(r.entered_critical);
      if (r.works_again_in_same_engine) EXPECT_TRUE(r.left_critical);
      EXPECT_TRUE(!r.opened || r.works_again_in_same_engine)
          << "the engine kept failing after space came back: " << r.still_failing;
      if (!r.fault_fired) break;
    }
    std::cout << "full disk: " << tally.Describe() << "\n";
    expected_storage_code_.reset();
    return tally;
  }

  std::shared_ptr<FaultVolume> volume_;
  std::map<std::string, std::string> acked_;
  std::map<std::string, std::set<std::string>> doubt_;
  std::map<std::string, uint64_t> prepared_version_;  // the version Prepare() saved, per key
  std::map<std::string, std::string> prepared_value_;
  int after_counter_ = 0;
  std::optional<StatusCode> expected_storage_code_;
};

// The minimums below are about three quarters of what each loop does today (the counts are the
// same from run to run; in parentheses): runs, opened, runs with a session storage error, runs
// that entered the critical state, runs that saved again in the same engine. A scenario that
// stops making the calls a loop fails (a commit that no longer syncs, say) ends the loop early
// and falls below them.

TEST_F(IoFaultTest, EveryWriteFailingOnce) {
  // Today: 46 runs, 23 opened, 12 session errors, 14 critical, 23 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kWrite, FaultMode::kOnce),
                {.runs = 34, .opened = 17, .session_errors = 9, .critical = 10, .recovered = 17});
}
TEST_F(IoFaultTest, EverySyncFailingOnce) {
  // Today: 23 runs, 18 opened, 12 session errors, 14 critical, 18 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kSync, FaultMode::kOnce),
                {.runs = 17, .opened = 13, .session_errors = 9, .critical = 10, .recovered = 13});
}
TEST_F(IoFaultTest, EveryReadFailingOnce) {
  // Today: 83 runs (most of them inside Engine::Open), 7 opened, 4 session errors, 4 critical,
  // 7 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kRead, FaultMode::kOnce),
                {.runs = 62, .opened = 5, .session_errors = 3, .critical = 3, .recovered = 5});
}
TEST_F(IoFaultTest, WritesFailingFromEveryCallOn) {
  // Today: 46 runs, 16 opened, 14 session errors, 14 critical, 16 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kWrite, FaultMode::kFromNthOn),
                {.runs = 34, .opened = 12, .session_errors = 10, .critical = 10, .recovered = 12});
}
TEST_F(IoFaultTest, SyncsFailingFromEveryCallOn) {
  // Today: 23 runs, 16 opened, 14 session errors, 14 critical, 16 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kSync, FaultMode::kFromNthOn),
                {.runs = 17, .opened = 12, .session_errors = 10, .critical = 10, .recovered = 12});
}
TEST_F(IoFaultTest, ReadsFailingFromEveryCallOn) {
  // Today: 83 runs, 5 opened, 4 session errors, 4 critical, 5 recovered.
  ExpectAtLeast(LoopOverEveryCall(FileOpKind::kRead, FaultMode::kFromNthOn),
                {.runs = 62, .opened = 3, .session_errors = 3, .critical = 3, .recovered = 3});
}

TEST_F(IoFaultTest, FullDiskFailsWithResourceExhaustedAndLosesNothing) {
  // Today: 10 budgets (0, then 256 bytes doubling), 7 opened, 5 session errors, 5 critical,
  // 7 recovered.
  ExpectAtLeast(LoopOverDiskSizes(),
                {.runs = 7, .opened = 5, .session_errors = 3, .critical = 3, .recovered = 5});
}

// Regression: RocksDB 7.8's DBImpl::Recover reports a failed probe read of CURRENT as
// InvalidArgument ("Direct I/O is not supported by the specified DB"); Engine::Open must report
// the I/O problem it is (IOError: retry), not a bad database or bad options.
TEST_F(IoFaultTest, OpenWithATransientReadErrorOfCurrentReturnsIOError) {
  int failed_opens = 0;
  for (uint64_t n = 1; n <= 20; ++n) {
    SCOPED_TRACE("read of CURRENT #" + std::to_string(n));
    ASSERT_NO_FATAL_FAILURE(Prepare());
    volume_->fs().FailNth(FileOpKind::kRead, n, FaultMode::kOnce, std::nullopt, "CURRENT");
    auto engine = Engine::Open(kPath, Options());
    if (engine.ok()) {
      EXPECT_OK((*engine)->Close());
      continue;
    }
    ++failed_opens;
    EXPECT_CODE(engine, kIOError);
  }
  // Today 16 of the 20 opens fail (an open reads CURRENT at least 16 times).
  EXPECT_GE(failed_opens, 12);
}

// One failed log write, one failed log sync, a full disk: the same session saves again as soon
// as the fault clears.

TEST_F(IoFaultTest, OneFailedWalWriteThenTheSameEngineSavesAgain) {
  ExpectSaveRecoversAfterOneWalFault(FileOpKind::kWrite);
}

TEST_F(IoFaultTest, OneFailedWalSyncThenTheSameEngineSavesAgain) {
  ExpectSaveRecoversAfterOneWalFault(FileOpKind::kSync);
}

TEST_F(IoFaultTest, FullDiskThenSpaceReturnsAndTheSameEngineSavesAgain) {
  ASSERT_NO_FATAL_FAILURE(Prepare());
  auto engine = Engine::Open(kPath, Options());
  ASSERT_OK(engine);
  auto players = (*engine)->OpenStore<BytesCodec>(kStore, PlayerOptions());
  ASSERT_OK(players);
  auto profile = players->StartSession("a");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "a-after-the-disk-filled"; }));
  const auto before = RawProfileRecords(**engine, kStore, "a");
  ASSERT_FALSE(before.empty());
  volume_->fs().SetSpaceBudget(0);
  EXPECT_CODE(profile->Save(), kResourceExhausted);
  EXPECT_EQ(RawProfileRecords(**engine, kStore, "a"), before);  // nothing of the failed save
  EXPECT_TRUE(profile->IsActive());
  // Still full: the reopen itself cannot write, and the save fails the same way.
  EXPECT_CODE(profile->Save(), kResourceExhausted);
  EXPECT_TRUE(profile->IsActive());
  volume_->fs().SetSpaceBudget(std::nullopt);
  EXPECT_OK(profile->Save());
  EXPECT_GE((*engine)->Stats().storage_reopens, 1u);
  EXPECT_FALSE((*engine)->Stats().critical);
  EXPECT_EQ(profile->LastSavedData(), "a-after-the-disk-filled");
  EXPECT_OK(profile->EndSession());
  EXPECT_OK((*engine)->Close());
  acked_["a"] = "a-after-the-disk-filled";
  RunReport r;
  VerifyNothingAcknowledgedIsLost(r);
  for (const auto& p : r.problems) ADD_FAILURE() << p;
}

}  // namespace
}  // namespace holdfast::test
