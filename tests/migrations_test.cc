// Schema migrations (issue 13): ordered steps run on stored data older than the code, once; the
// data's schema version is stored with it and never goes down; data from a newer schema is
// refused and left untouched.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "holdfast/json_codec.h"
#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using nlohmann::json;

class MigrationsTest : public SessionTest {
 protected:
  // Step 1 moves "gold" into a wallet; step 2 adds a level. Each counts its runs.
  std::vector<Migration<json>> Steps(size_t n) {
    std::vector<Migration<json>> steps = {
        {"gold-into-wallet",
         [this](json& d) {
           ++runs_[0];
           d["wallet"]["gold"] = d.value("gold", 0);
           d.erase("gold");
           return Status::Ok();
         }},
        {"add-level",
         [this](json& d) {
           ++runs_[1];
           d["level"] = 1;
           return Status::Ok();
         }},
    };
    steps.resize(n);
    return steps;
  }

  Store<JsonCodec> OpenHeroes(size_t steps,
                              std::function<void(StoreOptions<json>&)> tweak = nullptr) {
    StoreOptions<json> options;
    options.template_value = json{{"name", "new"}, {"gold", 0}};
    options.migrations = Steps(steps);
    if (tweak) tweak(options);
    auto store = engine_->OpenStore<JsonCodec>("Heroes", options);
    EXPECT_OK(store);
    return std::move(*store);
  }

  // A profile saved by a server without migrations: {"gold":5,"name":"ann"} in schema 0.
  void SaveOldAnn() {
    auto heroes = OpenHeroes(0);
    auto ann = heroes.StartSession("ann");
    ASSERT_OK(ann);
    ASSERT_OK(ann->Edit([](json& d) { d = json{{"name", "ann"}, {"gold", 5}}; }));
    ASSERT_OK(ann->EndSession());
    ReopenEngine();
  }

  std::optional<internal::ProfileRecord> StoredRecord(const std::string& key) {
    std::string bytes;
    if (!StorageOf(*engine_)
             .Get(internal::Family::kData, internal::EncodeProfileKey("Heroes", key), &bytes)
             .ok()) {
      return std::nullopt;
    }
    auto record = internal::DecodeProfileRecord(bytes);
    if (!record.ok()) return std::nullopt;
    return *record;
  }

  int runs_[2] = {0, 0};
};

const json kMigratedAnn = {{"name", "ann"}, {"wallet", {{"gold", 5}}}, {"level", 1}};

TEST_F(MigrationsTest, AChainRunsInOrderAndItsResultIsStoredAtOnce) {
  SaveOldAnn();
  ASSERT_EQ(StoredRecord("ann")->schema_version, 0u);
  auto heroes = OpenHeroes(2);
  auto ann = heroes.StartSession("ann");
  ASSERT_OK(ann);
  EXPECT_EQ(ann->Data(), kMigratedAnn);
  // Stored before StartSession returned, in schema version 2.
  auto stored = StoredRecord("ann");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->schema_version, 2u);
  EXPECT_EQ(json::parse(stored->payload), kMigratedAnn);
  auto versions = heroes.Versions("ann");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->front().schema_version, 2u);
  EXPECT_EQ(versions->back().schema_version, 0u);  // the history keeps what each version was
  ASSERT_OK(ann->EndSession());

  // The next start finds version 2: no step runs again, not even inside the store's check.
  runs_[0] = runs_[1] = 0;
  auto again = heroes.StartSession("ann");
  ASSERT_OK(again);
  EXPECT_EQ(again->Data(), kMigratedAnn);
  EXPECT_EQ(runs_[0], 0);
  EXPECT_EQ(runs_[1], 0);
  ASSERT_OK(again->EndSession());
}

