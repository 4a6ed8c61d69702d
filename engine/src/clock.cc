#include "holdfast/clock.h"

#include <algorithm>

namespace holdfast {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t WallUnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  Duration Monotonic() const override {
    return std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline) const override {
    cv.wait_until(lock,
                  std::chrono::steady_clock::time_point(
                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline)));
  }
};

}  // namespace

std::shared_ptr<Clock> Clock::System() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

void FakeClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          Duration deadline) const {
  if (Monotonic() >= deadline) return;
  // Bounded real wait: the caller re-checks fake time after at most 2 ms, so Advance() needs no
  // registry of waiters (and cannot race with one).
  cv.wait_for(lock, std::chrono::milliseconds(2));
}

}  // namespace holdfast
