// Storage trouble: conflicts (Busy) are retried inside the engine; injected I/O errors make a
// save fail with IOError while the data stays in memory and the session stays active, and the
// save succeeds once the fault clears; repeated errors raise the critical-state signal, which
// clears when saves succeed again. Faults are injected with CommitGate (session_test_util.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using PlayerProfile = Profile<BytesCodec>;

// Spins (yielding, never sleeping) until `done` holds; false after 30 s of real time, so that a
// broken engine fails the test instead of hanging it.
bool SpinUntil(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Payloads reported by OnAfterSave, which runs on engine threads.
class SaveLog {
 public:
  void Add(const std::string& data) {
    std::lock_guard lock(mu_);
    saved_.push_back(data);
    cv_.notify_all();
  }
  std::vector<std::string> Saved() {
    std::lock_guard lock(mu_);
    return saved_;
  }
  // Blocks until `count` saves were reported; false after 30 s of real time.
  bool WaitForSaves(size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 30s, [&] { return saved_.size() >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> saved_;  // guarded by mu_
};

class FaultTest : public SessionTest {
 protected:
  // Reopens the engine on the same volume with the fixture's options, tweaked, and with
  // on_critical_state and on_orphan_takeover recording every signal.
  void ReopenWith(const std::function<void(EngineOptions&)>& tweak = nullptr) {
    if (engine_) ASSERT_OK(engine_->Close());
    engine_.reset();
    EngineOptions options = Options();
    options.on_critical_state = [this](bool critical) {
      std::lock_guard lock(mu_);
      critical_signals_.push_back(critical);
    };
    options.on_orphan_takeover = [this](const OrphanTakeover& orphan) {
      std::lock_guard lock(mu_);
      orphans_.push_back(orphan);
    };
    if (tweak) tweak(options);
    auto engine = Engine::Open(DatabasePath(), options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
  }

  // A store whose auto-saver stays out of the way of tests that move the fake clock.
  Store<BytesCodec> OpenQuietPlayers() {
    return OpenPlayers([](StoreOptions<std::string>& o) { o.autosave_period = 24h; });
  }

  std::vector<bool> CriticalSignals() {
    std::lock_guard lock(mu_);
    return critical_signals_;
  }

  std::vector<OrphanTakeover> Orphans() {
    std::lock_guard lock(mu_);
    return orphans_;
  }

  internal::Storage& storage() { return test::StorageOf(*engine_); }

  // Leaves the lock of `key` on storage the way a failed shutdown does: the last saved data is
  // `saved`, a later edit is lost with the engine, and Close() reports the failed final save.
  // Returns the lock's incarnation and session id through the out-parameters.
  void CloseLeavingLock(const std::string& key, const std::string& saved, uint64_t* incarnation,
                        uint64_t* session_id) {
    auto players = OpenPlayers();
    auto profile = players.StartSession(key);
    ASSERT_OK(profile);
    auto ends = std::make_shared<std::vector<SessionEnd>>();
    profile->OnSessionEnd([ends](const SessionEnd& e) { ends->push_back(e); });
    ASSERT_OK(profile->Edit([&](std::string& d) { d = saved; }));
    ASSERT_OK(profile->Save());
    ASSERT_OK(profile->Edit([](std::string& d) { d = "edited-after-the-last-save"; }));
    *incarnation = engine_->Info().incarnation;
    *session_id = profile->Info().session_id;
    gate_->FailNext(1, Status::IOError("injected"), CommitKind::kRelease);
    EXPECT_CODE(engine_->Close(), kIOError);
    engine_.reset();
    EXPECT_FALSE(profile->IsActive());
    EXPECT_EQ(profile->Data(), "edited-after-the-last-save");  // still readable
    ASSERT_EQ(ends->size(), 1u);
    EXPECT_EQ((*ends)[0].reason, EndReason::kShutdown);
    EXPECT_TRUE((*ends)[0].unsaved_changes);
  }

  std::mutex mu_;
  std::vector<bool> critical_signals_;   // guarded by mu_
  std::vector<OrphanTakeover> orphans_;  // guarded by mu_
};

// (a) One injected IOError.

TEST_F(FaultTest, SaveIOErrorKeepsDataAndSessionThenSucceedsAfterTheFaultClears) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("alice");
  ASSERT_OK(profile);
  auto ended = std::make_shared<std::atomic<bool>>(false);  // outlives the body (TearDown)
  profile->OnSessionEnd([ended](const SessionEnd&) { *ended = true; });
  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=1"; }));
  ASSERT_OK(profile->Save());
  ASSERT_EQ(StoredPayload("Players", "alice"), "gold=1");
  const uint64_t session_id = profile->Info().session_id;

  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=2"; }));
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_FALSE(*ended);
  EXPECT_EQ(profile->Data(), "gold=2");
  EXPECT_EQ(profile->LastSavedData(), "gold=1");
  EXPECT_EQ(profile->Info().version, 2u);
  EXPECT_EQ(StoredPayload("Players", "alice"), "gold=1");
  auto meta = StoredMeta("Players", "alice");
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, session_id);
  EXPECT_EQ(meta->last_version, 2u);
  EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.io_errors, 1u);
  EXPECT_FALSE(stats.critical);
  EXPECT_EQ(stats.active_sessions, 1u);

  // The fault has cleared (FailNext(1) is used up): the same data is written now.
  ASSERT_OK(profile->Save());
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->LastSavedData(), "gold=2");
  EXPECT_EQ(profile->Info().version, 3u);
  EXPECT_EQ(StoredPayload("Players", "alice"), "gold=2");
  EXPECT_EQ(engine_->Stats().io_errors, 1u);
  EXPECT_FALSE(*ended);
}

