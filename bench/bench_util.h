// The benchmark harness's common tools: timing, percentiles, process memory and CPU, directories,
// payload bytes, and a bounded multi-threaded loop. Nothing here knows Holdfast, RocksDB or SQLite.
//
// Thread safety: free functions are safe from any thread; RunBoundedWorkers starts its own
// threads and returns when they have all stopped.
#ifndef HOLDFAST_BENCH_BENCH_UTIL_H_
#define HOLDFAST_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace holdfast::bench {

using SteadyClock = std::chrono::steady_clock;

// Seconds since `start` on the monotonic clock.
double SecondsSince(SteadyClock::time_point start);
double MicrosSince(SteadyClock::time_point start);

// The p-th quantile (0 <= p <= 1) of `samples`, nearest rank; 0 for no samples.
double Percentile(std::vector<double> samples, double p);

// Resident set size of this process in bytes (/proc/self/statm).
uint64_t ResidentBytes();
// User + system CPU time of this process (all threads) in seconds.
double ProcessCpuSeconds();

// Removes `dir` and creates it empty.
void FreshDirectory(const std::filesystem::path& dir);
// Total size of the regular files under `dir`.
uint64_t DirectoryBytes(const std::filesystem::path& dir);

// Fills `out` with `bytes` pseudo-random (incompressible) bytes from `seed`.
void FillRandomBytes(std::string* out, size_t bytes, uint64_t seed);
// Writes `value` into the first 8 bytes of `bytes` (which must hold at least 8), so that every
// write of a record differs from the previous one without regenerating it.
void StampCounter(std::string* bytes, uint64_t value);

// Prints "bench: <what>" on stderr and exits 1: a case that cannot set itself up has nothing
// to report.
[[noreturn]] void Fail(const std::string& what);

// "10k", "1M", "300": a count as the tables name it.
std::string CountName(size_t n);

// The key of the i-th profile of a populated database ("player-00000042").
std::string ProfileKey(size_t i);

// What RunBoundedWorkers measured: operations that succeeded, failed, and the seconds from the
// common start to the last worker's stop.
struct WorkerTotals {
  uint64_t ok = 0;
  uint64_t failed = 0;
  double seconds = 0;
  double PerSecond() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// Runs `operation(thread_index)` on `threads` threads, all released together, until `seconds`
// have passed or `max_operations` (0: no limit) have been started. Each call returns whether the
// operation succeeded. Always bounded: stops by itself.
WorkerTotals RunBoundedWorkers(int threads, double seconds, uint64_t max_operations,
                               const std::function<bool(int thread_index)>& operation);

// One system in a throughput comparison: its name, the operation one thread makes (true when
// it succeeded), and the totals of its slices.
struct ThroughputSystem {
  std::string name;
  std::function<bool(int thread_index)> operation;
  uint64_t ok = 0;
  uint64_t failed = 0;
  double seconds = 0;
  double PerSecond() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// Runs every system for `rounds` slices of `slice_seconds` on `threads` threads, the systems
// taking turns (a different one first each round) so that noise falls on all of them alike,
// and adds each slice's totals to its system. Prints on stderr any failed operations.
void RunInTurns(std::vector<ThroughputSystem>& systems, int threads, int rounds,
                double slice_seconds);

// Runs `task(i)` for i in [0, count) on `threads` threads (work split by an atomic counter).
// Returns how many tasks returned false.
uint64_t ParallelFor(size_t count, int threads, const std::function<bool(size_t i)>& task);

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_BENCH_UTIL_H_
