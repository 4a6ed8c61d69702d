// Corrupt payloads: quarantined and restored from history (default), refused, or reset to the
// template — damage is written straight into the column families, as damage from outside would.
#include <gtest/gtest.h>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using internal::Family;
using CorruptionTest = SessionTest;

void WriteRaw(Engine& engine, Family family, const std::string& key, const std::string& bytes) {
  ASSERT_OK(internal::RunTransaction(
      test::StorageOf(engine),
      [&](internal::StorageTransaction& txn) { return txn.Put(family, key, bytes); }));
}

std::string DataKey(const std::string& key) { return internal::EncodeProfileKey("Players", key); }
std::string VersionKey(const std::string& key, uint64_t v) {
  return internal::EncodeVersionKey("Players", key, v);
}

// Saves "good-1" (version 2) and "good-2" (version 3), then ends the session.
void WriteHistory(Store<BytesCodec>& players, const std::string& key) {
  auto p = players.StartSession(key);
  ASSERT_OK(p);
  for (const char* data : {"good-1", "good-2"}) {
    ASSERT_OK(p->Edit([&](std::string& d) { d = data; }));
    ASSERT_OK(p->Save());
  }
  ASSERT_OK(p->EndSession());
}

TEST_F(CorruptionTest, GarbageDataIsQuarantinedAndTheNewestValidVersionRestored) {
  std::vector<CorruptionEvent> events;
  auto players = OpenPlayers([&](StoreOptions<std::string>& o) {
    o.on_corruption = [&](const CorruptionEvent& e) { events.push_back(e); };
  });
  WriteHistory(players, "alice");
  WriteRaw(*engine_, Family::kData, DataKey("alice"), "\x01garbage from a bad disk");
  EXPECT_CODE(players.Get("alice"), kCorruption);  // a read-only view never repairs
  auto p = players.StartSession("alice");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "good-2");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "alice");
  EXPECT_EQ(events[0].quarantined_version, 4u);
  EXPECT_EQ(events[0].restored_from, 3u);
  EXPECT_EQ(events[0].restored_as, 5u);
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 1u);
  auto versions = players.Versions("alice");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ((*versions)[0].source_version, 3u);
  EXPECT_EQ((*versions)[1].reason, VersionReason::kQuarantine);
  auto raw = players.Get("alice", 4);
  ASSERT_OK(raw);
  EXPECT_EQ(raw->data, "\x01garbage from a bad disk");          // nothing is silently discarded
  EXPECT_CODE(players.Rollback("alice", 4), kInvalidArgument);  // quarantine is not restorable
  EXPECT_EQ(StoredPayload("Players", "alice"), "good-2");
}

TEST_F(CorruptionTest, DamagedVersionsInTheMiddleOfHistoryAreSkipped) {
  auto players = OpenPlayers();
  WriteHistory(players, "bob");
  WriteRaw(*engine_, Family::kVersions, VersionKey("bob", 3), "torn version record");
  WriteRaw(*engine_, Family::kData, DataKey("bob"), "torn data record");
  auto p = players.StartSession("bob");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "good-1");  // version 3 is damaged; version 2 is the newest valid
  auto versions = players.Versions("bob");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].source_version, 2u);
  bool saw_damaged = false;
  for (const VersionInfo& v : *versions) saw_damaged |= (v.version == 3 && v.damaged);
  EXPECT_TRUE(saw_damaged);
  EXPECT_CODE(players.Get("bob", 3), kCorruption);
}

TEST_F(CorruptionTest, FailPolicyRefusesTheStartAndTouchesNothing) {
  auto players = OpenPlayers(
      [](StoreOptions<std::string>& o) { o.corruption_policy = CorruptionPolicy::kFail; });
  WriteHistory(players, "dave");
  WriteRaw(*engine_, Family::kData, DataKey("dave"), "junk");
  auto meta_before = StoredMeta("Players", "dave");
  EXPECT_CODE(players.StartSession("dave"), kCorruption);
  auto meta_after = StoredMeta("Players", "dave");
  EXPECT_EQ(meta_after->epoch, meta_before->epoch);
  EXPECT_EQ(meta_after->load_count, meta_before->load_count);
  EXPECT_FALSE(meta_after->lock.has_value());
  EXPECT_EQ(meta_after->versions, meta_before->versions);
  std::string bytes;
  ASSERT_OK(test::StorageOf(*engine_).Get(Family::kData, DataKey("dave"), &bytes));
  EXPECT_EQ(bytes, "junk");
}