TEST_F(FaultTest, DiskFullOnSaveIsResourceExhaustedAndCountsAsStorageError) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("bob");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "big-inventory"; }));
  gate_->FailNext(1, Status::ResourceExhausted("injected: no space left"), CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kResourceExhausted);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "big-inventory");
  EXPECT_EQ(StoredPayload("Players", "bob"), "new-player");
  EXPECT_EQ(engine_->Stats().io_errors, 1u);
  ASSERT_OK(profile->Save());
  EXPECT_EQ(StoredPayload("Players", "bob"), "big-inventory");
}

TEST_F(FaultTest, MetadataChangesSurviveAFailedSave) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("meta");
  ASSERT_OK(profile);
  ASSERT_OK(profile->AddUserId(42));
  ASSERT_OK(profile->SetMetadata("region", "eu"));
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_TRUE(StoredMeta("Players", "meta")->user_ids.empty());
  EXPECT_EQ(profile->Info().user_ids, (std::vector<int64_t>{42}));
  ASSERT_OK(profile->Save());  // the user ids and metadata are still pending, and written now
  auto meta = StoredMeta("Players", "meta");
  EXPECT_EQ(meta->user_ids, (std::vector<int64_t>{42}));
  EXPECT_EQ(meta->metadata.at("region"), "eu");
}

// (b) The critical state.

