// Version history: numbering, listing, read-only views, and retention.
#include <gtest/gtest.h>

#include <set>

#include "session_test_util.h"
#include "version_history.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using VersionsTest = SessionTest;

TEST_F(VersionsTest, EveryPayloadChangeIsANewVersionEvenForRepeatedBytes) {
  auto players = OpenPlayers();
  auto p = players.StartSession("alice");
  ASSERT_OK(p);
  for (const char* data : {"A", "B", "A"}) {
    ASSERT_OK(p->Edit([&](std::string& d) { d = data; }));
    ASSERT_OK(p->Save());
  }
  ASSERT_OK(p->Edit([](std::string& d) { d = "final"; }));
  ASSERT_OK(p->EndSession());
  auto versions = players.Versions("alice");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 5u);
  std::vector<uint64_t> numbers;
  std::vector<VersionReason> reasons;
  for (const VersionInfo& v : *versions) {
    numbers.push_back(v.version);
    reasons.push_back(v.reason);
    EXPECT_FALSE(v.damaged);
    EXPECT_EQ(v.epoch, 1u);
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{5, 4, 3, 2, 1}));  // newest first
  EXPECT_EQ(reasons, (std::vector<VersionReason>{VersionReason::kEndSession, VersionReason::kSave,
                                                 VersionReason::kSave, VersionReason::kSave,
                                                 VersionReason::kCreate}));
  auto v2 = players.Get("alice", 2);
  ASSERT_OK(v2);
  EXPECT_EQ(v2->data, "A");
  auto v4 = players.Get("alice", 4);
  ASSERT_OK(v4);
  EXPECT_EQ(v4->data, "A");
  EXPECT_EQ(v4->version.payload_bytes, 1u);
}

TEST_F(VersionsTest, GetWorksWhileASessionIsActiveWithoutTheLock) {
  auto players = OpenPlayers();
  auto p = players.StartSession("bob");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "saved"; }));
  ASSERT_OK(p->Save());
  ASSERT_OK(p->Edit([](std::string& d) { d = "unsaved"; }));
  auto view = players.Get("bob");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "saved");
  EXPECT_EQ(view->version.version, 2u);
  EXPECT_EQ(view->version.reason, VersionReason::kSave);
  EXPECT_TRUE(view->locked);
  EXPECT_EQ(view->load_count, 1u);
  EXPECT_TRUE(p->IsActive());  // the read took nothing from the session
  ASSERT_OK(p->Save());
  EXPECT_CODE(players.Get("nobody"), kNotFound);
  EXPECT_CODE(players.Get("bob", 99), kNotFound);
  EXPECT_CODE(players.Versions("nobody"), kNotFound);
  EXPECT_CODE(players.Get(""), kInvalidArgument);
}

TEST_F(VersionsTest, QueryFiltersByTimeLimitAndContinuation) {
  auto players = OpenPlayers();
  auto p = players.StartSession("carol");  // version 1 at t0
  ASSERT_OK(p);
  int64_t t0 = clock_->WallUnixMillis();
  for (int i = 1; i <= 9; ++i) {
    clock_->Advance(1min);
    ASSERT_OK(p->Edit([i](std::string& d) { d = "v" + std::to_string(i); }));
    ASSERT_OK(p->Save());  // version i + 1 at t0 + i minutes
  }
  VersionQuery page;
  page.limit = 4;
  auto first = players.Versions("carol", page);
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ(first->front().version, 10u);
  page.before_version = first->back().version;
  auto second = players.Versions("carol", page);
  ASSERT_OK(second);
  ASSERT_EQ(second->size(), 4u);
  EXPECT_EQ(second->front().version, 6u);
  VersionQuery range;
  range.from_unix_ms = t0 + 3 * 60'000;
  range.to_unix_ms = t0 + 5 * 60'000;
  auto ranged = players.Versions("carol", range);
  ASSERT_OK(ranged);
  ASSERT_EQ(ranged->size(), 3u);
  EXPECT_EQ((*ranged)[0].version, 6u);
  EXPECT_EQ((*ranged)[2].version, 4u);
}

