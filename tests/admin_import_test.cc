// Admin::Import (holdfast/admin.h): a store registered and its profiles written in one
// transaction; every refusal — before the transaction or inside it — leaves every family's bytes,
// the manifest included, exactly as they were; a held lock refuses unless through_lock.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin_test_util.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using AdminImportTest = AdminFixture;

// Every record of every family, the manifest included ("<family>/<key>" -> bytes).
std::map<std::string, std::string> EveryRecord(Engine& engine) {
  return RecordsOf(engine, /*with_manifest=*/true);
}

// Refuses every import commit point of `key`, as a failing disk would.
class FailImportOf final : public FaultHooks {
 public:
  explicit FailImportOf(std::string key) : key_(std::move(key)) {}
  Status BeforeCommit(const CommitPoint& point) override {
    if (point.kind == CommitKind::kAdminWrite && point.key == key_) {
      return Status::IOError("injected: the disk failed");
    }
    return Status::Ok();
  }

 private:
  const std::string key_;
};

const StoreRegistration kBytesStore{"Imported", "bytes", "", 0};

TEST_F(AdminImportTest, ImportIntoAnEmptyDatabaseRegistersTheStoreAndCreatesEveryProfile) {
  const std::vector<ImportedProfile> profiles = {
      {"alice", "gold=7", 2, {42, 7, 42}, {{"region", "eu"}}}, {"bob", "gold=1", 0, {}, {}}};
  auto summary = Admin(*engine_).Import("Imported", kBytesStore, profiles);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->created, 2u);
  EXPECT_EQ(summary->replaced, 0u);
  auto registration = engine_->Registration("Imported");
  ASSERT_OK(registration);
  EXPECT_EQ(registration->codec, "bytes");

  auto alice = Admin(*engine_).Inspect("Imported", "alice");
  ASSERT_OK(alice);
  EXPECT_EQ(alice->view.payload, "gold=7");
  EXPECT_EQ(alice->view.version.version, 1u);
  EXPECT_EQ(alice->view.version.reason, VersionReason::kAdmin);
  EXPECT_EQ(alice->view.version.schema_version, 2u);
  EXPECT_EQ(alice->view.user_ids, (std::vector<int64_t>{7, 42}));  // sorted, once each
  EXPECT_EQ(alice->view.metadata, (std::map<std::string, std::string>{{"region", "eu"}}));
  EXPECT_FALSE(alice->view.locked);
  auto found = engine_->FindByUserId(42);
  ASSERT_OK(found);
  EXPECT_EQ(*found, (std::vector<ProfileLocation>{{"Imported", "alice"}}));

  // The store opens like any other: a session loads the imported data.
  auto store = engine_->OpenStore<BytesCodec>("Imported");
  ASSERT_OK(store);
  auto bob = store->StartSession("bob");
  ASSERT_OK(bob);
  EXPECT_EQ(bob->LastSavedData(), "gold=1");
  ASSERT_OK(bob->EndSession());
}

TEST_F(AdminImportTest, AnImportOverExistingProfilesWritesTheirNextVersion) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"gold=10"});  // versions 1, 2
  auto summary = Admin(*engine_).Import("Players", {"Players", "bytes", "", 0},
                                        {{"alice", "gold=3", 0, {}, {}}});
  ASSERT_OK(summary);
  EXPECT_EQ(summary->replaced, 1u);
  auto now = players.Get("alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "gold=3");
  EXPECT_EQ(now->version.version, 3u);
  EXPECT_EQ(players.Get("alice", 2)->data, "gold=10");  // the history stays
}

TEST_F(AdminImportTest, AFailedImportLeavesEveryFamilyByteIdentical) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"gold=10"});
  CloseEngine();
  EngineOptions options = Options();
  options.fault_hooks = std::make_shared<FailImportOf>("zed");
  auto engine = Engine::Open(path_, options);
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  const auto before = EveryRecord(*engine_);

  // Registers a new store, replaces alice, creates two: the last profile's commit point fails.
  const std::vector<ImportedProfile> profiles = {{"alice", "gold=1", 0, {5}, {{"m", "v"}}},
                                                 {"bob", "gold=2", 0, {6}, {}},
                                                 {"zed", "gold=3", 0, {}, {}}};
  auto failed = Admin(*engine_).Import("Players", {"Players", "bytes", "", 0}, profiles);
  EXPECT_CODE(failed, kIOError);
  EXPECT_EQ(EveryRecord(*engine_), before);
  auto fresh = Admin(*engine_).Import("Fresh", kBytesStore, profiles);
  EXPECT_CODE(fresh, kIOError);
  EXPECT_EQ(EveryRecord(*engine_), before);
  EXPECT_CODE(engine_->Registration("Fresh"), kNotFound);  // not even in the cached manifest
}

