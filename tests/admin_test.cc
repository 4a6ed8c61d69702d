// The public admin API (holdfast/admin.h): listings, one profile's details, rollback by store
// name, checkpoints and compaction, on a database on disk. Verify has its own file
// (admin_verify_test.cc).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "admin_test_util.h"

namespace holdfast::test {
namespace {

using AdminTest = AdminFixture;

TEST_F(AdminTest, StoresCountProfilesLocksAndVersions) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});  // versions 1 (create), 2, 3
  WriteHistory(players, "bob", {"b1"});          // versions 1, 2
  auto held = players.StartSession("carol");     // version 1, locked
  ASSERT_OK(held);
  ASSERT_OK(engine_->OpenStore<BytesCodec>("Guilds"));

  auto stores = Admin(*engine_).Stores();
  ASSERT_OK(stores);
  ASSERT_EQ(stores->size(), 2u);
  EXPECT_EQ((*stores)[0].name, "Guilds");
  EXPECT_EQ((*stores)[0].profiles, 0u);
  const StoreSummary& p = (*stores)[1];
  EXPECT_EQ(p.name, "Players");
  EXPECT_EQ(p.codec, "bytes");
  EXPECT_EQ(p.created_unix_ms, kStartUnixMs);
  EXPECT_EQ(p.profiles, 3u);
  EXPECT_EQ(p.locked, 1u);
  EXPECT_EQ(p.versions, 3u + 2u + 1u);
  EXPECT_EQ(p.damaged, 0u);
}

TEST_F(AdminTest, ProfilesFilterByPrefixPageAndReportLocks) {
  auto players = OpenPlayers();
  for (const char* key : {"p-2", "p-10", "p-1", "q-1"}) WriteHistory(players, key, {key});
  auto held = players.StartSession("p-3");
  ASSERT_OK(held);
  Admin admin(*engine_);

  ProfileQuery query;
  query.prefix = "p-";
  query.limit = 3;
  auto page = admin.Profiles("Players", query);
  ASSERT_OK(page);
  ASSERT_EQ(page->profiles.size(), 3u);
  EXPECT_TRUE(page->more);
  // Storage order: shorter keys first, then bytewise.
  EXPECT_EQ(page->profiles[0].key, "p-1");
  EXPECT_EQ(page->profiles[1].key, "p-2");
  EXPECT_EQ(page->profiles[2].key, "p-3");
  EXPECT_EQ(page->profiles[0].version, 2u);
  EXPECT_EQ(page->profiles[0].payload_bytes, 3u);
  EXPECT_FALSE(page->profiles[0].locked);
  EXPECT_TRUE(page->profiles[2].locked);
  EXPECT_EQ(page->profiles[2].version, 1u);  // the template, as created

  query.after_key = page->profiles.back().key;
  auto rest = admin.Profiles("Players", query);
  ASSERT_OK(rest);
  ASSERT_EQ(rest->profiles.size(), 1u);
  EXPECT_EQ(rest->profiles[0].key, "p-10");
  EXPECT_FALSE(rest->more);

  EXPECT_CODE(admin.Profiles("Nobody"), kNotFound);
  query.after_key = "";
  EXPECT_CODE(admin.Profiles("Players", query), kInvalidArgument);
}

TEST_F(AdminTest, LocksNameOwnerEpochAndSinceAndOrphansInACheckpoint) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1"});
  clock_->Advance(std::chrono::seconds(5));
  auto held = players.StartSession("alice");
  ASSERT_OK(held);

  Admin admin(*engine_);
  auto locks = admin.Locks();
  ASSERT_OK(locks);
  ASSERT_EQ(locks->size(), 1u);
  const HeldLock& lock = (*locks)[0];
  EXPECT_EQ(lock.store, "Players");
  EXPECT_EQ(lock.key, "alice");
  EXPECT_EQ(lock.holder.epoch, held->Info().epoch);
  EXPECT_EQ(lock.holder.session_id, held->Info().session_id);
  EXPECT_EQ(lock.holder.owner, "admin-test-server");
  EXPECT_EQ(lock.holder.since_unix_ms, clock_->WallUnixMillis());
  EXPECT_FALSE(lock.orphaned);
  EXPECT_CODE(admin.Locks("Nobody"), kNotFound);

  // A checkpoint taken while the session lives holds its lock; opened there, it is an orphan.
  const std::string copy = dir_.Sub("copy");
  ASSERT_OK(admin.Checkpoint(copy));
  ASSERT_OK(held->EndSession());
  ASSERT_OK(engine_->Close());
  engine_.reset();
  auto reopened = Engine::Open(copy, Options(/*create=*/false));
  ASSERT_OK(reopened);
  auto orphans = Admin(**reopened).Locks("Players");
  ASSERT_OK(orphans);
  ASSERT_EQ(orphans->size(), 1u);
  EXPECT_TRUE((*orphans)[0].orphaned);
  EXPECT_EQ((*orphans)[0].holder.epoch, lock.holder.epoch);
}

