// Quick session measurements: handoff latency (and commits per handoff) and synced save
// throughput at 1 and 16 threads, each next to a raw RocksDB baseline measured in the same run
// (a synced WriteBatch of the same two records a save writes).
//
// Usage: holdfast_session_bench [directory] [seconds-per-case]
// The directory (default ./holdfast-bench-data) is wiped first. Results go to stdout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "holdfast/holdfast.h"

namespace {

using Clock = std::chrono::steady_clock;

class CommitCounter : public holdfast::FaultHooks {
 public:
  void AfterCommit(const holdfast::CommitPoint&, uint64_t) override { ++commits; }
  std::atomic<uint64_t> commits{0};
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

void MeasureHandoff(const std::string& dir) {
  auto counter = std::make_shared<CommitCounter>();
  holdfast::EngineOptions options;
  options.fault_hooks = counter;
  auto engine = holdfast::Engine::Open(dir + "/handoff", options);
  if (!engine.ok()) return (void)std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
  auto store = (*engine)->OpenStore<holdfast::BytesCodec>("Players", {});
  auto holder = store->StartSession("player");
  constexpr int kHandoffs = 500;
  std::vector<double> micros;
  uint64_t before = counter->commits.load();
  for (int i = 0; i < kHandoffs; ++i) {
    (void)holder->Edit([i](std::string& d) { d = "state-" + std::to_string(i); });
    auto t0 = Clock::now();
    auto next = store->StartSession("player");  // hands off from `holder`
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!next.ok()) return (void)std::fprintf(stderr, "%s\n", next.status().ToString().c_str());
    holder = std::move(next);
  }
  double commits = static_cast<double>(counter->commits.load() - before) / kHandoffs;
  std::printf("handoff (sync on): median %.0f us, p90 %.0f us, %.2f commits per handoff "
              "(%d handoffs)\n",
              Percentile(micros, 0.5), Percentile(micros, 0.9), commits, kHandoffs);
  (void)(*engine)->Close();
}

double HoldfastSaves(const std::string& dir, int threads, double seconds) {
  holdfast::EngineOptions options;
  auto engine = holdfast::Engine::Open(dir, options);
  if (!engine.ok()) return 0;
  auto store = (*engine)->OpenStore<holdfast::BytesCodec>("Players", {});
  std::atomic<uint64_t> saves{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto profile = store->StartSession("player-" + std::to_string(t));
      if (!profile.ok()) return;
      for (uint64_t i = 0; !stop.load(); ++i) {
        (void)profile->Edit([i](std::string& d) { d.assign(200, 'x').append(std::to_string(i)); });
        if (profile->Save().ok()) ++saves;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // benchmark duration
  stop = true;
  for (auto& w : workers) w.join();
  (void)(*engine)->Close();
  return static_cast<double>(saves.load()) / seconds;
}

double RawRocksDBWrites(const std::string& dir, int threads, double seconds) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  std::atomic<uint64_t> writes{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::string key = "player-" + std::to_string(t);
      for (uint64_t i = 0; !stop.load(); ++i) {
        rocksdb::WriteBatch batch;
        std::string value(200, 'x');
        value += std::to_string(i);
        (void)batch.Put("d" + key, value);
        (void)batch.Put("m" + key, std::to_string(i));
        if (db->Write(sync, &batch).ok()) ++writes;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // benchmark duration
  stop = true;
  for (auto& w : workers) w.join();
  return static_cast<double>(writes.load()) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "holdfast-bench-data";
  double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  MeasureHandoff(dir);
  for (int threads : {1, 16}) {
    double holdfast = HoldfastSaves(dir + "/saves-" + std::to_string(threads), threads, seconds);
    double raw = RawRocksDBWrites(dir + "/raw-" + std::to_string(threads), threads, seconds);
    std::printf("synced saves, %2d threads: holdfast %.0f/s, raw RocksDB WriteBatch %.0f/s "
                "(%.0f%% of raw)\n",
                threads, holdfast, raw, raw > 0 ? 100.0 * holdfast / raw : 0.0);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
