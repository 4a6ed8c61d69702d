// Store::Rollback and RollbackTo: new versions naming their source, live sessions ended and
// fenced, and clear errors that change nothing.
#include <gtest/gtest.h>

#include <future>

#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using RollbackTest = SessionTest;

// Writes "a" (version 2) and "b" (version 3), then ends the session (no new version).
void WriteAB(Store<BytesCodec>& players, const std::string& key) {
  auto p = players.StartSession(key);
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "a"; }));
  ASSERT_OK(p->Save());
  ASSERT_OK(p->Edit([](std::string& d) { d = "b"; }));
  ASSERT_OK(p->EndSession());
}

TEST_F(RollbackTest, WritesTheOldPayloadAsANewVersionAndBumpsTheEpoch) {
  auto players = OpenPlayers();
  WriteAB(players, "alice");
  uint64_t epoch_before = StoredMeta("Players", "alice")->epoch;
  auto rolled = players.Rollback("alice", 2);
  ASSERT_OK(rolled);
  EXPECT_EQ(*rolled, 4u);
  EXPECT_EQ(StoredPayload("Players", "alice"), "a");
  auto meta = StoredMeta("Players", "alice");
  EXPECT_EQ(meta->epoch, epoch_before + 1);
  EXPECT_FALSE(meta->lock.has_value());
  auto versions = players.Versions("alice");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->front().version, 4u);
  EXPECT_EQ(versions->front().reason, VersionReason::kRollback);
  EXPECT_EQ(versions->front().source_version, 2u);
  auto p = players.StartSession("alice");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "a");
  EXPECT_EQ(engine_->Stats().rollbacks, 1u);
}

TEST_F(RollbackTest, EndsTheLiveSessionFirstAndFencesIt) {
  auto players = OpenPlayers();
  WriteAB(players, "bob");
  auto holder = players.StartSession("bob");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "live-edit"; }));
  auto rolled = players.Rollback("bob", 2);
  ASSERT_OK(rolled);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kRollback);
  EXPECT_FALSE(end->unsaved_changes);
  // The live session's data became a version before the rollback.
  auto versions = players.Versions("bob");
  ASSERT_OK(versions);
  ASSERT_GE(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kRollback);
  EXPECT_EQ((*versions)[1].reason, VersionReason::kEndSession);
  auto kept = players.Get("bob", (*versions)[1].version);
  ASSERT_OK(kept);
  EXPECT_EQ(kept->data, "live-edit");
  // The old holder can never clobber the restored data.
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_CODE(holder->Edit([](std::string& d) { d = "clobber"; }), kLockLost);
  EXPECT_CODE(holder->EndSession(), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "bob"), "a");
}

TEST_F(RollbackTest, StuckHolderIsFencedAndItsLateSaveRejected) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.handoff_timeout = 5s; });
  WriteAB(players, "carol");
  auto holder = players.StartSession("carol");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "late"; }));
  gate_->PauseNext(CommitKind::kSave, "carol");
  auto late = std::async(std::launch::async, [&] { return holder->Save(); });
  gate_->WaitUntilPaused();
  auto rollback = std::async(std::launch::async, [&] { return players.Rollback("carol", 2); });
  for (int i = 0; i < 1000 && rollback.wait_for(2ms) != std::future_status::ready; ++i) {
    clock_->Advance(500ms);
  }
  ASSERT_OK(rollback.get());
  gate_->Release();
  EXPECT_CODE(late.get(), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "carol"), "a");
  EXPECT_FALSE(StoredMeta("Players", "carol")->lock.has_value());
}

TEST_F(RollbackTest, RollbackToATimePicksTheNewestVersionAtOrBeforeIt) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dave");
  ASSERT_OK(p);
  std::vector<int64_t> times;
  for (const char* data : {"one", "two", "three"}) {
    clock_->Advance(1h);
    ASSERT_OK(p->Edit([&](std::string& d) { d = data; }));
    ASSERT_OK(p->Save());
    times.push_back(clock_->WallUnixMillis());
  }
  ASSERT_OK(p->EndSession());
  auto rolled = players.RollbackTo("dave", times[1] + 30 * 60'000);  // half an hour after "two"
  ASSERT_OK(rolled);
  EXPECT_EQ(StoredPayload("Players", "dave"), "two");
  EXPECT_CODE(players.RollbackTo("dave", times[0] - 2 * 3'600'000), kNotFound);
}

TEST_F(RollbackTest, BadTargetsAreClearErrorsAndChangeNothing) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.retention.keep_newest = 2; });
  auto p = players.StartSession("erin");
  ASSERT_OK(p);
  for (int i = 0; i < 5; ++i) {  // versions 2..6; with keep_newest 2 the early ones are pruned
    ASSERT_OK(p->Edit([i](std::string& d) { d = "s" + std::to_string(i); }));
    ASSERT_OK(p->Save());
  }
  ASSERT_OK(p->EndSession());
  auto before_meta = StoredMeta("Players", "erin");
  auto before_versions = players.Versions("erin");
  ASSERT_OK(before_versions);
  EXPECT_CODE(players.Rollback("erin", 99), kNotFound);   // never written
  EXPECT_CODE(players.Rollback("erin", 1), kNotFound);    // pruned (same hour as newer ones)
  EXPECT_CODE(players.Rollback("nobody", 1), kNotFound);  // no such profile
  EXPECT_CODE(players.Rollback("", 1), kInvalidArgument);
  auto after_versions = players.Versions("erin");
  ASSERT_OK(after_versions);
  EXPECT_EQ(after_versions->size(), before_versions->size());
  EXPECT_EQ(StoredMeta("Players", "erin")->epoch, before_meta->epoch);
  EXPECT_EQ(StoredPayload("Players", "erin"), "s4");
  EXPECT_EQ(engine_->Stats().rollbacks, 0u);
}

