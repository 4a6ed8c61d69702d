// Validation that cannot lose progress (issue 13): `validate` runs before every save, so invalid
// data is refused at the save (InvalidArgument, nothing written, the session keeps its data)
// instead of being quarantined at the next load; intact stored data that the running code
// refuses is a disagreement (the start fails, nothing is changed or restored) unless the store
// opts in to repairing it; and a breaker stops mass repairs.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using ValidationTest = SessionTest;

// Refuses any data containing "cursed".
Status NoCurses(const std::string& d) {
  return d.find("cursed") == std::string::npos ? Status::Ok()
                                               : Status::InvalidArgument("cursed item in bag");
}

void WriteRaw(Engine& engine, internal::Family family, const std::string& key,
              const std::string& bytes) {
  ASSERT_OK(internal::RunTransaction(
      StorageOf(engine),
      [&](internal::StorageTransaction& txn) { return txn.Put(family, key, bytes); }));
}

// Saves `data` as the profile's newest version (2) and ends the session.
void WriteProfile(Store<BytesCodec>& players, const std::string& key, const std::string& data) {
  auto p = players.StartSession(key);
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([&](std::string& d) { d = data; }));
  ASSERT_OK(p->EndSession());
}

// --- validate before every save ---

TEST_F(ValidationTest, ASaveOfInvalidDataIsRefusedWritesNothingAndTheSessionKeepsItsData) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.validate = NoCurses; });
  auto p = players.StartSession("ann");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "sword"; }));
  ASSERT_OK(p->Save());
  ASSERT_OK(p->Edit([](std::string& d) { d = "cursed sword"; }));
  const auto before = RawRecords("Players", "ann");

  Status refused = p->Save();
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.message().find("cursed item in bag"), std::string::npos) << refused;
  EXPECT_EQ(RawRecords("Players", "ann"), before);
  EXPECT_TRUE(p->IsActive());
  EXPECT_EQ(p->Data(), "cursed sword");  // the game can still fix it

  // EndSession is refused the same way and keeps the session and its lock.
  EXPECT_CODE(p->EndSession(), kInvalidArgument);
  EXPECT_TRUE(p->IsActive());
  EXPECT_EQ(RawRecords("Players", "ann"), before);
  EXPECT_EQ(StoredMeta("Players", "ann")->lock->session_id, p->Info().session_id);

  ASSERT_OK(p->Edit([](std::string& d) { d = "blessed sword"; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "ann"), "blessed sword");
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 2u);  // each refused save was heard
  EXPECT_EQ(errors[0].operation, FailedOperation::kSave);
  EXPECT_EQ(errors[1].operation, FailedOperation::kFinalSave);
  EXPECT_EQ(errors[1].status.code(), StatusCode::kInvalidArgument);
}

TEST_F(ValidationTest, AnAutoSaveOfInvalidDataIsReportedAndRetriedAndWritesNothing) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.validate = NoCurses; });
  auto p = players.StartSession("bea");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "cursed ring"; }));
  const auto before = RawRecords("Players", "bea");
  clock_->Advance(61s);  // past the auto-save period
  WaitAutosaveIdle(*engine_);
  EXPECT_EQ(RawRecords("Players", "bea"), before);
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kAutoSave);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(errors[0].will_retry);
  EXPECT_TRUE(p->IsActive());
  ASSERT_OK(p->Edit([](std::string& d) { d = "ring"; }));
  clock_->Advance(61s);
  WaitAutosaveIdle(*engine_);
  EXPECT_EQ(StoredPayload("Players", "bea"), "ring");
}

// --- damage and disagreement at load ---

