// The storage seam on RocksDB: transactions, conflicts and scans.
#include "internals.h"

#include <gtest/gtest.h>

#include "holdfast/engine.h"
#include "test_util.h"

namespace holdfast::internal {
namespace {

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.memory_volume = MemoryVolume::Create();
    options.conflict_buckets = 1024;
    auto engine = Engine::Open("/storage-test", options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
  }
  Storage& storage() { return test::StorageOf(*engine_); }

  std::unique_ptr<Engine> engine_;
};

TEST_F(StorageTest, CommittedWritesAreVisibleAndDeletesRemove) {
  ASSERT_OK(RunTransaction(
      storage(), [](StorageTransaction& txn) { return txn.Put(Family::kData, "k1", "v1"); }));
  std::string value;
  ASSERT_OK(storage().Get(Family::kData, "k1", &value));
  EXPECT_EQ(value, "v1");
  ASSERT_CODE(storage().Get(Family::kMeta, "k1", &value), kNotFound);  // families are separate
  ASSERT_OK(RunTransaction(
      storage(), [](StorageTransaction& txn) { return txn.Delete(Family::kData, "k1"); }));
  ASSERT_CODE(storage().Get(Family::kData, "k1", &value), kNotFound);
}

TEST_F(StorageTest, ConflictingCommitIsBusyAndWritesNothing) {
  auto first_txn = storage().Begin();
  auto second_txn = storage().Begin();
  ASSERT_OK(first_txn);
  ASSERT_OK(second_txn);
  StorageTransaction* first = first_txn->get();
  StorageTransaction* second = second_txn->get();
  std::string value;
  ASSERT_CODE(first->GetForUpdate(Family::kMeta, "lock", &value), kNotFound);
  ASSERT_CODE(second->GetForUpdate(Family::kMeta, "lock", &value), kNotFound);
  ASSERT_OK(first->Put(Family::kMeta, "lock", "first"));
  ASSERT_OK(second->Put(Family::kMeta, "lock", "second"));
  ASSERT_OK(second->Put(Family::kData, "other", "from-second"));
  ASSERT_OK(first->Commit());
  ASSERT_CODE(second->Commit(), kBusy);
  ASSERT_OK(storage().Get(Family::kMeta, "lock", &value));
  EXPECT_EQ(value, "first");
  ASSERT_CODE(storage().Get(Family::kData, "other", &value), kNotFound);
}

// Close's final saves read a batch's metas in one call: each key is read, absent ones say so,
// and every key read counts in the commit's conflict check as after GetForUpdate.
TEST_F(StorageTest, GetManyForUpdateReadsEveryKeyAndAWriteToAnyOfThemFailsTheCommit) {
  ASSERT_OK(RunTransaction(storage(), [](StorageTransaction& txn) {
    if (Status s = txn.Put(Family::kMeta, "a", "A"); !s.ok()) return s;
    return txn.Put(Family::kMeta, "c", "C");
  }));
  auto reader = storage().Begin();
  ASSERT_OK(reader);
  std::vector<std::optional<std::string>> values;
  ASSERT_OK((*reader)->GetManyForUpdate(Family::kMeta, {"a", "b", "c"}, &values));
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], std::optional<std::string>("A"));
  EXPECT_EQ(values[1], std::nullopt);
  EXPECT_EQ(values[2], std::optional<std::string>("C"));

  // Another transaction changes the last key read: the reader's commit is refused whole.
  ASSERT_OK(RunTransaction(
      storage(), [](StorageTransaction& txn) { return txn.Put(Family::kMeta, "c", "changed"); }));
  ASSERT_OK((*reader)->Put(Family::kMeta, "a", "from-reader"));
  ASSERT_CODE((*reader)->Commit(), kBusy);
  std::string value;
  ASSERT_OK(storage().Get(Family::kMeta, "a", &value));
  EXPECT_EQ(value, "A");

  // A write to a key it did not read is no conflict.
  auto other = storage().Begin();
  ASSERT_OK(other);
  ASSERT_OK((*other)->GetManyForUpdate(Family::kMeta, {"a"}, &values));
  ASSERT_OK(RunTransaction(
      storage(), [](StorageTransaction& txn) { return txn.Put(Family::kMeta, "z", "Z"); }));
  ASSERT_OK((*other)->Put(Family::kMeta, "a", "from-other"));
  ASSERT_OK((*other)->Commit());
  ASSERT_OK(storage().Get(Family::kMeta, "a", &value));
  EXPECT_EQ(value, "from-other");
}

// A key written with PutCovered stays out of RocksDB's conflict check: another commit that
// changed it first does not fail this one, while a change of the covering key (read for update)
// still does. (Holdfast writes a profile's data and versions this way: every writer of them
// also writes the profile's meta.)
TEST_F(StorageTest, ACoveredWriteIsCheckedThroughItsCoveringKeyOnly) {
  ASSERT_OK(RunTransaction(storage(), [](StorageTransaction& txn) {
    if (Status s = txn.Put(Family::kMeta, "p", "meta-1"); !s.ok()) return s;
    return txn.Put(Family::kData, "p", "data-1");
  }));
  auto covered = storage().Begin();
  ASSERT_OK(covered);
  std::string meta;
  ASSERT_OK((*covered)->GetForUpdate(Family::kMeta, "p", &meta));
  ASSERT_OK((*covered)->PutCovered(Family::kData, "p", "data-covered"));
  ASSERT_OK((*covered)->DeleteCovered(Family::kVersions, "p-old"));
  // Another commit writes the covered key only: no conflict.
  ASSERT_OK(RunTransaction(storage(), [](StorageTransaction& txn) {
    return txn.Put(Family::kData, "p", "data-other");
  }));
  ASSERT_OK((*covered)->Put(Family::kMeta, "p", "meta-2"));
  ASSERT_OK((*covered)->Commit());
  std::string value;
  ASSERT_OK(storage().Get(Family::kData, "p", &value));
  EXPECT_EQ(value, "data-covered");
  ASSERT_OK(storage().Get(Family::kMeta, "p", &value));
  EXPECT_EQ(value, "meta-2");

  // One that writes the covering key fails it whole, the covered write included.
  auto fenced = storage().Begin();
  ASSERT_OK(fenced);
  ASSERT_OK((*fenced)->GetForUpdate(Family::kMeta, "p", &meta));
  ASSERT_OK((*fenced)->PutCovered(Family::kData, "p", "data-fenced"));
  ASSERT_OK(RunTransaction(storage(), [](StorageTransaction& txn) {
    return txn.Put(Family::kMeta, "p", "meta-stolen");
  }));
  ASSERT_CODE((*fenced)->Commit(), kBusy);
  ASSERT_OK(storage().Get(Family::kData, "p", &value));
  EXPECT_EQ(value, "data-covered");
}

