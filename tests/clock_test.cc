// FakeClock: the clock every test and fuzz target drives the engine with.
#include "holdfast/clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
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
//
// The race is a window of a few instructions, so the test needs many reads made while the
// writer is advancing: the writer keeps advancing until the reader has made kMinOverlapping
// reads after the first step, and the test fails if that does not happen within a generous
// real-time deadline rather than passing unobserved. With the two stores swapped, this caught
// the bug in 20 of 20 runs (about 0.3 s each); with 200,000 steps and no minimum of reads it
// caught it in 2 of 5.
TEST(FakeClockTest, AReaderThatSeesTheNewMonotonicTimeSeesTheNewWallTime) {
  FakeClock clock(0);
  constexpr int kMinSteps = 20'000'000;
  constexpr int kMaxSteps = 1'000'000'000;  // the clock must not run past this before the deadline
  constexpr int64_t kMinOverlapping = 10'000'000;
  std::atomic<bool> done{false};
  std::atomic<int64_t> overlapping{0};  // reads made while the writer was advancing
  std::atomic<int64_t> stale{0};
  std::thread reader([&] {
    while (!done.load()) {
      const auto mono = clock.Monotonic();
      const int64_t wall = clock.WallUnixMillis();
      const int64_t mono_ms = std::chrono::duration_cast<std::chrono::milliseconds>(mono).count();
      if (wall < mono_ms) ++stale;
      if (mono_ms > 0) ++overlapping;
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int steps = 0;
  while ((steps < kMinSteps || overlapping.load() < kMinOverlapping) && steps < kMaxSteps &&
         std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 1000; ++i) clock.Advance(1ms);
    steps += 1000;
  }
  const int64_t observed = overlapping.load();
  done = true;
  reader.join();
  EXPECT_GE(observed, kMinOverlapping) << "the reader barely ran while the clock advanced ("
                                       << steps << " steps): the race was not exercised";
  EXPECT_EQ(stale.load(), 0) << "a reader saw the new monotonic time with an old wall time";
  EXPECT_EQ(clock.WallUnixMillis(), steps);
  EXPECT_EQ(clock.Monotonic(), Clock::Duration(std::chrono::milliseconds(steps)));
}

// A passed deadline returns at once, without waiting on the condition variable. Waiting would
// release the caller's mutex for the bounded real wait (2 ms); returning at once never releases
// it. So a second thread trying the mutex all along must never get it while the test thread
// holds it across 200 calls: no timing is asserted, and a clock that waits (400 ms of windows)
// is caught with near certainty.
TEST(FakeClockTest, WaitUntilAPassedDeadlineReturnsAtOnce) {
  FakeClock clock;
  clock.Advance(10s);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> done{false};
  std::atomic<bool> started{false};
  std::atomic<int> acquired_meanwhile{0};
  std::unique_lock lock(mu);
  std::thread prober([&] {
    started = true;
    while (!done.load()) {
      if (mu.try_lock()) {
        if (!done.load()) ++acquired_meanwhile;
        mu.unlock();
      }
      std::this_thread::yield();
    }
  });
  while (!started.load()) std::this_thread::yield();
  for (int i = 0; i < 200; ++i) {
    clock.WaitUntil(cv, lock, Clock::Duration(5s));
    ASSERT_TRUE(lock.owns_lock());
  }
  done = true;
  lock.unlock();
  prober.join();
  EXPECT_EQ(acquired_meanwhile.load(), 0)
      << "WaitUntil released the caller's mutex: it waited although the deadline had passed";
}

// A wait on a deadline still ahead returns without a notification, a few real milliseconds
// later, so that a caller looping on "fake time reached?" sees the time another thread set with
// Advance() (which notifies nobody). With an unbounded wait the waiter would hang: the test
// gives it 30 real seconds and fails instead.
TEST(FakeClockTest, AWaiterSeesAdvanceWithoutANotification) {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> waiting{false};
  const Clock::Duration deadline = clock.Monotonic() + Clock::Duration(1h);
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_lock lock(mu);
    int waits = 0;
    while (clock.Monotonic() < deadline) {
      waiting = true;
      clock.WaitUntil(cv, lock, deadline);
      ++waits;
    }
    return waits;
  });
  while (!waiting.load()) std::this_thread::yield();
  clock.Advance(1h);  // no notify
  const bool returned = waiter.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  if (!returned) {
    cv.notify_all();  // let the hung waiter go, so that the test can end
  }
  ASSERT_TRUE(returned) << "the waiter did not see the fake clock pass its deadline";
  EXPECT_GE(waiter.get(), 1);
}

}  // namespace
}  // namespace holdfast
