// Version history: numbering, listing, read-only views, and retention.
//
// The retention tests compare the kept versions with a model of the policy written from its
// definition (README, "Retention"), not from the engine's code. The randomized one is seeded: a
// fixed seed by default (printed); HOLDFAST_SEED=<n> runs, or replays, another one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "session_test_util.h"
#include "version_history.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using VersionsTest = SessionTest;

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

// The versions `policy` keeps at `now` of a history that wrote `written` (version -> wall time,
// every version ever written, none quarantined): the newest `keep_newest`; the newest version of
// every hour that has one at most `hourly_for` old; the newest of every day that has one at most
// `daily_for` old; nothing else.
std::set<uint64_t> RetainedByPolicy(const std::map<uint64_t, int64_t>& written, int64_t now,
                                    const VersionRetention& policy) {
  std::set<uint64_t> kept;
  auto newest = written.rbegin();
  for (uint32_t i = 0; i < policy.keep_newest && newest != written.rend(); ++i, ++newest) {
    kept.insert(newest->first);
  }
  const int64_t hourly_ms = std::chrono::milliseconds(policy.hourly_for).count();
  const int64_t daily_ms = std::chrono::milliseconds(policy.daily_for).count();
  std::map<int64_t, uint64_t> newest_of_hour;
  std::map<int64_t, uint64_t> newest_of_day;
  for (const auto& [version, at] : written) {  // oldest first: later versions overwrite
    if (now - at <= hourly_ms) newest_of_hour[at / kHourMs] = version;
    if (now - at <= daily_ms) newest_of_day[at / kDayMs] = version;
  }
  for (const auto& [hour, version] : newest_of_hour) kept.insert(version);
  for (const auto& [day, version] : newest_of_day) kept.insert(version);
  return kept;
}

