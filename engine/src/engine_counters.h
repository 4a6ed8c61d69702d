// EngineCounters: the engine's statistics as they accumulate (relaxed atomics and latency
// histograms). Every part adds to them; Engine::Stats() reads a snapshot.
#ifndef HOLDFAST_SRC_ENGINE_COUNTERS_H_
#define HOLDFAST_SRC_ENGINE_COUNTERS_H_

#include <atomic>
#include <cstdint>

#include "holdfast/stats.h"
#include "latency_histogram.h"

namespace holdfast::internal {

struct EngineCounters {
  std::atomic<uint64_t> starts{0};
  std::atomic<uint64_t> saves{0};
  std::atomic<uint64_t> saves_skipped{0};
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<uint64_t> conflicts_retried{0};
  std::atomic<uint64_t> handoffs{0};
  std::atomic<uint64_t> trades{0};
  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> orphans_taken_over{0};
  std::atomic<uint64_t> io_errors{0};
  std::atomic<uint64_t> critical_state_entries{0};
  std::atomic<uint64_t> corruptions_repaired{0};
  std::atomic<uint64_t> disagreements{0};
  std::atomic<uint64_t> repairs_refused{0};
  std::atomic<uint64_t> rollbacks{0};
  std::atomic<uint64_t> removals{0};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_delivered{0};
  std::atomic<uint64_t> messages_processed{0};
  std::atomic<uint64_t> handler_exceptions{0};
  std::atomic<uint64_t> profile_commits{0};
  LatencyHistogram start_latency;
  LatencyHistogram save_latency;

  static void Add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  // The counters' part of EngineStats (the caller fills in active sessions, critical state and
  // storage reopens).
  EngineStats Snapshot() const;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ENGINE_COUNTERS_H_