TEST_F(VersionsTest, TenThousandSavesStayWithinTheRetentionPolicy) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dave");
  ASSERT_OK(p);
  constexpr int kSaves = 10'000;
  for (int i = 0; i < kSaves; ++i) {
    clock_->Advance(1min);  // 10,000 minutes: about 7 days of history
    ASSERT_OK(p->Edit([i](std::string& d) { d = std::to_string(i); }));
    ASSERT_OK(p->Save());
  }
  VersionQuery all;
  all.limit = 0;
  auto versions = players.Versions("dave", all);
  ASSERT_OK(versions);
  const VersionRetention policy;
  // The newest 50 are consecutive, then at most one per hour bucket.
  ASSERT_GE(versions->size(), 50u);
  EXPECT_LE(versions->size(), 50u + 24u * 7u + 1u);
  uint64_t newest = kSaves + 1;
  EXPECT_EQ(versions->front().version, newest);  // never reused, never pruned
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ((*versions)[i].version, newest - i);
  std::set<int64_t> hours;
  for (size_t i = 50; i < versions->size(); ++i) {
    int64_t hour = (*versions)[i].written_unix_ms / 3'600'000;
    EXPECT_TRUE(hours.insert(hour).second) << "two versions kept for hour " << hour;
    EXPECT_FALSE((*versions)[i].damaged);
  }
  EXPECT_EQ(p->Info().version, newest);
  EXPECT_CODE(players.Get("dave", 2), kNotFound);  // pruned
  auto newest_view = players.Get("dave", newest);
  ASSERT_OK(newest_view);
  EXPECT_EQ(newest_view->data, std::to_string(kSaves - 1));
}

TEST(RetentionTest, ThinsByHourThenDayAndKeepsQuarantineForTheWindow) {
  using internal::RecordReason;
  using internal::VersionIndexEntry;
  const int64_t hour = 3'600'000;
  const int64_t day = 24 * hour;
  const int64_t now = 200 * day;
  VersionRetention policy;
  policy.keep_newest = 2;
  std::vector<VersionIndexEntry> index;
  uint64_t v = 0;
  auto add = [&](int64_t at, RecordReason reason = RecordReason::kSave) {
    index.push_back({++v, at, static_cast<uint8_t>(reason)});
  };
  add(now - 100 * day);                            // 1: older than 90 days -> pruned
  add(now - 50 * day - 2 * hour);                  // 2: same day as 3, older -> pruned
  add(now - 50 * day - hour);                      // 3: newest of its day -> kept
  add(now - 60 * day, RecordReason::kQuarantine);  // 4: quarantine inside 90 days -> kept
  add(now - 2 * day - 30 * 60'000);                // 5: same hour as 6, older -> pruned
  add(now - 2 * day - 10 * 60'000);                // 6: newest of its hour -> kept
  add(now - 5 * 60'000);                           // 7: newest two -> kept
  add(now);                                        // 8
  std::vector<uint64_t> pruned = internal::VersionsToPrune(index, now, policy);
  std::sort(pruned.begin(), pruned.end());
  EXPECT_EQ(pruned, (std::vector<uint64_t>{1, 2, 5}));
}

TEST(RetentionTest, NewestIsKeptEvenWhenKeepNewestIsZero) {
  VersionRetention policy;
  policy.keep_newest = 0;
  policy.hourly_for = std::chrono::hours(0);
  policy.daily_for = std::chrono::hours(0);
  std::vector<internal::VersionIndexEntry> index = {{1, 0, 0}, {2, 10, 0}, {3, 20, 0}};
  auto pruned = internal::VersionsToPrune(index, 1'000'000'000, policy);
  std::sort(pruned.begin(), pruned.end());
  EXPECT_EQ(pruned, (std::vector<uint64_t>{1, 2}));
}

}  // namespace
}  // namespace holdfast::test
