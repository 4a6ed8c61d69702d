// A lock-free histogram of latencies with log-spaced buckets (~10% wide), for Engine::Stats().
#ifndef HOLDFAST_SRC_LATENCY_HISTOGRAM_H_
#define HOLDFAST_SRC_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "holdfast/stats.h"

namespace holdfast::internal {

class LatencyHistogram {
 public:
  void Record(std::chrono::nanoseconds latency);
  LatencySummary Summary() const;

 private:
  static constexpr int kBuckets = 256;
  static int BucketOf(uint64_t ns);
  static double UpperBoundUs(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<uint64_t> max_ns_{0};
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_LATENCY_HISTOGRAM_H_