TEST_F(FaultTest, RepeatedIOErrorsEnterCriticalStateAndASuccessfulSaveLeavesIt) {
  ASSERT_NO_FATAL_FAILURE(ReopenWith());
  auto players = OpenQuietPlayers();
  auto profile = players.StartSession("carol");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "pending"; }));

  gate_->FailNext(5, Status::IOError("injected"), CommitKind::kSave);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_CODE(profile->Save(), kIOError) << "failure " << i;
    EXPECT_FALSE(engine_->Stats().critical) << "failure " << i;
  }
  EXPECT_TRUE(CriticalSignals().empty());
  EXPECT_CODE(profile->Save(), kIOError);  // the 5th error within the window
  EXPECT_EQ(CriticalSignals(), std::vector<bool>{true});
  EngineStats stats = engine_->Stats();
  EXPECT_TRUE(stats.critical);
  EXPECT_EQ(stats.critical_state_entries, 1u);
  EXPECT_EQ(stats.io_errors, 5u);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "pending");
  EXPECT_EQ(StoredPayload("Players", "carol"), "new-player");

  // More errors while critical do not signal again.
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_EQ(CriticalSignals(), std::vector<bool>{true});
  EXPECT_EQ(engine_->Stats().critical_state_entries, 1u);

  // The fault clears: the next save succeeds and leaves the critical state.
  ASSERT_OK(profile->Save());
  EXPECT_EQ(CriticalSignals(), (std::vector<bool>{true, false}));
  stats = engine_->Stats();
  EXPECT_FALSE(stats.critical);
  EXPECT_EQ(stats.critical_state_entries, 1u);
  EXPECT_EQ(stats.io_errors, 6u);
  EXPECT_EQ(StoredPayload("Players", "carol"), "pending");

  // The count starts afresh: it takes another 5 errors to enter again.
  ASSERT_OK(profile->Edit([](std::string& d) { d = "pending-2"; }));
  gate_->FailNext(5, Status::IOError("injected"), CommitKind::kSave);
  for (int i = 1; i <= 4; ++i) EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_FALSE(engine_->Stats().critical);
  EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_TRUE(engine_->Stats().critical);
  EXPECT_EQ(engine_->Stats().critical_state_entries, 2u);
  ASSERT_OK(profile->Save());
  EXPECT_EQ(CriticalSignals(), (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(StoredPayload("Players", "carol"), "pending-2");
}

TEST_F(FaultTest, ErrorsSpreadOverMoreThanTheWindowDoNotEnterCriticalState) {
  ASSERT_NO_FATAL_FAILURE(ReopenWith());  // defaults: 5 errors within 120 s
  auto players = OpenQuietPlayers();
  auto profile = players.StartSession("dave");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "pending"; }));
  // Errors at 0, 31, 62, 93, 124, 155 s: never 5 of them within 120 s.
  gate_->FailNext(6, Status::IOError("injected"), CommitKind::kSave);
  for (int i = 0; i < 6; ++i) {
    EXPECT_CODE(profile->Save(), kIOError) << "failure " << i;
    EXPECT_FALSE(engine_->Stats().critical) << "failure " << i;
    clock_->Advance(31s);
  }
  EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.io_errors, 6u);
  EXPECT_EQ(stats.critical_state_entries, 0u);
  EXPECT_TRUE(CriticalSignals().empty());
  ASSERT_OK(profile->Save());
  EXPECT_TRUE(CriticalSignals().empty());
  EXPECT_EQ(StoredPayload("Players", "dave"), "pending");
}

TEST_F(FaultTest, ErrorsSpacedWithinTheWindowEnterCriticalState) {
  ASSERT_NO_FATAL_FAILURE(ReopenWith());
  auto players = OpenQuietPlayers();
  auto profile = players.StartSession("erin");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "pending"; }));
  // Errors at 0, 29, 58, 87, 116 s: five within 120 s.
  gate_->FailNext(5, Status::IOError("injected"), CommitKind::kSave);
  for (int i = 0; i < 5; ++i) {
    if (i > 0) clock_->Advance(29s);
    EXPECT_CODE(profile->Save(), kIOError) << "failure " << i;
  }
  EXPECT_TRUE(engine_->Stats().critical);
  EXPECT_EQ(CriticalSignals(), std::vector<bool>{true});
  ASSERT_OK(profile->Save());
  EXPECT_EQ(CriticalSignals(), (std::vector<bool>{true, false}));
  EXPECT_FALSE(engine_->Stats().critical);
}