// Lists versions with their age at `now`, at most 12 of them, for failure messages.
std::string DescribeVersions(const std::vector<uint64_t>& versions,
                             const std::map<uint64_t, int64_t>& written, int64_t now) {
  std::string text = std::to_string(versions.size()) + ":";
  for (size_t i = 0; i < versions.size() && i < 12; ++i) {
    text += " v" + std::to_string(versions[i]) + " (" +
            std::to_string((now - written.at(versions[i])) / 60'000) + " min old)";
  }
  return versions.size() > 12 ? text + " ..." : text;
}

// Checks the stored history of `key` against the policy: exactly the versions it keeps, each
// with the wall time and the data it was written with (`data_of`: version -> payload). Fatal,
// so that a loop calling it stops at the first history that is wrong.
void ExpectHistoryFollowsPolicy(Store<BytesCodec>& players, const std::string& key,
                                const std::map<uint64_t, int64_t>& written,
                                const std::map<uint64_t, std::string>& data_of, int64_t now,
                                const VersionRetention& policy) {
  VersionQuery all;
  all.limit = 0;
  auto versions = players.Versions(key, all);
  ASSERT_OK(versions);
  std::set<uint64_t> stored;
  for (const VersionInfo& v : *versions) {
    stored.insert(v.version);
    ASSERT_TRUE(written.count(v.version)) << "version " << v.version << " was never written";
    ASSERT_EQ(v.written_unix_ms, written.at(v.version)) << "version " << v.version;
    ASSERT_FALSE(v.damaged) << "version " << v.version;
  }
  const std::set<uint64_t> expected = RetainedByPolicy(written, now, policy);
  std::vector<uint64_t> pruned_but_kept_by_policy;
  std::vector<uint64_t> kept_but_pruned_by_policy;
  std::set_difference(expected.begin(), expected.end(), stored.begin(), stored.end(),
                      std::back_inserter(pruned_but_kept_by_policy));
  std::set_difference(stored.begin(), stored.end(), expected.begin(), expected.end(),
                      std::back_inserter(kept_but_pruned_by_policy));
  EXPECT_TRUE(pruned_but_kept_by_policy.empty())
      << "versions the policy keeps were pruned: "
      << DescribeVersions(pruned_but_kept_by_policy, written, now);
  EXPECT_TRUE(kept_but_pruned_by_policy.empty())
      << "versions the policy prunes were kept: "
      << DescribeVersions(kept_but_pruned_by_policy, written, now);
  // Nothing outside the window survives, unless it is among the newest.
  const int64_t daily_ms = std::chrono::milliseconds(policy.daily_for).count();
  std::vector<uint64_t> outside_window;
  for (uint64_t v : stored) {
    if (now - written.at(v) > daily_ms && v + policy.keep_newest <= written.rbegin()->first) {
      outside_window.push_back(v);
    }
  }
  EXPECT_TRUE(outside_window.empty()) << "versions older than the window survived: "
                                      << DescribeVersions(outside_window, written, now);
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the history does not follow the policy";
  // Spot-check the content of the oldest, a middle and the newest kept version.
  if (stored.empty()) return;
  for (uint64_t v :
       {*stored.begin(), *std::next(stored.begin(), stored.size() / 2), *stored.rbegin()}) {
    auto view = players.Get(key, v);
    ASSERT_OK(view) << "version " << v;
    ASSERT_EQ(view->data, data_of.at(v)) << "version " << v;
  }
}

uint64_t Seed() {
  if (const char* env = std::getenv("HOLDFAST_SEED"); env && *env) {
    return std::strtoull(env, nullptr, 10);
  }
  return 20260101;
}

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
  // Failed reads change nothing: not the profile read, not the one that does not exist.
  const auto bob_before = RawRecords("Players", "bob");
  ASSERT_FALSE(bob_before.empty());
  EXPECT_CODE(players.Get("nobody"), kNotFound);
  EXPECT_CODE(players.Get("bob", 99), kNotFound);
  EXPECT_CODE(players.Versions("nobody"), kNotFound);
  EXPECT_CODE(players.Get("nobody", 1), kNotFound);
  EXPECT_CODE(players.Get(""), kInvalidArgument);
  EXPECT_EQ(RawRecords("Players", "bob"), bob_before);
  EXPECT_TRUE(RawRecords("Players", "nobody").empty());
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

// 10,000 saves a minute apart (about a week, all inside the hourly tier): exactly the newest 50
// and the newest version of every hour survive, checked every 500 saves and at the end.
TEST_F(VersionsTest, TenThousandSavesStayWithinTheRetentionPolicy) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dave");
  ASSERT_OK(p);
  const VersionRetention policy;
  std::map<uint64_t, int64_t> written = {{1, clock_->WallUnixMillis()}};  // the creation
  std::map<uint64_t, std::string> data_of = {{1, "new-player"}};
  constexpr int kSaves = 10'000;
  for (int i = 0; i < kSaves; ++i) {
    clock_->Advance(1min);  // 10,000 minutes: about 7 days of history
    ASSERT_OK(p->Edit([i](std::string& d) { d = std::to_string(i); }));
    ASSERT_OK(p->Save());
    const uint64_t version = static_cast<uint64_t>(i) + 2;
    ASSERT_EQ(p->Info().version, version);
    written[version] = clock_->WallUnixMillis();
    data_of[version] = std::to_string(i);
    if ((i + 1) % 500 == 0) {
      SCOPED_TRACE("after " + std::to_string(i + 1) + " saves");
      ASSERT_NO_FATAL_FAILURE(ExpectHistoryFollowsPolicy(players, "dave", written, data_of,
                                                         clock_->WallUnixMillis(), policy));
    }
  }
  VersionQuery all;
  all.limit = 0;
  auto versions = players.Versions("dave", all);
  ASSERT_OK(versions);
  // The newest 50 are consecutive, then one per hour of the week: every hour of the 10,000
  // minutes (167 of them) keeps its newest version.
  const uint64_t newest = kSaves + 1;
  ASSERT_EQ(versions->front().version, newest);  // never reused, never pruned
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ((*versions)[i].version, newest - i);
  std::set<int64_t> hours;
  std::set<int64_t> hours_of_newest_50;
  for (size_t i = 0; i < versions->size(); ++i) {
    const int64_t hour = (*versions)[i].written_unix_ms / kHourMs;
    hours.insert(hour);
    if (i < 50) hours_of_newest_50.insert(hour);
  }
  const int64_t first_hour = written.begin()->second / kHourMs;
  const int64_t last_hour = written.rbegin()->second / kHourMs;
  EXPECT_EQ(hours.size(), static_cast<size_t>(last_hour - first_hour + 1));  // 167 hours
  EXPECT_EQ(versions->size(), 50u + hours.size() - hours_of_newest_50.size());
  EXPECT_LE(versions->size(), 50u + 24u * 7u + 1u);
  EXPECT_EQ(p->Info().version, newest);
  const auto before = RawRecords("Players", "dave");
  EXPECT_CODE(players.Get("dave", 2), kNotFound);  // pruned
  EXPECT_EQ(RawRecords("Players", "dave"), before);
  auto newest_view = players.Get("dave", newest);
  ASSERT_OK(newest_view);
  EXPECT_EQ(newest_view->data, std::to_string(kSaves - 1));
}

