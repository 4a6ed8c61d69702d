// Admin::Verify: every record and version is read and checked, and damage written from outside —
// garbage records, a missing version, stray keys — is reported exactly, never a crash.
#include <gtest/gtest.h>

#include <string>

#include "admin_test_util.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using internal::Family;
using AdminVerifyTest = AdminFixture;

std::string ProfileKey(const std::string& key) {
  return internal::EncodeProfileKey("Players", key);
}

TEST_F(AdminVerifyTest, ACleanDatabaseCountsEveryRecord) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});  // meta, data, 3 versions
  WriteHistory(players, "bob", {"b1"});          // meta, data, 2 versions
  auto report = Admin(*engine_).Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->stores, 1u);
  EXPECT_EQ(report->profiles, 2u);
  EXPECT_EQ(report->versions, 5u);
  EXPECT_EQ(report->records, 1u + 2u + 2u + 5u);  // manifest, meta, data, versions
}

TEST_F(AdminVerifyTest, DamagedDataMetaAndVersionRecordsAreEachReported) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  WriteHistory(players, "bob", {"b1"});
  WriteHistory(players, "carol", {"c1"});
  WriteRaw(Family::kData, ProfileKey("alice"), "\x01garbage from a bad disk");
  WriteRaw(Family::kVersions, internal::EncodeVersionKey("Players", "bob", 2), "torn");
  WriteRaw(Family::kMeta, ProfileKey("carol"), "not a meta record");

  auto report = Admin(*engine_).Verify();
  ASSERT_OK(report);
  ASSERT_EQ(report->damaged.size(), 3u);
  EXPECT_EQ(report->profiles, 3u);
  // Storage order: shorter keys first, so bob, alice, carol.
  const DamagedRecord& version = report->damaged[0];
  EXPECT_EQ(version.store, "Players");
  EXPECT_EQ(version.key, "bob");
  EXPECT_EQ(version.record, "version");
  EXPECT_EQ(version.version, 2u);
  EXPECT_FALSE(version.reason.empty());
  const DamagedRecord& data = report->damaged[1];
  EXPECT_EQ(data.key, "alice");
  EXPECT_EQ(data.record, "data");
  const DamagedRecord& meta = report->damaged[2];
  EXPECT_EQ(meta.key, "carol");
  EXPECT_EQ(meta.record, "meta");
}

TEST_F(AdminVerifyTest, AVersionRecordSwappedForAnotherIsDamaged) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  std::string v2;
  ASSERT_OK(StorageOf(*engine_).Get(Family::kVersions,
                                    internal::EncodeVersionKey("Players", "alice", 2), &v2));
  // An intact record of version 2 stored as version 3: checksums pass, the number does not.
  WriteRaw(Family::kVersions, internal::EncodeVersionKey("Players", "alice", 3), v2);
  auto report = Admin(*engine_).Verify();
  ASSERT_OK(report);
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_EQ(report->damaged[0].version, 3u);
  EXPECT_NE(report->damaged[0].reason.find("claims version 2"), std::string::npos);
}

TEST_F(AdminVerifyTest, MissingRecordsAndStrayKeysAreReported) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1", "a2"});
  WriteHistory(players, "bob", {"b1"});
  DeleteRaw(Family::kVersions, internal::EncodeVersionKey("Players", "alice", 2));
  DeleteRaw(Family::kMeta, ProfileKey("bob"));
  WriteRaw(Family::kData, internal::EncodeProfileKey("Ghosts", "x"), "whatever");
  WriteRaw(Family::kVersions, "\x07Players-not-a-key", "whatever");

  auto report = Admin(*engine_).Verify();
  ASSERT_OK(report);
  std::vector<std::string> found;
  for (const DamagedRecord& d : report->damaged) {
    found.push_back(d.record + " " + d.store + "/" + d.key + "@" + std::to_string(d.version));
  }
  EXPECT_EQ(found, (std::vector<std::string>{
                       "version Players/alice@2",  // indexed, not stored
                       "key Ghosts/x@0",           // a store that is not registered
                       "meta Players/bob@0",       // data (and versions) without meta
                       "key /\x07Players-not-a-key@0",
                   }));
}

TEST_F(AdminVerifyTest, WaitingMessagesAreCheckedAndADamagedOneIsReported) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1"});
  for (const char* gift : {"sword", "shield", "potion"}) ASSERT_OK(players.Message("alice", gift));
  auto clean = Admin(*engine_).Verify();
  ASSERT_OK(clean);
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->messages, 3u);
  EXPECT_EQ(clean->records, 1u + 2u + 2u + 3u);  // manifest, meta, data, versions, messages

  WriteRaw(Family::kMessages, internal::EncodeMessageKey("Players", "alice", 2), "torn");
  auto report = Admin(*engine_).Verify();
  ASSERT_OK(report);
  ASSERT_EQ(report->damaged.size(), 1u);
  EXPECT_EQ(report->damaged[0].record, "message");
  EXPECT_EQ(report->damaged[0].key, "alice");
  EXPECT_EQ(report->damaged[0].version, 2u);  // the message's sequence
}

TEST_F(AdminVerifyTest, OneStoreIsCheckedAloneAndAnUnknownStoreIsNotFound) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1"});
  auto guilds = engine_->OpenStore<BytesCodec>("Guilds");
  ASSERT_OK(guilds);
  WriteHistory(*guilds, "red", {"r1"});
  WriteRaw(Family::kData, internal::EncodeProfileKey("Guilds", "red"), "damaged");

  Admin admin(*engine_);
  auto players_only = admin.Verify("Players");
  ASSERT_OK(players_only);
  EXPECT_TRUE(players_only->ok());
  EXPECT_EQ(players_only->stores, 1u);
  EXPECT_EQ(players_only->profiles, 1u);
  auto guilds_only = admin.Verify("Guilds");
  ASSERT_OK(guilds_only);
  ASSERT_EQ(guilds_only->damaged.size(), 1u);
  EXPECT_EQ(guilds_only->damaged[0].key, "red");
  EXPECT_CODE(admin.Verify("Nobody"), kNotFound);
}

TEST_F(AdminVerifyTest, ListingsMarkDamageInsteadOfFailing) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"a1"});
  WriteHistory(players, "bob", {"b1"});
  WriteRaw(Family::kData, ProfileKey("alice"), "garbage");
  WriteRaw(Family::kMeta, ProfileKey("bob"), "garbage");
  Admin admin(*engine_);
  auto list = admin.Profiles("Players");
  ASSERT_OK(list);
  ASSERT_EQ(list->profiles.size(), 2u);
  EXPECT_EQ(list->profiles[0].key, "bob");
  EXPECT_EQ(list->profiles[0].damage.rfind("meta: ", 0), 0u) << list->profiles[0].damage;
  EXPECT_EQ(list->profiles[0].version, 2u);  // its data record is intact
  EXPECT_EQ(list->profiles[1].damage.rfind("data: ", 0), 0u) << list->profiles[1].damage;
  auto stores = admin.Stores();
  ASSERT_OK(stores);
  EXPECT_EQ((*stores)[0].damaged, 1u);
  EXPECT_CODE(admin.Inspect("Players", "alice"), kCorruption);
  EXPECT_CODE(admin.Inspect("Players", "bob"), kCorruption);
}

}  // namespace
}  // namespace holdfast::test
