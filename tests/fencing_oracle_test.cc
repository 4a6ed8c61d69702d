// Direct, deterministic oracles for the session lock, each judging the engine from its stored
// records rather than its own reports (issue 11, "Oracles that take the engine's word" and
// "Behaviour no test reaches"):
//  - version numbers are never reused after a creating start is undone (cancelled, superseded);
//  - a save that read the lock before another commit on the profile (a steal, a rollback)
//    landed fails LockLost and writes nothing: commits never skip the conflict check;
//  - the fence compares the epochs, not only the owner: a forged meta record with the same
//    incarnation and session id but a higher epoch refuses the save;
//  - a session whose write finds its lock gone ends with EndReason::kLockLost (or kStolen when
//    this engine fenced it) and an exact unsaved_changes flag;
//  - a rollback waiting for a stuck holder ends Aborted (superseded) or TimedOut (start_timeout),
//    changing nothing;
//  - an acquisition that runs out of conflict retries is Busy and leaves nothing behind;
//  - OpenStore refuses bad timing options.
// Commits are held with fault hooks and time moves only on the fake clock; every wait has a
// deadline that fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using PlayerProfile = Profile<BytesCodec>;

// Real time a test waits for an engine thread before it fails.
constexpr auto kDeadline = 10s;

template <typename T>
bool ReadyInTime(std::future<T>& future) {
  return future.wait_for(kDeadline) == std::future_status::ready;
}

std::future<Result<PlayerProfile>> StartAsync(Store<BytesCodec> store, std::string key,
                                              SessionOptions options = {}) {
  return std::async(std::launch::async,
                    [store, key, options]() mutable { return store.StartSession(key, options); });
}

// A CommitGate whose wait for the held commit has a deadline, so that an engine that never
// reaches the gate fails the test instead of hanging it.
class BoundedGate : public CommitGate {
 public:
  // As CommitGate::PauseNext.
  void Hold(CommitKind kind, std::string key) {
    {
      std::lock_guard lock(mu_);
      target_ = {kind, key};
      arrived_ = false;
    }
    PauseNext(kind, std::move(key));
  }
  // True once the held commit is parked at the gate; false after kDeadline.
  [[nodiscard]] bool WaitUntilHeld() {
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kDeadline, [&] { return arrived_; })) return false;
    }
    // The commit that arrived is entering CommitGate::BeforeCommit, armed to park it: this wait
    // ends at once. Returning before it parked would let the test's next commit of the same
    // kind and key take the pause instead.
    WaitUntilPaused();
    return true;
  }

  Status BeforeCommit(const CommitPoint& point) override {
    {
      std::lock_guard lock(mu_);
      if (target_ && target_->first == point.kind && target_->second == point.key) {
        target_.reset();
        arrived_ = true;
        cv_.notify_all();
      }
    }
    return CommitGate::BeforeCommit(point);  // parks there until Release()
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<CommitKind, std::string>> target_;
  bool arrived_ = false;
};

// A second codec, to show that a store name stays free for it.
struct TextCodec {
  using Value = std::string;
  static constexpr std::string_view kName = "text";
  static Result<std::string> Encode(const Value& value) { return value; }
  static Result<Value> Decode(std::string_view bytes) { return std::string(bytes); }
};

// Every version number a commit reported is larger than every one reported before it.
void ExpectVersionNumbersStrictlyIncrease(const std::vector<CommitRecord>& commits) {
  uint64_t newest = 0;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (commits[i].version == 0) continue;  // the commit wrote no payload
    EXPECT_GT(commits[i].version, newest) << "commit #" << i << " reused or went back";
    newest = std::max(newest, commits[i].version);
  }
}

int CountCommits(const std::vector<CommitRecord>& commits, CommitKind kind,
                 std::optional<uint64_t> session_id = std::nullopt) {
  return static_cast<int>(std::count_if(commits.begin(), commits.end(), [&](const auto& c) {
    return c.kind == kind && (!session_id || c.session_id == *session_id);
  }));
}