// About 110 days of saves at random intervals (minutes to half a day) with keep_newest = 5, so
// that the hourly tier, the daily tier and the end of the window all decide what is kept:
// checked against the policy every 25 saves and at the end.
TEST_F(VersionsTest, SavesOverAHundredDaysKeepEveryHourAndDayOfTheWindowAndNothingOlder) {
  VersionRetention policy;
  policy.keep_newest = 5;
  auto players = OpenPlayers([&](StoreOptions<std::string>& o) { o.retention = policy; });
  const uint64_t seed = Seed();
  std::cout << "retention seed " << seed << " (HOLDFAST_SEED=" << seed << " replays)\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto p = players.StartSession("erin");
  ASSERT_OK(p);
  const int64_t start = clock_->WallUnixMillis();
  std::map<uint64_t, int64_t> written = {{1, start}};
  std::map<uint64_t, std::string> data_of = {{1, "new-player"}};
  int saves = 0;
  while (clock_->WallUnixMillis() - start < 110 * kDayMs) {
    // Bursts a few minutes apart (several versions in one hour) and gaps of hours (hours and
    // days without a version).
    const int64_t minutes = rng() % 5 < 3 ? 1 + rng() % 30 : 60 + rng() % 660;
    clock_->Advance(std::chrono::minutes(minutes));
    const std::string value = "save-" + std::to_string(saves);
    ASSERT_OK(p->Edit([&](std::string& d) { d = value; }));
    ASSERT_OK(p->Save());
    ++saves;
    const uint64_t version = p->Info().version;
    ASSERT_EQ(version, static_cast<uint64_t>(saves) + 1);
    written[version] = clock_->WallUnixMillis();
    data_of[version] = value;
    if (saves % 25 == 0) {
      SCOPED_TRACE("after " + std::to_string(saves) + " saves");
      ASSERT_NO_FATAL_FAILURE(ExpectHistoryFollowsPolicy(players, "erin", written, data_of,
                                                         clock_->WallUnixMillis(), policy));
    }
  }
  const int64_t now = clock_->WallUnixMillis();
  ASSERT_NO_FATAL_FAILURE(
      ExpectHistoryFollowsPolicy(players, "erin", written, data_of, now, policy));
  // The workload reached every tier: versions were written older than the window, and the kept
  // ones include daily survivors (older than a week) and hourly ones besides the newest.
  VersionQuery all;
  all.limit = 0;
  auto versions = players.Versions("erin", all);
  ASSERT_OK(versions);
  int daily = 0;
  int hourly = 0;
  for (size_t i = policy.keep_newest; i < versions->size(); ++i) {
    const int64_t age = now - (*versions)[i].written_unix_ms;
    if (age > 7 * kDayMs) {
      ++daily;
    } else {
      ++hourly;
    }
  }
  std::cout << saves << " saves over " << (now - start) / kDayMs << " days: " << versions->size()
            << " kept, " << hourly << " hourly, " << daily << " daily\n";
  EXPECT_GE(now - start, 100 * kDayMs);
  EXPECT_GE(daily, 80);   // one per day for 83 days (90 minus the week), days without a save aside
  EXPECT_GE(hourly, 20);  // of the week's 168 hours, those with a save
}

TEST(RetentionTest, ThinsByHourThenDayAndKeepsQuarantineForTheWindow) {
  using internal::VersionIndexEntry;
  const int64_t hour = 3'600'000;
  const int64_t day = 24 * hour;
  const int64_t now = 200 * day;
  VersionRetention policy;
  policy.keep_newest = 2;
  std::vector<VersionIndexEntry> index;
  uint64_t v = 0;
  auto add = [&](int64_t at, VersionReason reason = VersionReason::kSave) {
    index.push_back({++v, at, static_cast<uint8_t>(reason)});
  };
  add(now - 100 * day);                            // 1: older than 90 days -> pruned
  add(now - 50 * day - 2 * hour);                  // 2: same day as 3, older -> pruned
  add(now - 50 * day - hour);                      // 3: newest of its day -> kept
  add(now - 60 * day, VersionReason::kQuarantine);  // 4: quarantine inside 90 days -> kept
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
