// RepairBreakerState: one store's count of starts and of starts that would repair a corrupt
// payload, over a sliding window (StoreSettings::repair_breaker). When repairs become too large
// a share of starts — the signature of a bad deploy, not of damage — it refuses further repairs
// until the share falls again.
//
// The window is kept as ten buckets of a tenth of it each: counts are exact to within one bucket
// and memory is constant whatever the rate of starts.
//
// Thread safety: thread-safe; mu_ is a leaf.
#ifndef HOLDFAST_SRC_REPAIR_BREAKER_H_
#define HOLDFAST_SRC_REPAIR_BREAKER_H_

#include <array>
#include <cstdint>
#include <string>

#include "holdfast/clock.h"
#include "holdfast/status.h"
#include "holdfast/versions.h"
#include "mutex.h"

namespace holdfast::internal {

class RepairBreakerState {
 public:
  explicit RepairBreakerState(const RepairBreaker& limits) : limits_(limits) {}

  // A start (any acquisition attempt) at monotonic time `now`.
  void RecordStart(Clock::Duration now);
  // A start would repair: counts it, then OK when the repair may go ahead, or Corruption (naming
  // the counts) when the breaker is open. `*opened` is set when this call opened it.
  Status AllowRepair(Clock::Duration now, bool* opened);

 private:
  struct Bucket {
    int64_t slot = -1;  // which tenth of the timeline the counts belong to
    uint64_t starts = 0;
    uint64_t repairs = 0;
  };
  static constexpr int kBuckets = 10;

  // The bucket for `now`, emptied if it held an older slot.
  Bucket& Current(Clock::Duration now) REQUIRES(mu_);
  // Sums of the buckets inside the window ending at `now`.
  void Totals(Clock::Duration now, uint64_t* starts, uint64_t* repairs) REQUIRES(mu_);
  int64_t SlotOf(Clock::Duration now) const;

  const RepairBreaker limits_;
  Mutex mu_{LockLevel::kLeaf};
  std::array<Bucket, kBuckets> buckets_ GUARDED_BY(mu_);
  bool open_ GUARDED_BY(mu_) = false;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_REPAIR_BREAKER_H_