TEST_F(FaultTest, CriticalThresholdAndWindowAreConfigurable) {
  ASSERT_NO_FATAL_FAILURE(ReopenWith([](EngineOptions& o) {
    o.critical_error_threshold = 2;
    o.critical_window = 10s;
  }));
  auto players = OpenQuietPlayers();
  auto profile = players.StartSession("frank");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "pending"; }));
  gate_->FailNext(3, Status::IOError("injected"), CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kIOError);
  clock_->Advance(11s);
  EXPECT_CODE(profile->Save(), kIOError);  // the first error is outside the 10 s window
  EXPECT_FALSE(engine_->Stats().critical);
  clock_->Advance(9s);
  EXPECT_CODE(profile->Save(), kIOError);
  EXPECT_TRUE(engine_->Stats().critical);
  EXPECT_EQ(CriticalSignals(), std::vector<bool>{true});
  ASSERT_OK(profile->Save());
  EXPECT_EQ(CriticalSignals(), (std::vector<bool>{true, false}));
}

// (c) Conflicts are retried inside the engine.

TEST_F(FaultTest, InjectedBusyOnSaveIsRetriedAndTheSaveSucceeds) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("gina");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "after-10-conflicts"; }));
  const uint64_t conflicts = engine_->Stats().conflicts_retried;
  const int calls = gate_->BeforeCommitCalls();
  gate_->FailNext(10, Status::Busy("injected conflict"), CommitKind::kSave);
  ASSERT_OK(profile->Save());
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 10u);
  EXPECT_EQ(gate_->BeforeCommitCalls() - calls, 11);
  EXPECT_EQ(StoredPayload("Players", "gina"), "after-10-conflicts");
  EXPECT_EQ(profile->Info().version, 2u);  // one version, however many attempts
  EXPECT_EQ(engine_->Stats().io_errors, 0u);

  // 63 conflicts still fit in the 64 attempts.
  ASSERT_OK(profile->Edit([](std::string& d) { d = "after-63-conflicts"; }));
  gate_->FailNext(63, Status::Busy("injected conflict"), CommitKind::kSave);
  ASSERT_OK(profile->Save());
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 73u);
  EXPECT_EQ(StoredPayload("Players", "gina"), "after-63-conflicts");
  EXPECT_EQ(profile->Info().version, 3u);
}

TEST_F(FaultTest, BusyBeyondTheRetryLimitReturnsBusyAndKeepsTheSession) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("hank");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "contended"; }));
  const uint64_t conflicts = engine_->Stats().conflicts_retried;
  gate_->FailNext(internal::kDefaultTransactionAttempts, Status::Busy("injected conflict"),
                  CommitKind::kSave);
  EXPECT_CODE(profile->Save(), kBusy);
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts,
            static_cast<uint64_t>(internal::kDefaultTransactionAttempts - 1));
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "contended");
  EXPECT_EQ(StoredPayload("Players", "hank"), "new-player");
  EXPECT_EQ(engine_->Stats().io_errors, 0u);  // a conflict is not storage trouble
  EXPECT_FALSE(engine_->Stats().critical);
  ASSERT_OK(profile->Save());
  EXPECT_EQ(StoredPayload("Players", "hank"), "contended");
}

TEST_F(FaultTest, InjectedBusyOnAcquireAndReleaseIsRetried) {
  auto players = OpenPlayers();
  const uint64_t conflicts = engine_->Stats().conflicts_retried;
  gate_->FailNext(3, Status::Busy("injected conflict"), CommitKind::kAcquire);
  auto profile = players.StartSession("ivan");
  ASSERT_OK(profile);
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 3u);
  EXPECT_EQ(profile->Info().epoch, 1u);
  EXPECT_EQ(profile->Info().load_count, 1u);  // counted once, not once per attempt
  EXPECT_EQ(StoredMeta("Players", "ivan")->load_count, 1u);

  ASSERT_OK(profile->Edit([](std::string& d) { d = "bye"; }));
  gate_->FailNext(2, Status::Busy("injected conflict"), CommitKind::kRelease);
  ASSERT_OK(profile->EndSession());
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 5u);
  EXPECT_FALSE(StoredMeta("Players", "ivan")->lock.has_value());
  EXPECT_EQ(StoredPayload("Players", "ivan"), "bye");
}