TEST_F(ValidationTest, AStricterValidateOverExistingDataFailsTheStartAndChangesNothing) {
  auto players = OpenPlayers();
  WriteProfile(players, "cal", "cursed amulet");  // valid when it was saved
  ReopenEngine();                                 // a stricter validate is deployed
  players = OpenPlayers([](StoreOptions<std::string>& o) { o.validate = NoCurses; });
  const auto before = RawRecords("Players", "cal");

  auto refused = players.StartSession("cal");
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("cursed item in bag"), std::string::npos)
      << refused.status();
  EXPECT_NE(refused.status().message().find("disagree"), std::string::npos) << refused.status();
  EXPECT_CODE(players.StartSession("cal"), kInvalidArgument);  // and again: nothing restored
  EXPECT_EQ(RawRecords("Players", "cal"), before);
  EXPECT_EQ(engine_->Stats().disagreements, 2u);
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 0u);
  EXPECT_CODE(players.Get("cal"), kInvalidArgument);  // the read-only view applies the check
  auto older = players.Get("cal", 1);                 // the template version passes it
  ASSERT_OK(older);
  EXPECT_EQ(older->data, "new-player");
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kStart);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kInvalidArgument);

  // The fix is deployed (the old code again): the data was never touched and loads as it was.
  ReopenEngine();
  players = OpenPlayers();
  auto p = players.StartSession("cal");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "cursed amulet");
}

TEST_F(ValidationTest, AStoreThatOptsInRepairsADisagreementFromHistory) {
  auto players = OpenPlayers();
  WriteProfile(players, "dan", "cursed helm");  // v2; v1 is the template
  ReopenEngine();
  players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.validate = NoCurses;
    o.repair_disagreement = true;
  });
  auto p = players.StartSession("dan");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "new-player");  // v1, the newest version validate accepts
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 1u);
  RawStore raw = players.raw();
  auto quarantined = raw.Get("dan", 3);
  ASSERT_OK(quarantined);
  EXPECT_EQ(quarantined->version.reason, VersionReason::kQuarantine);
  EXPECT_EQ(quarantined->payload, "cursed helm");  // kept as evidence
}

TEST_F(ValidationTest, DamagedRecordsAreStillRepairedByDefault) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.validate = NoCurses; });
  WriteProfile(players, "eve", "shield");
  WriteRaw(*engine_, internal::Family::kData, internal::EncodeProfileKey("Players", "eve"),
           "torn record");
  auto p = players.StartSession("eve");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "shield");
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 1u);
  EXPECT_EQ(engine_->Stats().disagreements, 0u);
}

// --- the repair breaker ---

TEST_F(ValidationTest, TheRepairBreakerRefusesMassRepairsUntilTheShareFalls) {
  auto tweak = [](StoreOptions<std::string>& o) {
    o.repair_breaker.min_repairs = 2;
    o.repair_breaker.max_share = 0.5;
    o.repair_breaker.window = 60s;
  };
  auto players = OpenPlayers(tweak);
  for (const char* key : {"k1", "k2", "k3"}) WriteProfile(players, key, std::string("gold-") + key);
  ReopenEngine();  // a fresh window: the writes above are not counted
  players = OpenPlayers(tweak);
  for (const char* key : {"k1", "k2", "k3"}) {
    WriteRaw(*engine_, internal::Family::kData, internal::EncodeProfileKey("Players", key),
             "every record torn");
  }
  // Two repairs are within the allowance; the third is more than half the starts and more than
  // min_repairs: refused, changing nothing.
  for (const char* key : {"k1", "k2"}) {
    auto p = players.StartSession(key);
    ASSERT_OK(p);
    EXPECT_EQ(p->Data(), std::string("gold-") + key);
  }
  const auto before = RawRecords("Players", "k3");
  auto refused = players.StartSession("k3");
  EXPECT_CODE(refused, kCorruption);
  EXPECT_NE(refused.status().message().find("repair breaker is open: 3 of 3 starts"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(RawRecords("Players", "k3"), before);
  EXPECT_EQ(engine_->Stats().repairs_refused, 1u);
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 2u);
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].key, "k3");
  EXPECT_EQ(errors[0].operation, FailedOperation::kStart);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kCorruption);

  // Once the window has passed the share is low again and the repair goes ahead.
  clock_->Advance(61s);
  auto p = players.StartSession("k3");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "gold-k3");
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 3u);
}

TEST_F(ValidationTest, BadBreakerSettingsAreRefusedAtOpen) {
  StoreOptions<std::string> options;
  options.repair_breaker.window = 0s;
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("Players", options), kInvalidArgument);
  options = {};
  options.repair_breaker.max_share = -1;
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("Players", options), kInvalidArgument);
  EXPECT_TRUE(engine_->Info().stores.empty());  // nothing was registered
}

}  // namespace
}  // namespace holdfast::test