TEST_F(MigrationsTest, StepsRunFromTheStoredVersionOnly) {
  {
    auto heroes = OpenHeroes(1);  // a server that knows step 1 only
    auto bob = heroes.StartSession("bob");
    ASSERT_OK(bob);
    ASSERT_OK(bob->Edit([](json& d) { d["wallet"]["gold"] = 7; }));
    ASSERT_OK(bob->EndSession());
    EXPECT_EQ(StoredRecord("bob")->schema_version, 1u);
  }
  ReopenEngine();
  runs_[0] = runs_[1] = 0;
  auto heroes = OpenHeroes(2);
  auto bob = heroes.StartSession("bob");
  ASSERT_OK(bob);
  EXPECT_EQ(runs_[0], 0) << "step 1 already ran on the stored data";
  EXPECT_GE(runs_[1], 1);
  EXPECT_EQ(bob->Data()["wallet"]["gold"], 7);
  EXPECT_EQ(bob->Data()["level"], 1);
  EXPECT_EQ(StoredRecord("bob")->schema_version, 2u);
  ASSERT_OK(bob->EndSession());
}

TEST_F(MigrationsTest, ANewProfileStartsInTheCurrentSchemaVersion) {
  auto heroes = OpenHeroes(2);
  auto cy = heroes.StartSession("cy");
  ASSERT_OK(cy);
  EXPECT_EQ(cy->Data(), (json{{"name", "new"}, {"gold", 0}}));  // the template is not migrated
  EXPECT_EQ(StoredRecord("cy")->schema_version, 2u);
  EXPECT_EQ(runs_[0] + runs_[1], 0);
  ASSERT_OK(cy->EndSession());
}

TEST_F(MigrationsTest, DataFromANewerSchemaIsRefusedAndLeftUntouched) {
  SaveOldAnn();
  {
    auto heroes = OpenHeroes(2);
    auto ann = heroes.StartSession("ann");
    ASSERT_OK(ann);
    ASSERT_OK(ann->EndSession());
  }
  ReopenEngine();  // an older server of a rolling deploy: it knows step 1 only
  auto heroes = OpenHeroes(1);
  const auto before = RawRecords("Heroes", "ann");
  auto ann = heroes.StartSession("ann");
  ASSERT_CODE(ann, kInvalidArgument);
  EXPECT_NE(ann.status().message().find("schema version 2"), std::string::npos) << ann.status();
  EXPECT_EQ(RawRecords("Heroes", "ann"), before);
  EXPECT_FALSE(StoredMeta("Heroes", "ann")->lock.has_value());
  auto view = heroes.Get("ann");
  ASSERT_CODE(view, kInvalidArgument);
  EXPECT_NE(view.status().message().find("newer"), std::string::npos) << view.status();
}

TEST_F(MigrationsTest, AStepThatRefusesFailsTheStartAndChangesNothing) {
  SaveOldAnn();
  auto heroes = OpenHeroes(2, [](StoreOptions<json>& o) {
    o.migrations[1].apply = [](json&) { return Status::InvalidArgument("no level table yet"); };
  });
  const auto before = RawRecords("Heroes", "ann");
  auto ann = heroes.StartSession("ann");
  ASSERT_CODE(ann, kInvalidArgument);
  EXPECT_NE(ann.status().message().find("step 2 'add-level'"), std::string::npos) << ann.status();
  EXPECT_NE(ann.status().message().find("no level table yet"), std::string::npos);
  EXPECT_EQ(RawRecords("Heroes", "ann"), before);
  EXPECT_FALSE(StoredMeta("Heroes", "ann")->lock.has_value());
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 0u);
}

TEST_F(MigrationsTest, ValidateJudgesTheMigratedData) {
  SaveOldAnn();
  auto needs_level = [](StoreOptions<json>& o) {
    o.validate = [](const json& d) {
      return d.contains("level") ? Status::Ok() : Status::InvalidArgument("no level");
    };
  };
  {
    // Without the step that adds a level, the stricter check is a disagreement: refused.
    auto heroes = OpenHeroes(1, needs_level);
    const auto before = RawRecords("Heroes", "ann");
    ASSERT_CODE(heroes.StartSession("ann"), kInvalidArgument);
    EXPECT_EQ(RawRecords("Heroes", "ann"), before);
  }
  ReopenEngine();
  auto heroes = OpenHeroes(2, needs_level);
  auto ann = heroes.StartSession("ann");
  ASSERT_OK(ann);
  EXPECT_EQ(ann->Data(), kMigratedAnn);
  ASSERT_OK(ann->EndSession());
  auto view = heroes.Get("ann");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, kMigratedAnn);
}