TEST_F(StorageTest, RunTransactionRetriesOnBusy) {
  int calls = 0;
  uint64_t retries = 0;
  ASSERT_OK(RunTransaction(
      storage(),
      [&](StorageTransaction& txn) -> Status {
        ++calls;
        std::string value;
        Status read = txn.GetForUpdate(Family::kMeta, "counter", &value);
        if (!read.ok() && read.code() != StatusCode::kNotFound) return read;
        if (calls == 1) {
          // Another writer commits between our read and our commit: a real conflict.
          EXPECT_OK(RunTransaction(storage(), [](StorageTransaction& other) {
            return other.Put(Family::kMeta, "counter", "10");
          }));
        }
        int n = value.empty() ? 0 : std::stoi(value);
        return txn.Put(Family::kMeta, "counter", std::to_string(n + 1));
      },
      kDefaultTransactionAttempts, &retries));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(retries, 1u);
  std::string value;
  ASSERT_OK(storage().Get(Family::kMeta, "counter", &value));
  EXPECT_EQ(value, "11");
}

TEST_F(StorageTest, RunTransactionGivesUpWithBusy) {
  int calls = 0;
  Status s = RunTransaction(
      storage(),
      [&](StorageTransaction&) {
        ++calls;
        return Status::Busy("always");
      },
      3);
  ASSERT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_EQ(calls, 3);
}

TEST_F(StorageTest, NonRetryableFailureCommitsNothing) {
  Status s = RunTransaction(storage(), [](StorageTransaction& txn) -> Status {
    EXPECT_OK(txn.Put(Family::kData, "half", "written"));
    return Status::InvalidArgument("caller changed its mind");
  });
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  std::string value;
  ASSERT_CODE(storage().Get(Family::kData, "half", &value), kNotFound);
}

TEST_F(StorageTest, PrefixScanBothDirectionsIncludingOwnWrites) {
  ASSERT_OK(RunTransaction(storage(), [](StorageTransaction& txn) -> Status {
    for (const char* k : {"a", "p\x01", "p\x02", "p\x03", "p\xff", "q"}) {
      if (Status s = txn.Put(Family::kVersions, k, k); !s.ok()) return s;
    }
    return Status::Ok();
  }));
  auto begun = storage().Begin();
  ASSERT_OK(begun);
  StorageTransaction* txn = begun->get();
  ASSERT_OK(txn->Put(Family::kVersions, "p\x02x", "own"));
  ASSERT_OK(txn->Delete(Family::kVersions, "p\x03"));
  std::vector<std::string> forward;
  ASSERT_OK(txn->Scan(Family::kVersions, ScanRange::Prefix("p"), ScanOrder::kForward,
                      [&](std::string_view k, std::string_view) {
                        forward.emplace_back(k);
                        return true;
                      }));
  EXPECT_EQ(forward, (std::vector<std::string>{"p\x01", "p\x02", "p\x02x", "p\xff"}));
  std::vector<std::string> reverse;
  ASSERT_OK(txn->Scan(Family::kVersions, ScanRange::Prefix("p"), ScanOrder::kReverse,
                      [&](std::string_view k, std::string_view) {
                        reverse.emplace_back(k);
                        return reverse.size() < 3;
                      }));
  EXPECT_EQ(reverse, (std::vector<std::string>{"p\xff", "p\x02x", "p\x02"}));
  // Outside the transaction only committed keys show.
  std::vector<std::string> committed;
  ASSERT_OK(storage().Scan(Family::kVersions, ScanRange::Prefix("p"), ScanOrder::kReverse,
                           [&](std::string_view k, std::string_view) {
                             committed.emplace_back(k);
                             return true;
                           }));
  EXPECT_EQ(committed, (std::vector<std::string>{"p\xff", "p\x03", "p\x02", "p\x01"}));
}

TEST(ScanRangeTest, PrefixUpperBoundSkipsTrailingFF) {
  EXPECT_EQ(ScanRange::Prefix("ab").upper, "ac");
  EXPECT_EQ(ScanRange::Prefix(std::string("a\xff\xff", 3)).upper, "b");
  EXPECT_EQ(ScanRange::Prefix(std::string("\xff", 1)).upper, "");
}

TEST_F(StorageTest, ClosedStorageRefusesWork) {
  ASSERT_OK(engine_->Close());
  ASSERT_CODE(storage().Begin(), kClosed);
  std::string value;
  ASSERT_CODE(storage().Get(Family::kData, "k", &value), kClosed);
  ASSERT_CODE(RunTransaction(storage(), [](StorageTransaction&) { return Status::Ok(); }), kClosed);
}

}  // namespace
}  // namespace holdfast::internal
