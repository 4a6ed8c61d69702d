// FakeClock: the clock every test and fuzz target drives the engine with.
#include "holdfast/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace holdfast {
namespace {

using namespace std::chrono_literals;

TEST(FakeClockTest, AdvanceMovesBothClocksAndSetWallMovesOnlyTheWallClock) {
  FakeClock clock(1'000);
  EXPECT_EQ(clock.WallUnixMillis(), 1'000);
  EXPECT_EQ(clock.Monotonic(), Clock::Duration(0));
  clock.Advance(1500ms);
  EXPECT_EQ(clock.WallUnixMillis(), 2'500);
  EXPECT_EQ(clock.Monotonic(), Clock::Duration(1500ms));
  clock.SetWallUnixMillis(100);
  EXPECT_EQ(clock.WallUnixMillis(), 100);
  EXPECT_EQ(clock.Monotonic(), Clock::Duration(1500ms));
}

// Regression (found by the session_ops fuzzer): Advance() moved the monotonic clock before the
// wall clock, so an auto-save that became due on another thread could stamp its version with the
// old wall time. A reader that sees the new monotonic time must see the new wall time too.
TEST(FakeClockTest, AReaderThatSeesTheNewMonotonicTimeSeesTheNewWallTime) {
  FakeClock clock(0);
  constexpr int kSteps = 200'000;
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0};
  std::thread reader([&] {
    started = true;
    while (!done.load()) {
      const auto mono = clock.Monotonic();
      const int64_t wall = clock.WallUnixMillis();
      if (wall < std::chrono::duration_cast<std::chrono::milliseconds>(mono).count()) ++stale;
    }
  });
  while (!started.load()) std::this_thread::yield();
  for (int i = 0; i < kSteps; ++i) clock.Advance(1ms);
  done = true;
  reader.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_EQ(clock.WallUnixMillis(), kSteps);
  EXPECT_EQ(clock.Monotonic(), Clock::Duration(std::chrono::milliseconds(kSteps)));
}

TEST(FakeClockTest, WaitUntilAPassedDeadlineReturnsAtOnce) {
  FakeClock clock;
  clock.Advance(10s);
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  clock.WaitUntil(cv, lock, Clock::Duration(5s));  // must not block
  EXPECT_TRUE(lock.owns_lock());
}

}  // namespace
}  // namespace holdfast