class FencingOracleTest : public SessionTest {
 protected:
  FencingOracleTest() { gate_ = bounded_gate_; }

  // Rewrites the profile's meta record in place, as a writer outside this engine would.
  void ForgeMeta(const std::string& key, const std::function<void(internal::ProfileMeta&)>& edit) {
    auto meta = StoredMeta("Players", key);
    ASSERT_TRUE(meta.has_value());
    edit(*meta);
    const std::string bytes = internal::EncodeProfileMeta(*meta);
    ASSERT_OK(
        internal::RunTransaction(test::StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
          return txn.Put(internal::Family::kMeta, internal::EncodeProfileKey("Players", key),
                         bytes);
        }));
  }

  // A session saves once, edits again, then its meta record is forged with `forge`: the next
  // Save must be refused with LockLost, write nothing, and end the session with kLockLost
  // reporting the unsaved edit.
  void ExpectForgedMetaRefusesTheSave(const std::string& key,
                                      const std::function<void(internal::ProfileMeta&)>& forge) {
    auto players = OpenPlayers();
    auto p = players.StartSession(key);
    ASSERT_OK(p);
    std::optional<SessionEnd> end;
    p->OnSessionEnd([&](const SessionEnd& e) { end = e; });
    auto close_first = CloseEngineAtExit();
    ASSERT_OK(p->Edit([](std::string& d) { d = "saved"; }));
    ASSERT_OK(p->Save());
    ASSERT_OK(p->Edit([](std::string& d) { d = "unsaved"; }));
    ASSERT_NO_FATAL_FAILURE(ForgeMeta(key, forge));
    const auto before = RawRecords("Players", key);

    Status refused = p->Save();
    EXPECT_CODE(refused, kLockLost);
    EXPECT_NE(refused.message().find("its changes are unsaved"), std::string::npos)
        << refused.ToString();
    EXPECT_EQ(RawRecords("Players", key), before);  // not one byte written
    EXPECT_FALSE(p->IsActive());
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->reason, EndReason::kLockLost);  // not a steal by this engine
    EXPECT_TRUE(end->unsaved_changes);
    EXPECT_EQ(p->Data(), "unsaved");  // still readable
    EXPECT_CODE(p->Edit([](std::string& d) { d = "later"; }), kLockLost);
    EXPECT_CODE(p->EndSession(), kLockLost);
    EXPECT_EQ(RawRecords("Players", key), before);
    EXPECT_EQ(StoredPayload("Players", key), "saved");
  }

  std::shared_ptr<BoundedGate> bounded_gate_ = std::make_shared<BoundedGate>();
};

// --- (a) Version numbers after an undone creating start ---

TEST_F(FencingOracleTest, CancelledCreatingStartLeavesNoDataAndItsVersionNumberIsNeverReused) {
  auto players = OpenPlayers();
  auto token = std::make_shared<CancelToken>();
  SessionOptions options;
  options.cancel_token = token;
  std::future<Result<PlayerProfile>> starter;
  auto close_first = CloseEngineAtExit();

  bounded_gate_->Hold(CommitKind::kAcquire, "ann");
  starter = StartAsync(players, "ann", options);
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());
  token->Cancel();  // the player left while the new profile was being created
  gate_->Release();
  ASSERT_TRUE(ReadyInTime(starter));
  EXPECT_CODE(starter.get(), kCancelled);

  // The acquisition had committed the template as version 1; the abandon undid it.
  auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].kind, CommitKind::kAcquire);
  EXPECT_EQ(commits[0].version, 1u);
  EXPECT_EQ(commits[1].kind, CommitKind::kAbandon);
  EXPECT_FALSE(StoredPayload("Players", "ann").has_value());
  EXPECT_CODE(players.Get("ann"), kNotFound);
  EXPECT_CODE(players.Get("ann", 1), kNotFound);
  auto meta = StoredMeta("Players", "ann");
  ASSERT_TRUE(meta.has_value());  // kept only for its counters, which never go back
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->load_count, 0u);
  EXPECT_TRUE(meta->versions.empty());
  EXPECT_EQ(meta->last_version, 1u);
  EXPECT_EQ(meta->epoch, 1u);
  EXPECT_EQ(RawRecords("Players", "ann").size(), 1u);  // meta only: no data, no version

  auto later = players.StartSession("ann");
  ASSERT_OK(later);
  EXPECT_EQ(later->Data(), "new-player");
  EXPECT_EQ(later->Info().version, 2u);  // version 1 was written once; it is never reused
  EXPECT_EQ(later->Info().epoch, 2u);
  EXPECT_EQ(later->Info().load_count, 1u);
  auto versions = players.Versions("ann");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version, 2u);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCreate);
  EXPECT_EQ((*versions)[0].epoch, 2u);
  EXPECT_EQ(StoredMeta("Players", "ann")->last_version, 2u);
  ExpectVersionNumbersStrictlyIncrease(gate_->Committed());
}