// Regression test for issue 10, part 2: a rollback that is refused used to end the live session
// (final save, release) before checking its target.
TEST_F(RollbackTest, RefusedRollbackLeavesTheLiveSessionAndEveryRecordUntouched) {
  auto players = OpenPlayers();
  WriteAB(players, "gina");  // v2 "a", v3 "b"
  {
    auto p = players.StartSession("gina");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "cursed"; }));  // v4, before validate refused it
    ASSERT_OK(p->EndSession());
  }
  ReopenEngine();  // a stricter validate is deployed, and told to restore what it refuses
  players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.validate = [](const std::string& d) {
      return d == "cursed" ? Status::InvalidArgument("cursed item") : Status::Ok();
    };
    o.repair_disagreement = true;
  });
  auto holder = players.StartSession("gina");  // v4 is quarantined as v5, v3 restored as v6
  ASSERT_OK(holder);
  RawStore raw = players.raw();  // the typed view applies validate, which refuses version 5
  ASSERT_EQ(raw.Get("gina", 5)->version.reason, VersionReason::kQuarantine);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "live-unsaved"; }));
  const auto before = RawRecords("Players", "gina");
  const size_t commits_before = gate_->Committed().size();

  EXPECT_CODE(players.Rollback("gina", 99), kNotFound);        // never written
  EXPECT_CODE(players.Rollback("gina", 5), kInvalidArgument);  // quarantined
  EXPECT_CODE(players.Rollback("gina", 4), kInvalidArgument);  // fails the store's check
  EXPECT_CODE(players.RollbackTo("gina", 0), kNotFound);       // nothing that old

  EXPECT_EQ(RawRecords("Players", "gina"), before);
  EXPECT_EQ(gate_->Committed().size(), commits_before);
  EXPECT_FALSE(end.has_value());
  EXPECT_TRUE(holder->IsActive());
  EXPECT_EQ(holder->Data(), "live-unsaved");
  ASSERT_OK(holder->Save());
  EXPECT_EQ(StoredPayload("Players", "gina"), "live-unsaved");
  EXPECT_EQ(engine_->Stats().rollbacks, 0u);
}

// The live session's final save may prune the version being rolled back to (small retention);
// the rollback still restores that version's payload, read before the session was ended.
TEST_F(RollbackTest, RestoresTheTargetEvenWhenTheHoldersFinalSavePrunesIt) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.retention.keep_newest = 2;
    o.retention.hourly_for = std::chrono::hours(0);
    o.retention.daily_for = std::chrono::hours(0);
  });
  WriteAB(players, "hank");  // v2 "a", v3 "b"; v1 pruned
  auto holder = players.StartSession("hank");
  ASSERT_OK(holder);
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "c"; }));
  auto rolled = players.Rollback("hank", 2);  // the final save writes v4 "c" and prunes v2
  ASSERT_OK(rolled);
  EXPECT_EQ(*rolled, 5u);
  EXPECT_EQ(StoredPayload("Players", "hank"), "a");
  EXPECT_CODE(players.Get("hank", 2), kNotFound);
  auto current = players.Get("hank");
  ASSERT_OK(current);
  EXPECT_EQ(current->version.version, 5u);
  EXPECT_EQ(current->version.reason, VersionReason::kRollback);
  // Get(key) for the current data names the source like Get(key, v) and Versions do.
  EXPECT_EQ(current->version.source_version, 2u);
  EXPECT_EQ(players.Get("hank", 5)->version.source_version, 2u);
}

// Rollback commits through the same retry helper as every other profile write, so its
// conflicts are retried and counted like theirs.
TEST_F(RollbackTest, ConflictsOfTheRollbackAreRetriedAndCounted) {
  auto players = OpenPlayers();
  WriteAB(players, "ivan");
  const uint64_t retried_before = engine_->Stats().conflicts_retried;
  gate_->FailNext(2, Status::Busy("injected conflict"), CommitKind::kRollback);
  auto rolled = players.Rollback("ivan", 2);
  ASSERT_OK(rolled);
  EXPECT_EQ(engine_->Stats().conflicts_retried, retried_before + 2);
  EXPECT_EQ(StoredPayload("Players", "ivan"), "a");
  const auto commits = gate_->Committed();
  ASSERT_FALSE(commits.empty());
  EXPECT_EQ(commits.back().kind, CommitKind::kRollback);
  EXPECT_EQ(commits.back().version, *rolled);
}

}  // namespace
}  // namespace holdfast::test
