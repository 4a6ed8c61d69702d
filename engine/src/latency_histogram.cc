#include "latency_histogram.h"

#include <cmath>

namespace holdfast::internal {
namespace {
constexpr double kGrowth = 1.1;  // each bucket is 10% wider than the previous one
}

int LatencyHistogram::BucketOf(uint64_t ns) {
  if (ns < 100) return 0;  // everything under 0.1 µs in the first bucket
  int b = 1 + static_cast<int>(std::log(static_cast<double>(ns) / 100.0) / std::log(kGrowth));
  return b >= kBuckets ? kBuckets - 1 : b;
}

double LatencyHistogram::UpperBoundUs(int bucket) { return 0.1 * std::pow(kGrowth, bucket); }

void LatencyHistogram::Record(std::chrono::nanoseconds latency) {
  uint64_t ns = latency.count() < 0 ? 0 : static_cast<uint64_t>(latency.count());
  counts_[BucketOf(ns)].fetch_add(1, std::memory_order_relaxed);
  uint64_t prev = max_ns_.load(std::memory_order_relaxed);
  while (ns > prev && !max_ns_.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::Summary() const {
  std::array<uint64_t, kBuckets> counts;
  uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    counts[i] = counts_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  LatencySummary s;
  s.count = total;
  s.max_us = static_cast<double>(max_ns_.load(std::memory_order_relaxed)) / 1000.0;
  if (total == 0) return s;
  auto percentile = [&](double p) {
    uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(total)));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return std::min(UpperBoundUs(i), s.max_us);
    }
    return s.max_us;
  };
  s.p50_us = percentile(0.50);
  s.p90_us = percentile(0.90);
  s.p99_us = percentile(0.99);
  return s;
}

}  // namespace holdfast::internal