TEST_F(AdminTest, InspectShowsCurrentDataOrOneVersionWithLockAndTimes) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  auto held = players.StartSession("alice");
  ASSERT_OK(held);
  ASSERT_OK(held->AddUserId(42));
  ASSERT_OK(held->SetMetadata("guild", "red"));
  ASSERT_OK(held->Save());
  Admin admin(*engine_);

  auto now = admin.Inspect("Players", "alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->codec, "bytes");
  EXPECT_EQ(now->view.payload, "a2");
  EXPECT_EQ(now->view.version.version, 3u);
  EXPECT_EQ(now->view.load_count, 2u);
  EXPECT_EQ(now->view.user_ids, std::vector<int64_t>{42});
  EXPECT_EQ(now->view.metadata.at("guild"), "red");
  ASSERT_TRUE(now->lock.has_value());
  EXPECT_EQ(now->lock->holder.epoch, held->Info().epoch);
  EXPECT_FALSE(now->lock->orphaned);
  EXPECT_EQ(now->created_unix_ms, kStartUnixMs);
  EXPECT_EQ(now->last_version, 3u);

  auto old = admin.Inspect("Players", "alice", 2);
  ASSERT_OK(old);
  EXPECT_EQ(old->view.payload, "a1");
  EXPECT_EQ(old->view.version.reason, VersionReason::kSave);

  EXPECT_CODE(admin.Inspect("Players", "alice", 99), kNotFound);
  EXPECT_CODE(admin.Inspect("Players", "nobody"), kNotFound);
  EXPECT_CODE(admin.Inspect("Nobody", "alice"), kNotFound);
  EXPECT_CODE(admin.Inspect("Players", ""), kInvalidArgument);
  auto versions = admin.Versions("Players", "alice");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 3u);
  EXPECT_CODE(admin.Versions("Nobody", "alice"), kNotFound);
}

// Offline, the admin opens the store itself: it must not prune by a retention it was never
// given. The game keeps 100 versions; the default (50, then one an hour) would drop 10 here.
TEST_F(AdminTest, RollbackOfAStoreNotOpenPrunesNothing) {
  StoreOptions<std::string> keep_all;
  keep_all.retention.keep_newest = 100;
  {
    auto players = OpenPlayers(keep_all);
    std::vector<std::string> payloads;
    for (int i = 1; i <= 59; ++i) payloads.push_back("v" + std::to_string(i));
    WriteHistory(players, "alice", payloads);  // versions 1..60
  }
  ReopenEngine();
  Admin admin(*engine_);
  auto written = admin.Rollback("Players", "alice", 2);
  ASSERT_OK(written);
  EXPECT_EQ(*written, 61u);
  auto versions = admin.Versions("Players", "alice", VersionQuery{.limit = 0});
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 61u);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kRollback);
  EXPECT_EQ((*versions)[0].source_version, 2u);
  auto now = admin.Inspect("Players", "alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->view.payload, "v1");

  // The game opens its store afterwards with its own settings, as the admin's open left none.
  ReopenEngine();
  ASSERT_OK(engine_->OpenStore<BytesCodec>("Players", keep_all));
}

TEST_F(AdminTest, RollbackOfAnOpenStoreEndsTheLiveSession) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  std::optional<EndReason> ended;
  SessionOptions options;
  options.on_session_end = [&](const SessionEnd& end) { ended = end.reason; };
  auto held = players.StartSession("alice", options);
  ASSERT_OK(held);
  clock_->Advance(std::chrono::seconds(10));

  Admin admin(*engine_);
  auto written = admin.RollbackTo("Players", "alice", kStartUnixMs + 1'000);
  ASSERT_OK(written);
  EXPECT_EQ(ended, EndReason::kRollback);
  EXPECT_FALSE(held->IsActive());
  auto now = players.Get("alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "a1");
  EXPECT_FALSE(now->locked);
  EXPECT_CODE(admin.Rollback("Nobody", "alice", 1), kNotFound);
  EXPECT_CODE(admin.Rollback("Players", "nobody", 1), kNotFound);
}

TEST_F(AdminTest, CheckpointOpensAsADatabaseAndRefusesAnExistingDirectory) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  Admin admin(*engine_);
  const std::string copy = dir_.Sub("copy");
  ASSERT_OK(admin.Checkpoint(copy));
  EXPECT_CODE(admin.Checkpoint(copy), kInvalidArgument);
  EXPECT_CODE(admin.Checkpoint(""), kInvalidArgument);

  auto reopened = Engine::Open(copy, Options(/*create=*/false));
  ASSERT_OK(reopened);
  Admin copied(**reopened);
  auto report = copied.Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok());
  auto alice = copied.Inspect("Players", "alice");
  ASSERT_OK(alice);
  EXPECT_EQ(alice->view.payload, "a2");
}

TEST_F(AdminTest, CompactKeepsEveryRecord) {
  auto players = OpenPlayers();
  for (int i = 0; i < 20; ++i) WriteHistory(players, "p" + std::to_string(i), {"x", "y"});
  Admin admin(*engine_);
  auto before = admin.Stores();
  ASSERT_OK(before);
  ASSERT_OK(admin.Compact());
  auto after = admin.Stores();
  ASSERT_OK(after);
  EXPECT_EQ((*after)[0].profiles, (*before)[0].profiles);
  EXPECT_EQ((*after)[0].versions, (*before)[0].versions);
  auto p7 = admin.Inspect("Players", "p7");
  ASSERT_OK(p7);
  EXPECT_EQ(p7->view.payload, "y");
}

TEST_F(AdminTest, EveryCallIsClosedAfterClose) {
  OpenPlayers();
  Admin admin(*engine_);
  ASSERT_OK(engine_->Close());
  EXPECT_CODE(admin.Stores(), kClosed);
  EXPECT_CODE(admin.Profiles("Players"), kClosed);
  EXPECT_CODE(admin.Locks(), kClosed);
  EXPECT_CODE(admin.Inspect("Players", "a"), kClosed);
  EXPECT_CODE(admin.Rollback("Players", "a", 1), kClosed);
  EXPECT_CODE(admin.Verify(), kClosed);
  EXPECT_CODE(admin.Checkpoint(dir_.Sub("copy")), kClosed);
  EXPECT_CODE(admin.Compact(), kClosed);
}

}  // namespace
}  // namespace holdfast::test
