// Group commit under concurrency: concurrent synced saves of different profiles all land and
// reload (labelled "concurrency" with the stress test, concurrency_stress_test.cc).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "holdfast/holdfast.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using Handle = Profile<BytesCodec>;

constexpr char kStore[] = "Players";

// Group commit: concurrent synced saves of different profiles all land (they share WAL syncs
// rather than serialising on one thread). Correctness only; no timing is asserted.
TEST(SessionConcurrency, ConcurrentSyncedSavesAllLandAndReload) {
  constexpr int kThreads = 16;
  constexpr int kSavesEach = 20;
  TempDir dir;
  const std::string path = dir.Sub("db");
  EngineOptions options;
  options.sync_writes = true;
  options.conflict_buckets = 1024;
  options.worker_threads = 4;
  StoreOptions<std::string> store_options;
  store_options.template_value = "0";
  store_options.autosave_period = std::chrono::hours(1);  // only the test's own saves write

  {
    auto engine = Engine::Open(path, options);
    ASSERT_OK(engine);
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, store_options);
    ASSERT_OK(players);
    std::vector<Handle> profiles;
    for (int i = 0; i < kThreads; ++i) {
      auto profile = players->StartSession("p" + std::to_string(i));
      ASSERT_OK(profile);
      profiles.push_back(*profile);
    }
    const EngineStats before = (*engine)->Stats();
    std::latch go(kThreads);
    std::vector<std::vector<Status>> results(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        for (int j = 1; j <= kSavesEach; ++j) {
          results[i].push_back(profiles[i].Edit([j](std::string& d) { d = std::to_string(j); }));
          results[i].push_back(profiles[i].Save());
        }
        results[i].push_back(profiles[i].EndSession());
      });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      ASSERT_EQ(results[i].size(), 2u * kSavesEach + 1);
      for (const Status& s : results[i]) EXPECT_OK(s) << "thread " << i;
      EXPECT_FALSE(profiles[i].IsActive());
      EXPECT_EQ(profiles[i].LastSavedData(), std::to_string(kSavesEach));
      EXPECT_EQ(profiles[i].Info().version, 1u + kSavesEach);
    }
    const EngineStats after = (*engine)->Stats();
    // Every save wrote a new payload; every end released the lock.
    EXPECT_EQ(after.saves - before.saves, uint64_t{kThreads} * (kSavesEach + 1));
    EXPECT_EQ(after.saves_skipped, before.saves_skipped);
    EXPECT_EQ(after.io_errors, 0u);
    EXPECT_EQ(after.active_sessions, 0u);
    ASSERT_OK((*engine)->Close());
  }

  auto engine = Engine::Open(path, options);
  ASSERT_OK(engine);
  auto players = (*engine)->OpenStore<BytesCodec>(kStore, store_options);
  ASSERT_OK(players);
  for (int i = 0; i < kThreads; ++i) {
    auto profile = players->StartSession("p" + std::to_string(i));
    ASSERT_OK(profile);
    EXPECT_EQ(profile->Data(), std::to_string(kSavesEach));
    EXPECT_EQ(profile->Info().version, 1u + kSavesEach);
    EXPECT_EQ(profile->Info().epoch, 2u);
    EXPECT_EQ(profile->Info().load_count, 2u);
    EXPECT_OK(profile->EndSession());
  }
  EXPECT_EQ((*engine)->Stats().orphans_taken_over, 0u);
  ASSERT_OK((*engine)->Close());
}

}  // namespace
}  // namespace holdfast::test
