// The families of benchmark cases, one file each, and the settings of a run (quick or full).
// Every case measures Holdfast next to a baseline in the same process, on the same disk, and
// adds its Comparisons (with the targets) to the Report.
#ifndef HOLDFAST_BENCH_CASES_H_
#define HOLDFAST_BENCH_CASES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "report.h"

namespace holdfast::bench {

struct BenchConfig {
  std::string mode;             // "quick" or "full"
  std::string data_dir;         // scratch space, on the disk being measured
  std::string chart_data_path;  // the throughput table gnuplot draws
  std::string self_path;        // this program, re-run for measurements needing a fresh process

  // Save throughput: each (system, thread count) runs `save_rounds` slices of this many seconds,
  // the systems taking turns so that noise falls on all of them alike.
  double save_slice_seconds = 1.0;
  int save_rounds = 3;

  // Profiles in the small and large populated databases (StartSession latency, memory, CPU).
  size_t small_profiles = 10'000;
  size_t large_profiles = 1'000'000;
  int start_samples = 4'000;  // StartSession calls timed per database and phase
  size_t profile_payload_bytes = 1024;

  int handoffs = 1'000;
  int messages = 1'000;  // Store::Message calls timed (and as many raw appends)

  std::vector<size_t> memory_sessions = {10'000, 100'000};

  size_t history_profiles = 300;
  int history_days = 100;
  int history_saves_per_day = 12;

  size_t autosave_sessions = 10'000;
  double autosave_window_seconds = 20;

  // PostgreSQL: the throwaway cluster's directory (under /tmp: a socket path must stay short),
  // the thread counts of its save throughput and the timed cross-process handoffs.
  std::string pg_dir;
  std::vector<int> pg_thread_counts = {1, 4, 16};
  int pg_handoffs = 1'000;
};

// Save throughput, sync on and off, 1/4/16/32 threads, 1 KiB and 16 KiB: Holdfast against raw
// RocksDB (fenced transaction and plain WriteBatch) and SQLite. Writes the chart's data.
void RunSaveThroughput(const BenchConfig& config, Report& report);

// StartSession latency p50/p99, cold (first start after open) and warm, in the small and the
// large database, interleaved.
void RunStartLatency(const BenchConfig& config, const std::string& small_db,
                     const std::string& large_db, Report& report);

// Handoff latency and commits per handoff, against one synced raw commit.
void RunHandoff(const BenchConfig& config, Report& report);

// Engine::SaveTogether of two profiles against the same records in one raw RocksDB commit
// (fenced transaction and plain WriteBatch), sync on and off, at 1 and 4 threads.
void RunSaveTogether(const BenchConfig& config, Report& report);

// Latency of Store::Message to a live session of this engine, from the call to its handler,
// against a synced raw RocksDB append that wakes a consumer thread.
void RunMessageDelivery(const BenchConfig& config, Report& report);

// On a throwaway PostgreSQL cluster (started here, removed at the end): save throughput at
// `pg_thread_counts` against raw libpq (appending its block to the chart's data), and the
// latency of a handoff from a holder engine in another process (this program run as
// `pg-holder`, pg_holder.h) against one synced raw libpq commit.
void RunPostgres(const BenchConfig& config, Report& report);

// Resident memory per active session and Close() time, each count in a fresh process (run
// against `large_db`, which must hold at least the largest count of profiles).
void RunMemory(const BenchConfig& config, const std::string& large_db, Report& report);
// The child's side: `bench memory-child <db> <sessions>` prints its measurements on stdout.
int MemoryChildMain(int argc, char** argv);

// Version-history disk use per profile after many saves under the default retention.
void RunHistoryDiskUse(const BenchConfig& config, Report& report);

// CPU cost of auto-saving the sessions of `small_db` at the default period.
void RunAutosaveCpu(const BenchConfig& config, const std::string& small_db, Report& report);

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_CASES_H_