TEST_F(FencingOracleTest, ProfileCreatedAfterAnUndoneCreatingStartRecordsItsCreationTime) {
  auto players = OpenPlayers();
  auto token = std::make_shared<CancelToken>();
  SessionOptions options;
  options.cancel_token = token;
  std::future<Result<PlayerProfile>> starter;
  auto close_first = CloseEngineAtExit();
  bounded_gate_->Hold(CommitKind::kAcquire, "amy");
  starter = StartAsync(players, "amy", options);
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());
  token->Cancel();
  gate_->Release();
  ASSERT_TRUE(ReadyInTime(starter));
  EXPECT_CODE(starter.get(), kCancelled);

  clock_->Advance(1h);
  const int64_t created_at = clock_->WallUnixMillis();
  auto later = players.StartSession("amy");
  ASSERT_OK(later);
  // This start created the profile; the undone one must leave no creation time (nor a zero).
  EXPECT_EQ(later->Info().created_unix_ms, created_at);
  EXPECT_EQ(later->Info().first_session_unix_ms, created_at);
  EXPECT_EQ(StoredMeta("Players", "amy")->created_unix_ms, created_at);
}

TEST_F(FencingOracleTest, SupersededCreatingStartLeavesNoDataAndTheWinnerWritesANewVersion) {
  auto players = OpenPlayers();
  std::promise<void> rejoin_registered;
  std::once_flag once;
  SessionOptions rejoin;
  // Polled by the start's wait loop, which it enters only after registering as the newest.
  rejoin.cancel = [&] {
    std::call_once(once, [&] { rejoin_registered.set_value(); });
    return false;
  };
  auto registered = rejoin_registered.get_future();
  std::future<Result<PlayerProfile>> first;
  std::future<Result<PlayerProfile>> second;
  auto close_first = CloseEngineAtExit();

  bounded_gate_->Hold(CommitKind::kAcquire, "ben");
  first = StartAsync(players, "ben");
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());  // the first start's creation is about to commit
  second = StartAsync(players, "ben", rejoin);
  ASSERT_EQ(registered.wait_for(kDeadline), std::future_status::ready);
  gate_->Release();
  ASSERT_TRUE(ReadyInTime(first));
  EXPECT_CODE(first.get(), kAborted);
  ASSERT_TRUE(ReadyInTime(second));
  auto winner = second.get();
  ASSERT_OK(winner);

  EXPECT_EQ(winner->Data(), "new-player");
  EXPECT_EQ(winner->Info().version, 2u);
  EXPECT_EQ(winner->Info().epoch, 2u);
  EXPECT_EQ(winner->Info().load_count, 1u);
  auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), 3u);
  EXPECT_EQ(commits[0].kind, CommitKind::kAcquire);
  EXPECT_EQ(commits[0].version, 1u);
  EXPECT_EQ(commits[1].kind, CommitKind::kAbandon);
  EXPECT_EQ(commits[1].session_id, commits[0].session_id);
  EXPECT_EQ(commits[2].kind, CommitKind::kAcquire);
  EXPECT_EQ(commits[2].session_id, winner->Info().session_id);
  EXPECT_EQ(commits[2].version, 2u);
  ExpectVersionNumbersStrictlyIncrease(commits);
  auto versions = players.Versions("ben");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version, 2u);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCreate);
  EXPECT_CODE(players.Get("ben", 1), kNotFound);
  auto meta = StoredMeta("Players", "ben");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, winner->Info().session_id);
  EXPECT_EQ(meta->last_version, 2u);
  EXPECT_EQ(meta->load_count, 1u);
}

