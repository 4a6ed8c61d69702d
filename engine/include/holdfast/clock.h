// Clock: the engine's source of time. Wall time stamps records (created, updated, version times);
// the monotonic clock drives every timeout, auto-save period and backoff. Both are injectable so
// tests run on a FakeClock and never sleep.
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef HOLDFAST_CLOCK_H_
#define HOLDFAST_CLOCK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace holdfast {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;

  virtual ~Clock() = default;

  // Milliseconds since the Unix epoch; may jump (NTP). Used only for timestamps, never timeouts.
  virtual int64_t WallUnixMillis() const = 0;
  // Time since an arbitrary origin; never goes backwards. Used for every timeout.
  virtual Duration Monotonic() const = 0;

  // Blocks on `cv` (whose mutex `lock` holds) until it is notified, or until Monotonic() reaches
  // `deadline`, or spuriously. Callers loop and re-check their condition and the deadline.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         Duration deadline) const = 0;

  // The process-wide real clock (system_clock and steady_clock).
  static std::shared_ptr<Clock> System();
};

// A clock that moves only when told to. Waits on it return when notified or, at the latest, a
// few real milliseconds later so the caller re-checks the fake time: Advance() never needs to know
// who is waiting. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wall_unix_ms = 1'767'225'600'000 /* 2026-01-01T00:00:00Z */)
      : wall_ms_(wall_unix_ms) {}

  int64_t WallUnixMillis() const override { return wall_ms_.load(); }
  Duration Monotonic() const override { return Duration(mono_ns_.load()); }
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline) const override;

  // Moves both clocks forward by `d`. The wall clock moves first: a thread that sees the new
  // monotonic time (an auto-save that became due) also sees the new wall time it stamps.
  void Advance(Duration d) {
    wall_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    mono_ns_ += d.count();
  }
  // Sets the wall clock only (to test clock jumps); the monotonic clock is unaffected.
  void SetWallUnixMillis(int64_t ms) { wall_ms_ = ms; }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> mono_ns_{0};
};

}  // namespace holdfast

#endif  // HOLDFAST_CLOCK_H_