TEST_F(AdminImportTest, RefusalsBeforeTheTransactionNameTheProfileAndChangeNothing) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"gold=10"});
  const auto before = EveryRecord(*engine_);
  Admin admin(*engine_);
  const ImportedProfile good{"bob", "gold=2", 0, {}, {}};

  auto twice = admin.Import("Players", {"Players", "bytes", "", 0}, {good, good});
  EXPECT_CODE(twice, kInvalidArgument);
  EXPECT_EQ(twice.status().message(),
            "profile #2 ('bob'): the key comes twice; nothing was imported");
  auto codec = admin.Import("Players", {"Players", "json", "", 0}, {good});
  EXPECT_CODE(codec, kInvalidArgument);
  EXPECT_NE(codec.status().message().find("registered with codec 'bytes'"), std::string::npos);
  auto not_json = admin.Import("Docs", {"Docs", "json", "", 0}, {good});
  EXPECT_CODE(not_json, kInvalidArgument);
  EXPECT_NE(not_json.status().message().find("profile #1 ('bob'): not a JSON document"),
            std::string::npos);
  auto bad_key = admin.Import("Players", {"Players", "bytes", "", 0}, {{"", "x", 0, {}, {}}});
  EXPECT_CODE(bad_key, kInvalidArgument);
  auto schema = admin.Import("Players", {"Players", "bytes", "not a schema", 0}, {good});
  EXPECT_CODE(schema, kInvalidArgument);
  EXPECT_EQ(EveryRecord(*engine_), before);
}

TEST_F(AdminImportTest, ALiveSessionRefusesTheImportUnlessItGoesThroughTheLock) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"gold=10"});
  auto holder = players.StartSession("alice");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  const auto before = EveryRecord(*engine_);
  const std::vector<ImportedProfile> profiles = {{"alice", "gold=1", 0, {}, {}},
                                                 {"bob", "gold=2", 0, {}, {}}};

  auto refused = Admin(*engine_).Import("Players", {"Players", "bytes", "", 0}, profiles);
  EXPECT_CODE(refused, kLocked);
  EXPECT_EQ(EveryRecord(*engine_), before);
  EXPECT_TRUE(holder->IsActive());

  auto imported = Admin(*engine_).Import("Players", {"Players", "bytes", "", 0}, profiles,
                                         {.through_lock = true});
  ASSERT_OK(imported);
  EXPECT_EQ(imported->released, 1u);
  EXPECT_EQ(imported->replaced, 1u);
  EXPECT_EQ(imported->created, 1u);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kAdmin);
  EXPECT_EQ(players.Get("alice")->data, "gold=1");
  EXPECT_FALSE(players.Get("alice")->locked);
  EXPECT_CODE(holder->Save(), kLockLost);
}

TEST_F(AdminImportTest, AnOrphanedLockIsTakenOverUnderANewEpochThroughTheLock) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("carol");
  ASSERT_OK(holder);
  // A crash: the lock stays stored, the engine that took it is gone.
  const std::string orphaned = path_ + "-orphan";
  ASSERT_OK(Admin(*engine_).Checkpoint(orphaned));
  ASSERT_OK(holder->EndSession());
  CloseEngine();
  auto engine = Engine::Open(orphaned, Options(/*create=*/false));
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  const uint64_t epoch = Admin(*engine_).Locks()->at(0).holder.epoch;

  const std::vector<ImportedProfile> carol = {{"carol", "gold=9", 0, {}, {}}};
  EXPECT_CODE(Admin(*engine_).Import("Players", {"Players", "bytes", "", 0}, carol), kLocked);
  ASSERT_OK(Admin(*engine_).Import("Players", {"Players", "bytes", "", 0}, carol,
                                   {.through_lock = true}));
  auto now = Admin(*engine_).Inspect("Players", "carol");
  ASSERT_OK(now);
  EXPECT_EQ(now->view.payload, "gold=9");
  EXPECT_FALSE(now->lock.has_value());
  EXPECT_EQ(now->view.version.epoch, epoch + 1);
}

}  // namespace
}  // namespace holdfast::test