// --- (b) Two interleaved commits on one profile ---

TEST_F(FencingOracleTest, SaveThatReadTheLockBeforeAStealAndItsSaveCommittedFailsLockLost) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("cat");
  ASSERT_OK(holder);
  std::optional<SessionEnd> holder_end;
  holder->OnSessionEnd([&](const SessionEnd& e) { holder_end = e; });
  const uint64_t holder_id = holder->Info().session_id;
  std::future<Status> late_save;
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "holder-saved"; }));
  ASSERT_OK(holder->Save());  // version 2
  ASSERT_OK(holder->Edit([](std::string& d) { d = "holder-unsaved"; }));

  // The holder's save reads meta (its own lock) and passes its fence check, then is held.
  bounded_gate_->Hold(CommitKind::kSave, "cat");
  late_save = std::async(std::launch::async, [&] { return holder->Save(); });
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());
  SessionOptions steal;
  steal.steal = true;
  auto thief = players.StartSession("cat", steal);
  ASSERT_OK(thief);
  EXPECT_EQ(thief->Data(), "holder-saved");
  ASSERT_OK(thief->Edit([](std::string& d) { d = "thief-saved"; }));
  ASSERT_OK(thief->Save());  // version 3
  const auto after_thief = RawRecords("Players", "cat");

  gate_->Release();
  ASSERT_TRUE(ReadyInTime(late_save));
  EXPECT_CODE(late_save.get(), kLockLost);
  EXPECT_EQ(RawRecords("Players", "cat"), after_thief);  // the late save wrote nothing
  EXPECT_EQ(StoredPayload("Players", "cat"), "thief-saved");
  auto meta = StoredMeta("Players", "cat");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, thief->Info().session_id);
  EXPECT_EQ(meta->epoch, 2u);
  EXPECT_EQ(meta->last_version, 3u);
  auto commits = gate_->Committed();
  EXPECT_EQ(CountCommits(commits, CommitKind::kSave, holder_id), 1);  // only version 2
  ExpectVersionNumbersStrictlyIncrease(commits);
  ASSERT_TRUE(holder_end.has_value());
  EXPECT_EQ(holder_end->reason, EndReason::kStolen);
  EXPECT_TRUE(holder_end->unsaved_changes);
  EXPECT_EQ(holder->Data(), "holder-unsaved");
}

