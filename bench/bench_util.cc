#include "bench_util.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <thread>

namespace holdfast::bench {

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

double MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
}

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: the smallest sample with at least p of the samples at or below it.
  const double rank = std::ceil(p * static_cast<double>(samples.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return samples[std::min(index, samples.size() - 1)];
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t total_pages = 0;
  uint64_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void FreshDirectory(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
}

uint64_t DirectoryBytes(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  }
  return total;
}

void FillRandomBytes(std::string* out, size_t bytes, uint64_t seed) {
  out->resize(bytes);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;  // xorshift64*, never seeded with zero
  for (size_t i = 0; i < bytes; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t word = x * 0x2545F4914F6CDD1Dull;
    std::memcpy(out->data() + i, &word, std::min<size_t>(8, bytes - i));
  }
}

void StampCounter(std::string* bytes, uint64_t value) {
  std::memcpy(bytes->data(), &value, std::min<size_t>(sizeof value, bytes->size()));
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

std::string CountName(size_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) return std::to_string(n / 1'000'000) + "M";
  if (n >= 1'000 && n % 1'000 == 0) return std::to_string(n / 1'000) + "k";
  return std::to_string(n);
}

std::string ProfileKey(size_t i) {
  char key[32];
  std::snprintf(key, sizeof key, "player-%08zu", i);
  return key;
}

WorkerTotals RunBoundedWorkers(int threads, double seconds, uint64_t max_operations,
                               const std::function<bool(int thread_index)>& operation) {
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::latch ready(threads + 1);
  SteadyClock::time_point start;
  SteadyClock::time_point deadline;
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.arrive_and_wait();
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (SteadyClock::now() < deadline) {
        if (max_operations != 0 && started.fetch_add(1) >= max_operations) break;
        (operation(t) ? ok : failed).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  ready.arrive_and_wait();
  start = SteadyClock::now();
  deadline = start + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  return WorkerTotals{ok.load(), failed.load(), SecondsSince(start)};
}

void RunInTurns(std::vector<ThroughputSystem>& systems, int threads, int rounds,
                double slice_seconds) {
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < systems.size(); ++i) {
      ThroughputSystem& s = systems[(i + round) % systems.size()];
      const WorkerTotals totals = RunBoundedWorkers(threads, slice_seconds, 0, s.operation);
      s.ok += totals.ok;
      s.failed += totals.failed;
      s.seconds += totals.seconds;
    }
  }
  for (const ThroughputSystem& s : systems) {
    if (s.failed != 0) {
      std::fprintf(stderr, "bench: %s had %llu failed operations at %d threads\n", s.name.c_str(),
                   static_cast<unsigned long long>(s.failed), threads);
    }
  }
}

uint64_t ParallelFor(size_t count, int threads, const std::function<bool(size_t i)>& task) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
        if (!task(i)) failures.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& w : workers) w.join();
  return failures.load();
}

}  // namespace holdfast::bench