TEST_F(FaultTest, RealWriteConflictOnSaveIsRetriedAndCommits) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("judy");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "mine"; }));
  const uint64_t conflicts = engine_->Stats().conflicts_retried;
  const int calls = gate_->BeforeCommitCalls();

  // Park the save after it read meta for update, then commit a write to that same meta record
  // from outside: the save's commit fails its optimistic check (Busy) and must start over.
  gate_->PauseNext(CommitKind::kSave, "judy");
  auto saver = std::async(std::launch::async, [&] { return profile->Save(); });
  gate_->WaitUntilPaused();
  const std::string key = internal::EncodeProfileKey("Players", "judy");
  Status outside = internal::RunTransaction(storage(), [&](internal::StorageTransaction& txn) {
    std::string bytes;
    if (Status s = txn.GetForUpdate(internal::Family::kMeta, key, &bytes); !s.ok()) return s;
    return txn.Put(internal::Family::kMeta, key, bytes);  // same bytes, new sequence number
  });
  gate_->Release();
  EXPECT_OK(outside);
  ASSERT_OK(saver.get());
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 1u);
  EXPECT_EQ(gate_->BeforeCommitCalls() - calls, 2);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(StoredPayload("Players", "judy"), "mine");
  EXPECT_EQ(profile->Info().version, 2u);
}

TEST_F(FaultTest, RealConflictWithAStealIsRetriedThenFencedOut) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("kate");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "holder-unsaved"; }));
  const uint64_t conflicts = engine_->Stats().conflicts_retried;

  // The holder's save is parked after its fence check; a steal commits meanwhile. The save's
  // commit conflicts, is retried, and the retry's fence check finds the lock gone.
  gate_->PauseNext(CommitKind::kSave, "kate");
  auto saver = std::async(std::launch::async, [&] { return holder->Save(); });
  gate_->WaitUntilPaused();
  SessionOptions steal;
  steal.steal = true;
  auto thief = players.StartSession("kate", steal);
  gate_->Release();
  EXPECT_CODE(saver.get(), kLockLost);
  ASSERT_OK(thief);
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts, 1u);
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(thief->Data(), "new-player");
  EXPECT_EQ(StoredPayload("Players", "kate"), "new-player");
  auto meta = StoredMeta("Players", "kate");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, thief->Info().session_id);
  EXPECT_EQ(meta->epoch, 2u);
}

// (d) A failed final save.

TEST_F(FaultTest, EndSessionIOErrorKeepsSessionAndLockThenRetryReleases) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("liam");
  ASSERT_OK(profile);
  // Runs on this thread (EndSession) or, if the test fails early, in TearDown's Close.
  auto ends = std::make_shared<std::vector<SessionEnd>>();
  profile->OnSessionEnd([ends](const SessionEnd& e) { ends->push_back(e); });
  ASSERT_OK(profile->Edit([](std::string& d) { d = "final"; }));
  const uint64_t session_id = profile->Info().session_id;

  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kRelease);
  EXPECT_CODE(profile->EndSession(), kIOError);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_TRUE(ends->empty());
  EXPECT_EQ(profile->Data(), "final");
  EXPECT_EQ(StoredPayload("Players", "liam"), "new-player");
  auto meta = StoredMeta("Players", "liam");
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, session_id);
  EXPECT_EQ(engine_->Stats().active_sessions, 1u);
  // Still a working session: it can edit and save.
  ASSERT_OK(profile->Edit([](std::string& d) { d = "final+1"; }));

  ASSERT_OK(profile->EndSession());
  EXPECT_FALSE(profile->IsActive());
  EXPECT_FALSE(StoredMeta("Players", "liam")->lock.has_value());
  EXPECT_EQ(StoredPayload("Players", "liam"), "final+1");
  ASSERT_EQ(ends->size(), 1u);
  EXPECT_EQ((*ends)[0].reason, EndReason::kManual);
  EXPECT_FALSE((*ends)[0].unsaved_changes);
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
  ASSERT_OK(profile->EndSession());  // idempotent
  EXPECT_EQ(ends->size(), 1u);
}