TEST_F(FencingOracleTest, SaveThatReadTheLockBeforeARollbackCommittedFailsLockLost) {
  // handoff_timeout 0: the rollback fences the stuck holder at once instead of waiting for it.
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.handoff_timeout = 0ms; });
  auto holder = players.StartSession("dan");
  ASSERT_OK(holder);
  std::optional<SessionEnd> holder_end;
  holder->OnSessionEnd([&](const SessionEnd& e) { holder_end = e; });
  const uint64_t holder_id = holder->Info().session_id;
  const uint64_t holder_epoch = holder->Info().epoch;
  std::future<Status> late_save;
  std::future<Result<uint64_t>> rollback;
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "first"; }));
  ASSERT_OK(holder->Save());  // version 2
  ASSERT_OK(holder->Edit([](std::string& d) { d = "second"; }));

  bounded_gate_->Hold(CommitKind::kSave, "dan");
  late_save = std::async(std::launch::async, [&] { return holder->Save(); });
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());
  rollback = std::async(std::launch::async, [&] { return players.Rollback("dan", 2); });
  ASSERT_TRUE(ReadyInTime(rollback));
  auto rolled = rollback.get();
  ASSERT_OK(rolled);
  EXPECT_EQ(*rolled, 3u);
  const auto after_rollback = RawRecords("Players", "dan");

  gate_->Release();
  ASSERT_TRUE(ReadyInTime(late_save));
  Status lost = late_save.get();
  EXPECT_CODE(lost, kLockLost);
  EXPECT_NE(lost.message().find("its changes are unsaved"), std::string::npos) << lost.ToString();
  EXPECT_EQ(RawRecords("Players", "dan"), after_rollback);  // the late save wrote nothing
  EXPECT_EQ(StoredPayload("Players", "dan"), "first");
  auto meta = StoredMeta("Players", "dan");
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->epoch, holder_epoch + 1);
  EXPECT_EQ(meta->last_version, 3u);
  auto versions = players.Versions("dan");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kRollback);
  EXPECT_EQ((*versions)[0].source_version, 2u);
  auto commits = gate_->Committed();
  EXPECT_EQ(CountCommits(commits, CommitKind::kSave, holder_id), 1);  // only version 2
  EXPECT_EQ(CountCommits(commits, CommitKind::kRelease, holder_id), 0);
  EXPECT_EQ(CountCommits(commits, CommitKind::kRollback), 1);
  // (d) This engine fenced the stuck holder for the rollback: kStolen, and the edit its held
  // save carried is reported unsaved.
  ASSERT_TRUE(holder_end.has_value());
  EXPECT_EQ(holder_end->reason, EndReason::kStolen);
  EXPECT_TRUE(holder_end->unsaved_changes);
  EXPECT_EQ(holder->Data(), "second");
}

// --- (c, d) The fence compares both epochs and the owner ---

TEST_F(FencingOracleTest, ForgedMetaWithTheSameOwnerAndHigherEpochsRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) {
    ASSERT_TRUE(m.lock.has_value());
    m.epoch += 1;
    m.lock->epoch += 1;  // same incarnation and session id
  });
}

TEST_F(FencingOracleTest, ForgedLockEpochAloneRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) {
    ASSERT_TRUE(m.lock.has_value());
    m.lock->epoch += 1;
  });
}

TEST_F(FencingOracleTest, ForgedProfileEpochAloneRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) { m.epoch += 1; });
}

TEST_F(FencingOracleTest, LockOfAnotherSessionIdAtTheSameEpochRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) {
    ASSERT_TRUE(m.lock.has_value());
    m.lock->session_id += 1000;
  });
}

TEST_F(FencingOracleTest, LockOfAnotherIncarnationAtTheSameEpochRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) {
    ASSERT_TRUE(m.lock.has_value());
    m.lock->incarnation += 1;
  });
}

TEST_F(FencingOracleTest, LockReleasedUnderTheSessionRefusesTheSave) {
  ExpectForgedMetaRefusesTheSave("eve", [](internal::ProfileMeta& m) { m.lock.reset(); });
}

TEST_F(FencingOracleTest, EndSessionWithoutChangesOnAForgedLockEndsLockLostWithNothingUnsaved) {
  auto players = OpenPlayers();
  auto p = players.StartSession("fay");
  ASSERT_OK(p);
  std::optional<SessionEnd> end;
  p->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  auto close_first = CloseEngineAtExit();
  ASSERT_NO_FATAL_FAILURE(ForgeMeta("fay", [](internal::ProfileMeta& m) {
    ASSERT_TRUE(m.lock.has_value());
    m.epoch += 1;
    m.lock->epoch += 1;
  }));
  const auto before = RawRecords("Players", "fay");
  Status lost = p->EndSession();
  EXPECT_CODE(lost, kLockLost);
  EXPECT_NE(lost.message().find("there were no changes"), std::string::npos) << lost.ToString();
  EXPECT_EQ(RawRecords("Players", "fay"), before);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kLockLost);
  EXPECT_FALSE(end->unsaved_changes);
  EXPECT_FALSE(p->IsActive());
}