TEST_F(CorruptionTest, ResetPolicyQuarantinesAndStartsFromTheTemplate) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.corruption_policy = CorruptionPolicy::kResetToTemplate;
  });
  WriteHistory(players, "erin");
  WriteRaw(*engine_, Family::kData, DataKey("erin"), "junk");
  auto p = players.StartSession("erin");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "new-player");
  auto versions = players.Versions("erin");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ((*versions)[0].source_version, 0u);
  EXPECT_EQ((*versions)[1].reason, VersionReason::kQuarantine);
}

TEST_F(CorruptionTest, NoValidVersionFallsBackToTheTemplateKeepingTheEvidence) {
  auto players = OpenPlayers();
  WriteHistory(players, "fay");
  for (uint64_t v = 1; v <= 3; ++v)
    WriteRaw(*engine_, Family::kVersions, VersionKey("fay", v), "x");
  WriteRaw(*engine_, Family::kData, DataKey("fay"), "junk");
  auto p = players.StartSession("fay");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "new-player");
  auto quarantined = players.Get("fay", 4);
  ASSERT_OK(quarantined);
  EXPECT_EQ(quarantined->version.reason, VersionReason::kQuarantine);
}

// Regression test for issue 10, part 3: with keep_newest 2 the quarantine entry used to push the
// last valid version out of the history before the restore looked for it.
TEST_F(CorruptionTest, QuarantineNeverPrunesTheVersionItRestoresWithSmallRetention) {
  std::vector<CorruptionEvent> events;
  auto retention = [](StoreOptions<std::string>& o) {
    o.retention.keep_newest = 2;
    o.retention.hourly_for = std::chrono::hours(0);
    o.retention.daily_for = std::chrono::hours(0);
  };
  auto players = OpenPlayers(retention);  // no validate yet: "poison" can be saved
  {
    auto p = players.StartSession("gus");  // v1 template
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "good"; }));
    ASSERT_OK(p->Save());  // v2
    ASSERT_OK(p->Edit([](std::string& d) { d = "better"; }));
    ASSERT_OK(p->Save());  // v3 (v1, v2 pruned)
    ASSERT_OK(p->Edit([](std::string& d) { d = "poison"; }));
    ASSERT_OK(p->EndSession());  // v4, refused by the validate deployed below
  }
  ReopenEngine();
  players = OpenPlayers([&](StoreOptions<std::string>& o) {
    retention(o);
    o.validate = [](const std::string& d) {
      return d == "poison" ? Status::InvalidArgument("poisoned item") : Status::Ok();
    };
    o.repair_disagreement = true;  // restore what the new validate refuses
    o.on_corruption = [&](const CorruptionEvent& e) { events.push_back(e); };
  });
  auto p = players.StartSession("gus");  // quarantines v4 as v5, restores v3 as v6
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "better");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].quarantined_version, 5u);
  EXPECT_EQ(events[0].restored_from, 3u);
  EXPECT_EQ(events[0].restored_as, 6u);
  auto source = players.Get("gus", 3);
  ASSERT_OK(source);
  EXPECT_EQ(source->data, "better");
  auto restored = players.Get("gus", 6);
  ASSERT_OK(restored);
  EXPECT_EQ(restored->version.reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ(restored->version.source_version, 3u);
  EXPECT_EQ(restored->data, "better");
}

// A rollback that replaces a damaged data record keeps the damaged bytes as a quarantine
// version first, as a start's repair does (found by the crash test's damage mode).
TEST_F(CorruptionTest, RollbackOverADamagedRecordQuarantinesTheDamagedBytes) {
  auto players = OpenPlayers();
  WriteHistory(players, "gil");  // v2 good-1, v3 good-2
  WriteRaw(*engine_, Family::kData, DataKey("gil"), "torn");
  auto rolled = players.Rollback("gil", 2);
  ASSERT_OK(rolled);
  EXPECT_EQ(*rolled, 5u);
  auto quarantined = players.Get("gil", 4);
  ASSERT_OK(quarantined);
  EXPECT_EQ(quarantined->version.reason, VersionReason::kQuarantine);
  EXPECT_EQ(quarantined->data, "torn");
  auto current = players.Get("gil");
  ASSERT_OK(current);
  EXPECT_EQ(current->data, "good-1");
  EXPECT_EQ(current->version.reason, VersionReason::kRollback);
}

}  // namespace
}  // namespace holdfast::test