// (e) A failed acquisition.

TEST_F(FaultTest, AcquireIOErrorLeavesNoLockAndNoData) {
  auto players = OpenPlayers();
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kAcquire);
  EXPECT_CODE(players.StartSession("newbie"), kIOError);
  EXPECT_FALSE(StoredMeta("Players", "newbie").has_value());
  EXPECT_FALSE(StoredPayload("Players", "newbie").has_value());
  EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.starts, 0u);
  EXPECT_EQ(stats.active_sessions, 0u);
  EXPECT_EQ(stats.io_errors, 1u);
  EXPECT_TRUE(gate_->Committed().empty());

  // Nothing is left half-taken: the next start is a first start.
  auto profile = players.StartSession("newbie");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "new-player");
  EXPECT_EQ(profile->Info().epoch, 1u);
  EXPECT_EQ(profile->Info().load_count, 1u);
}

TEST_F(FaultTest, AcquireIOErrorOnExistingProfileChangesNothing) {
  auto players = OpenPlayers();
  {
    auto profile = players.StartSession("olga");
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& d) { d = "olga-data"; }));
    ASSERT_OK(profile->EndSession());
  }
  auto before = StoredMeta("Players", "olga");
  ASSERT_TRUE(before.has_value());
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kAcquire);
  EXPECT_CODE(players.StartSession("olga"), kIOError);
  auto after = StoredMeta("Players", "olga");
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->lock.has_value());
  EXPECT_EQ(after->epoch, before->epoch);
  EXPECT_EQ(after->load_count, before->load_count);
  EXPECT_EQ(after->last_version, before->last_version);
  EXPECT_EQ(StoredPayload("Players", "olga"), "olga-data");

  auto profile = players.StartSession("olga");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "olga-data");
  EXPECT_EQ(profile->Info().epoch, before->epoch + 1);
  EXPECT_EQ(profile->Info().load_count, before->load_count + 1);
}

// A failed final save at shutdown leaves the lock behind; the next engine takes it over as an
// orphan, with the last saved data.

TEST_F(FaultTest, FailedShutdownSaveLeavesALockTheNextOpenTakesOver) {
  uint64_t old_incarnation = 0;
  uint64_t old_session = 0;
  ASSERT_NO_FATAL_FAILURE(CloseLeavingLock("pete", "pete-saved", &old_incarnation, &old_session));
  ASSERT_NO_FATAL_FAILURE(ReopenWith());
  auto meta = StoredMeta("Players", "pete");
  ASSERT_TRUE(meta.has_value() && meta->lock.has_value());
  EXPECT_EQ(meta->lock->incarnation, old_incarnation);
  EXPECT_EQ(StoredPayload("Players", "pete"), "pete-saved");

  auto players = OpenPlayers();
  // No waiting: the fake clock does not move, so a start that waited for the lock would hang
  // (OrphanTest proves the same on the real clock with a 1 s timeout).
  auto profile = players.StartSession("pete");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "pete-saved");
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  auto orphans = Orphans();
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].store, "Players");
  EXPECT_EQ(orphans[0].key, "pete");
  EXPECT_EQ(orphans[0].previous_incarnation, old_incarnation);
  EXPECT_EQ(orphans[0].previous_session_id, old_session);
  EXPECT_LT(old_incarnation, engine_->Info().incarnation);
}