// --- (e) A rollback waiting for a stuck holder ---

TEST_F(FencingOracleTest, RollbackWaitingForAStuckHolderIsAbortedByANewerStartAndChangesNothing) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.handoff_timeout = 60s; });
  auto holder = players.StartSession("gil");
  ASSERT_OK(holder);
  std::optional<SessionEnd> holder_end;
  holder->OnSessionEnd([&](const SessionEnd& e) { holder_end = e; });
  std::future<Result<uint64_t>> rollback;
  std::future<Result<PlayerProfile>> starter;
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "old"; }));
  ASSERT_OK(holder->Save());  // version 2
  ASSERT_OK(holder->Edit([](std::string& d) { d = "holder-final"; }));

  bounded_gate_->Hold(CommitKind::kRelease, "gil");
  rollback = std::async(std::launch::async, [&] { return players.Rollback("gil", 2); });
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());  // the rollback asked the holder to end; it is stuck
  const auto before = RawRecords("Players", "gil");
  starter = StartAsync(players, "gil");
  ASSERT_TRUE(ReadyInTime(rollback));
  EXPECT_CODE(rollback.get(), kAborted);
  EXPECT_EQ(RawRecords("Players", "gil"), before);
  EXPECT_EQ(CountCommits(gate_->Committed(), CommitKind::kRollback), 0);
  EXPECT_EQ(engine_->Stats().rollbacks, 0u);

  gate_->Release();  // the holder's final save lands; the newer start loads it
  ASSERT_TRUE(ReadyInTime(starter));
  auto next = starter.get();
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "holder-final");
  EXPECT_EQ(StoredPayload("Players", "gil"), "holder-final");
  ASSERT_TRUE(holder_end.has_value());
  EXPECT_FALSE(holder_end->unsaved_changes);
  EXPECT_EQ(CountCommits(gate_->Committed(), CommitKind::kRollback), 0);
  auto versions = players.Versions("gil");
  ASSERT_OK(versions);
  for (const VersionInfo& v : *versions) EXPECT_NE(v.reason, VersionReason::kRollback);
}

TEST_F(FencingOracleTest, RollbackWaitingPastTheStartTimeoutTimesOutAndChangesNothing) {
  // The handoff timeout is longer than the start timeout, so the rollback never steals.
  auto players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.autosave_period = 24h;
    o.handoff_timeout = 10s;
    o.start_timeout = 2s;
  });
  auto holder = players.StartSession("hal");
  ASSERT_OK(holder);
  std::promise<SessionEnd> ended;
  auto holder_end = ended.get_future();
  holder->OnSessionEnd([&](const SessionEnd& e) { ended.set_value(e); });
  std::future<Result<uint64_t>> rollback;
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "old"; }));
  ASSERT_OK(holder->Save());  // version 2
  ASSERT_OK(holder->Edit([](std::string& d) { d = "holder-final"; }));

  bounded_gate_->Hold(CommitKind::kRelease, "hal");
  rollback = std::async(std::launch::async, [&] { return players.Rollback("hal", 2); });
  ASSERT_TRUE(bounded_gate_->WaitUntilHeld());
  const auto before = RawRecords("Players", "hal");
  clock_->Advance(2s);
  ASSERT_TRUE(ReadyInTime(rollback));
  EXPECT_CODE(rollback.get(), kTimedOut);
  EXPECT_EQ(RawRecords("Players", "hal"), before);
  EXPECT_EQ(CountCommits(gate_->Committed(), CommitKind::kRollback), 0);
  EXPECT_EQ(engine_->Stats().rollbacks, 0u);
  EXPECT_EQ(engine_->Stats().steals, 0u);
  EXPECT_TRUE(holder->IsActive());  // its final save is still in flight

  gate_->Release();
  ASSERT_EQ(holder_end.wait_for(kDeadline), std::future_status::ready);
  EXPECT_FALSE(holder_end.get().unsaved_changes);
  EXPECT_EQ(StoredPayload("Players", "hal"), "holder-final");
  EXPECT_FALSE(StoredMeta("Players", "hal")->lock.has_value());
  EXPECT_EQ(CountCommits(gate_->Committed(), CommitKind::kRollback), 0);
}

