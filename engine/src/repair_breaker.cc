#include "repair_breaker.h"

#include <algorithm>
#include <chrono>

namespace holdfast::internal {

int64_t RepairBreakerState::SlotOf(Clock::Duration now) const {
  const auto width = std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.window).count() / kBuckets);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() / width;
}

RepairBreakerState::Bucket& RepairBreakerState::Current(Clock::Duration now) {
  const int64_t slot = SlotOf(now);
  Bucket& bucket = buckets_[static_cast<size_t>(slot % kBuckets)];
  if (bucket.slot != slot) bucket = Bucket{slot, 0, 0};
  return bucket;
}

void RepairBreakerState::Totals(Clock::Duration now, uint64_t* starts, uint64_t* repairs) {
  const int64_t slot = SlotOf(now);
  *starts = *repairs = 0;
  for (const Bucket& b : buckets_) {
    if (b.slot > slot - kBuckets && b.slot <= slot) {
      *starts += b.starts;
      *repairs += b.repairs;
    }
  }
}

void RepairBreakerState::RecordStart(Clock::Duration now) {
  MutexLock lock(mu_);
  ++Current(now).starts;
}

Status RepairBreakerState::AllowRepair(Clock::Duration now, bool* opened) {
  *opened = false;
  MutexLock lock(mu_);
  ++Current(now).repairs;
  uint64_t starts = 0;
  uint64_t repairs = 0;
  Totals(now, &starts, &repairs);
  const bool too_many = limits_.max_share < 1.0 && repairs > limits_.min_repairs &&
                        static_cast<double>(repairs) > limits_.max_share * static_cast<double>(starts);
  if (!too_many) {
    open_ = false;
    return Status::Ok();
  }
  *opened = !open_;
  open_ = true;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(limits_.window).count();
  return Status::Corruption(
      "the repair breaker is open: " + std::to_string(repairs) + " of " + std::to_string(starts) +
      " starts of this store in the last " + std::to_string(seconds) +
      " s needed a repair (more than " + std::to_string(static_cast<int>(limits_.max_share * 100)) +
      "%), which looks like a bad deploy rather than damage; this start was refused and nothing "
      "was changed or restored");
}

}  // namespace holdfast::internal