TEST_F(FaultTest, FailedTakeoverIsNotReportedAndTheRetryTakesOver) {
  uint64_t old_incarnation = 0;
  uint64_t old_session = 0;
  ASSERT_NO_FATAL_FAILURE(CloseLeavingLock("quinn", "quinn-saved", &old_incarnation, &old_session));
  ASSERT_NO_FATAL_FAILURE(ReopenWith());
  auto players = OpenPlayers();
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kAcquire);
  EXPECT_CODE(players.StartSession("quinn"), kIOError);
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
  EXPECT_TRUE(Orphans().empty());
  auto meta = StoredMeta("Players", "quinn");
  ASSERT_TRUE(meta.has_value() && meta->lock.has_value());
  EXPECT_EQ(meta->lock->incarnation, old_incarnation);  // untouched

  auto profile = players.StartSession("quinn");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "quinn-saved");
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  auto orphans = Orphans();
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].previous_incarnation, old_incarnation);
  EXPECT_EQ(orphans[0].previous_session_id, old_session);
}

// (f) A failed auto-save.

TEST_F(FaultTest, AutoSaveIOErrorKeepsDataAndTheNextPeriodWritesIt) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.autosave_period = 10s; });
  auto profile = players.StartSession("mona");
  ASSERT_OK(profile);
  // Shared with the handler, which may still run on a worker during TearDown's Close.
  auto log = std::make_shared<SaveLog>();
  profile->OnAfterSave([log](const std::string& data) { log->Add(data); });
  ASSERT_OK(profile->Edit([](std::string& d) { d = "auto-1"; }));
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kSave);

  // The first auto-save falls within the first period; it fails.
  clock_->Advance(10s);
  ASSERT_TRUE(SpinUntil([&] { return engine_->Stats().io_errors == 1; }))
      << "the auto-save never ran";
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "auto-1");
  EXPECT_EQ(profile->LastSavedData(), "new-player");
  EXPECT_EQ(StoredPayload("Players", "mona"), "new-player");
  EXPECT_TRUE(log->Saved().empty());

  // The next period's auto-save writes it.
  clock_->Advance(10s);
  ASSERT_TRUE(log->WaitForSaves(1)) << "the next auto-save never wrote the data";
  EXPECT_EQ(log->Saved(), std::vector<std::string>{"auto-1"});
  EXPECT_EQ(StoredPayload("Players", "mona"), "auto-1");
  EXPECT_EQ(profile->LastSavedData(), "auto-1");
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(engine_->Stats().io_errors, 1u);
}

TEST_F(FaultTest, RepeatedAutoSaveErrorsSignalCriticalStateOnAWorker) {
  ASSERT_NO_FATAL_FAILURE(ReopenWith([](EngineOptions& o) { o.critical_error_threshold = 2; }));
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.autosave_period = 10s; });
  auto profile = players.StartSession("nick");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "auto"; }));
  gate_->FailNext(2, Status::IOError("injected"), CommitKind::kSave);
  clock_->Advance(10s);
  ASSERT_TRUE(SpinUntil([&] { return engine_->Stats().io_errors >= 1; }));
  clock_->Advance(10s);
  // The signal fires just after the state changes; wait for the signal itself.
  ASSERT_TRUE(SpinUntil([&] { return CriticalSignals().size() == 1; }))
      << "two failed auto-saves did not signal the critical state";
  EXPECT_EQ(CriticalSignals(), std::vector<bool>{true});
  EXPECT_TRUE(engine_->Stats().critical);
  EXPECT_EQ(engine_->Stats().io_errors, 2u);
  EXPECT_EQ(StoredPayload("Players", "nick"), "new-player");
  EXPECT_EQ(profile->Data(), "auto");
  // The third period's auto-save succeeds and leaves the critical state.
  clock_->Advance(10s);
  ASSERT_TRUE(SpinUntil([&] { return CriticalSignals().size() == 2; }))
      << "the successful auto-save did not signal the end of the critical state";
  EXPECT_EQ(CriticalSignals(), (std::vector<bool>{true, false}));
  EXPECT_FALSE(engine_->Stats().critical);
  EXPECT_EQ(StoredPayload("Players", "nick"), "auto");
}

}  // namespace
}  // namespace holdfast::test