// --- (f) An acquisition that runs out of conflict retries ---

TEST_F(FencingOracleTest, CreatingAcquireOutOfConflictRetriesIsBusyAndLeavesNothing) {
  auto players = OpenPlayers();
  const uint64_t conflicts = engine_->Stats().conflicts_retried;
  gate_->FailNext(internal::kDefaultTransactionAttempts, Status::Busy("injected conflict"),
                  CommitKind::kAcquire);
  Status busy = players.StartSession("ivy").status();
  EXPECT_CODE(busy, kBusy);
  EXPECT_NE(busy.message().find("kept conflicting"), std::string::npos) << busy.ToString();
  EXPECT_EQ(engine_->Stats().conflicts_retried - conflicts,
            static_cast<uint64_t>(internal::kDefaultTransactionAttempts - 1));
  EXPECT_EQ(gate_->BeforeCommitCalls(), internal::kDefaultTransactionAttempts);
  EXPECT_TRUE(RawRecords("Players", "ivy").empty());  // no lock, no data, no meta
  EXPECT_TRUE(gate_->Committed().empty());
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
  EXPECT_EQ(engine_->Stats().io_errors, 0u);  // a conflict is not storage trouble

  auto later = players.StartSession("ivy");
  ASSERT_OK(later);
  EXPECT_EQ(later->Info().epoch, 1u);
  EXPECT_EQ(later->Info().version, 1u);
  EXPECT_EQ(later->Info().load_count, 1u);
  EXPECT_EQ(StoredMeta("Players", "ivy")->lock->session_id, later->Info().session_id);
}

TEST_F(FencingOracleTest, AcquireOfAFreeProfileOutOfConflictRetriesIsBusyAndChangesNoRecord) {
  auto players = OpenPlayers();
  {
    auto p = players.StartSession("jay");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "stored"; }));
    ASSERT_OK(p->EndSession());
  }
  const auto before = RawRecords("Players", "jay");
  gate_->FailNext(internal::kDefaultTransactionAttempts, Status::Busy("injected conflict"),
                  CommitKind::kAcquire);
  EXPECT_CODE(players.StartSession("jay"), kBusy);
  EXPECT_EQ(RawRecords("Players", "jay"), before);
  auto later = players.StartSession("jay");
  ASSERT_OK(later);
  EXPECT_EQ(later->Data(), "stored");
  EXPECT_EQ(later->Info().load_count, 2u);
  EXPECT_EQ(later->Info().epoch, 2u);
}

TEST_F(FencingOracleTest, StealOutOfConflictRetriesIsBusyChangesNoRecordAndReportsTheHolder) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("kim");
  ASSERT_OK(holder);
  std::optional<SessionEnd> holder_end;
  holder->OnSessionEnd([&](const SessionEnd& e) { holder_end = e; });
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "saved"; }));
  ASSERT_OK(holder->Save());
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "kim");

  gate_->FailNext(internal::kDefaultTransactionAttempts, Status::Busy("injected conflict"),
                  CommitKind::kAcquire);
  SessionOptions steal;
  steal.steal = true;
  EXPECT_CODE(players.StartSession("kim", steal), kBusy);
  EXPECT_EQ(RawRecords("Players", "kim"), before);
  // The holder was fenced for the steal: it ends, and says what it had not stored.
  ASSERT_TRUE(holder_end.has_value());
  EXPECT_EQ(holder_end->reason, EndReason::kStolen);
  EXPECT_TRUE(holder_end->unsaved_changes);
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_EQ(RawRecords("Players", "kim"), before);

  auto later = players.StartSession("kim");
  ASSERT_OK(later);
  EXPECT_EQ(later->Data(), "saved");
  EXPECT_EQ(later->Info().epoch, holder->Info().epoch + 1);
}

