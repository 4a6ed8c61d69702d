// Engine statistics: counters since Engine::Open and latency percentiles.
#ifndef HOLDFAST_STATS_H_
#define HOLDFAST_STATS_H_

#include <cstdint>

namespace holdfast {

// Latency percentiles in microseconds, measured on the engine's monotonic clock. Percentiles are
// read from log-spaced buckets (about 10% resolution).
struct LatencySummary {
  uint64_t count = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

struct EngineStats {
  uint64_t active_sessions = 0;
  uint64_t starts = 0;              // successful StartSession calls
  uint64_t saves = 0;               // commits that wrote a payload or released a lock
  uint64_t saves_skipped = 0;       // saves with nothing changed (no write)
  uint64_t bytes_written = 0;       // payload bytes committed
  uint64_t conflicts_retried = 0;   // transactions restarted after Busy/TryAgain
  uint64_t handoffs = 0;            // sessions released to a newer start in this engine
  uint64_t trades = 0;              // Engine::SaveTogether commits (each stores several profiles)
  uint64_t steals = 0;              // locks taken from a live session (steal or handoff timeout)
  uint64_t orphans_taken_over = 0;  // locks left by an engine that is gone, taken over at start
  uint64_t io_errors = 0;           // commits that failed with IOError or ResourceExhausted
  uint64_t storage_reopens = 0;     // database reopened in place to clear a write-stopping error
  uint64_t critical_state_entries = 0;
  uint64_t corruptions_repaired = 0;  // corrupt payloads quarantined and replaced at start
  uint64_t disagreements = 0;    // starts refused: intact data the store's check refuses
  uint64_t repairs_refused = 0;  // starts refused by the repair breaker (StoreSettings)
  uint64_t rollbacks = 0;
  uint64_t removals = 0;          // Store::Remove calls that erased a profile
  uint64_t messages_sent = 0;       // Store::Message calls that stored a message
  uint64_t messages_delivered = 0;  // handler calls
  uint64_t messages_processed = 0;  // removals committed with a save
  uint64_t handler_exceptions = 0;  // exceptions thrown by game code the engine called
  // Transactions that wrote profiles and committed. A handoff inside one engine is one: the
  // holder's final save hands the lock to the waiting start in the same commit.
  uint64_t profile_commits = 0;
  // PostgreSQL: connections opened for transactions and reads (not the lease thread's). It stops
  // growing once the pool holds as many as run at once; growing under a steady load means more
  // run at once than EngineOptions::postgres_idle_connections keeps. 0 on RocksDB.
  uint64_t storage_connections_opened = 0;
  bool critical = false;  // the engine is in its critical state now
  LatencySummary start_latency;
  LatencySummary save_latency;
};

}  // namespace holdfast

#endif  // HOLDFAST_STATS_H_