TEST_F(MigrationsTest, GetMigratesOldVersionsWithoutStoringThem) {
  SaveOldAnn();
  auto heroes = OpenHeroes(2);
  auto old = heroes.Get("ann");
  ASSERT_OK(old);
  EXPECT_EQ(old->data, kMigratedAnn);
  EXPECT_EQ(old->version.schema_version, 0u);  // what is stored, unchanged by a read
  EXPECT_EQ(StoredRecord("ann")->schema_version, 0u);
}

TEST_F(MigrationsTest, ARollbackToAnOlderSchemaIsMigratedAgainAtTheNextStart) {
  SaveOldAnn();
  auto heroes = OpenHeroes(2);
  auto versions_before = heroes.Versions("ann");
  ASSERT_OK(versions_before);
  const uint64_t old_version = versions_before->front().version;  // schema 0
  {
    auto ann = heroes.StartSession("ann");
    ASSERT_OK(ann);
    ASSERT_OK(ann->EndSession());
  }
  ASSERT_OK(heroes.Rollback("ann", old_version));
  EXPECT_EQ(StoredRecord("ann")->schema_version, 0u);  // the version as it was
  auto ann = heroes.StartSession("ann");
  ASSERT_OK(ann);
  EXPECT_EQ(ann->Data(), kMigratedAnn);
  EXPECT_EQ(StoredRecord("ann")->schema_version, 2u);
  ASSERT_OK(ann->EndSession());
}

TEST_F(MigrationsTest, ASecondOpenWithOtherMigrationsIsRefused) {
  auto heroes = OpenHeroes(2);
  StoreOptions<json> other;
  other.template_value = json{{"name", "new"}, {"gold", 0}};
  other.migrations = Steps(1);
  auto again = engine_->OpenStore<JsonCodec>("Heroes", other);
  ASSERT_CODE(again, kInvalidArgument);
  EXPECT_NE(again.status().message().find("schema_version"), std::string::npos) << again.status();
}

TEST_F(MigrationsTest, AStepThatChangesNoByteStillMovesTheStoredVersionOn) {
  SaveOldAnn();
  StoreOptions<json> options;
  options.template_value = json{{"name", "new"}, {"gold", 0}};
  int runs = 0;
  options.migrations = {{"check-only", [&](json&) {
                           ++runs;
                           return Status::Ok();
                         }}};
  auto heroes = engine_->OpenStore<JsonCodec>("Heroes", options);
  ASSERT_OK(heroes);
  auto ann = heroes->StartSession("ann");
  ASSERT_OK(ann);
  EXPECT_EQ(StoredRecord("ann")->schema_version, 1u);  // stored although no byte changed
  ASSERT_OK(ann->EndSession());
  runs = 0;
  auto again = heroes->StartSession("ann");
  ASSERT_OK(again);
  EXPECT_EQ(runs, 0);
  ASSERT_OK(again->EndSession());
}

// The engine itself refuses newer data, also for a byte-level store without the typed layer.
TEST_F(MigrationsTest, AByteLevelStoreRefusesNewerDataToo) {
  StoreSettings newer;
  newer.schema_version = 3;
  {
    auto raw = engine_->OpenRawStore("Blobs", "bytes", newer, "t");
    ASSERT_OK(raw);
    auto s = raw->StartSession("x");
    ASSERT_OK(s);
    ASSERT_OK(s->EndSession());
  }
  ReopenEngine();
  StoreSettings older;
  older.schema_version = 2;
  auto raw = engine_->OpenRawStore("Blobs", "bytes", older, "t");
  ASSERT_OK(raw);
  const auto before = RawRecords("Blobs", "x");
  auto s = raw->StartSession("x");
  ASSERT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.status().message().find("schema version 3"), std::string::npos) << s.status();
  EXPECT_EQ(RawRecords("Blobs", "x"), before);
}

}  // namespace
}  // namespace holdfast::test