TEST_F(FencingOracleTest, LockOfAHolderEndedByAFailedStealIsNotTakenOverAsAnOrphan) {
  std::vector<OrphanTakeover> orphans;
  engine_.reset();
  EngineOptions options = Options();
  options.on_orphan_takeover = [&](const OrphanTakeover& o) { orphans.push_back(o); };
  auto engine = Engine::Open(DatabasePath(), options);
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  auto players = OpenPlayers();
  auto holder = players.StartSession("kit");
  ASSERT_OK(holder);
  auto close_first = CloseEngineAtExit();
  gate_->FailNext(internal::kDefaultTransactionAttempts, Status::Busy("injected conflict"),
                  CommitKind::kAcquire);
  SessionOptions steal;
  steal.steal = true;
  EXPECT_CODE(players.StartSession("kit", steal), kBusy);
  EXPECT_FALSE(holder->IsActive());
  ASSERT_OK(players.StartSession("kit"));
  // The lock it replaced was left by a session of this very engine, not by a crashed process.
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
  EXPECT_TRUE(orphans.empty());
}

// --- (g) Timing options ---

TEST_F(FencingOracleTest, OpenStoreRefusesANonPositiveAutosavePeriodAndNegativeTimeouts) {
  const std::vector<std::pair<std::string, std::function<void(StoreOptions<std::string>&)>>> bad = {
      {"autosave_period", [](auto& o) { o.autosave_period = 0ms; }},
      {"autosave_period", [](auto& o) { o.autosave_period = -1ms; }},
      {"handoff_timeout", [](auto& o) { o.handoff_timeout = -1ms; }},
      {"start_timeout", [](auto& o) { o.start_timeout = -1ms; }},
  };
  for (const auto& [field, set] : bad) {
    StoreOptions<std::string> options;
    set(options);
    auto store = engine_->OpenStore<BytesCodec>("Players", options);
    EXPECT_CODE(store, kInvalidArgument) << field;
    EXPECT_NE(store.status().message().find(field), std::string::npos) << store.status();
  }
  auto good = engine_->OpenStore<BytesCodec>("Players", StoreOptions<std::string>{});
  ASSERT_OK(good);
  ASSERT_OK(good->StartSession("lea"));
}

TEST_F(FencingOracleTest, OpenStoreAcceptsZeroHandoffAndStartTimeouts) {
  StoreOptions<std::string> options;
  options.handoff_timeout = 0ms;
  options.start_timeout = 0ms;
  auto store = engine_->OpenStore<BytesCodec>("Players", options);
  ASSERT_OK(store);
  auto p = store->StartSession("max");  // a free profile is taken even with no time to wait
  ASSERT_OK(p);
  EXPECT_EQ(p->Info().epoch, 1u);
}

TEST_F(FencingOracleTest, RefusedOpenStoreLeavesTheNameFreeForAnotherCodec) {
  StoreOptions<std::string> bad;
  bad.autosave_period = 0ms;
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("Ledger", bad), kInvalidArgument);
  const auto stores = engine_->Info().stores;
  EXPECT_EQ(std::find(stores.begin(), stores.end(), "Ledger"), stores.end());
  EXPECT_OK(engine_->OpenStore<TextCodec>("Ledger", StoreOptions<std::string>{}));
}

}  // namespace
}  // namespace holdfast::test
