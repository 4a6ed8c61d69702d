// Session operations: StartSession latency (cold and warm, small and large database) and
// handoff latency with its commit count.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <vector>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"
#include "raw_rocksdb_baseline.h"

namespace holdfast::bench {
namespace {

constexpr const char* kStartFamily = "StartSession latency";
constexpr const char* kHandoffFamily = "Handoff";

// `samples` distinct profile indices below `profiles`, in random order.
std::vector<size_t> SampleKeys(size_t profiles, int samples, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<size_t> keys;
  std::vector<bool> taken(profiles, false);
  const size_t wanted = std::min<size_t>(profiles, static_cast<size_t>(samples));
  while (keys.size() < wanted) {
    size_t k = random() % profiles;
    if (!taken[k]) {
      taken[k] = true;
      keys.push_back(k);
    }
  }
  return keys;
}

// Times StartSession of ProfileKey(key) (ending the session untimed); -1 on failure.
double TimedStart(Store<BytesCodec>& store, size_t key) {
  auto start = SteadyClock::now();
  auto profile = store.StartSession(ProfileKey(key));
  const double micros = MicrosSince(start);
  if (!profile.ok() || !profile->EndSession().ok()) return -1;
  return micros;
}

}  // namespace

void RunStartLatency(const BenchConfig& config, const std::string& small_db,
                     const std::string& large_db, Report& report) {
  report.Note(kStartFamily,
              "Both populated databases (each profile holding " +
                  std::to_string(config.profile_payload_bytes) +
                  " bytes) are open at once with default options (sync on) and sampled in "
                  "turn, so machine noise falls on both. **Cold**: the first start of a profile "
                  "after the engine opened (RocksDB's block cache empty; the OS page cache is "
                  "not dropped). **Warm**: the same profiles started again. " +
                  std::to_string(config.start_samples) +
                  " starts per database and phase; each session is ended (untimed) before the "
                  "next start. The baseline of each row is the same statistic at " +
                  CountName(config.small_profiles) + " profiles.");
  auto small_engine = OpenEngineOrFail(small_db, BenchEngineOptions(/*sync=*/true));
  auto large_engine = OpenEngineOrFail(large_db, BenchEngineOptions(/*sync=*/true));
  auto small_store = OpenStoreOrFail(*small_engine);
  auto large_store = OpenStoreOrFail(*large_engine);
  const auto small_keys = SampleKeys(config.small_profiles, config.start_samples, 1);
  const auto large_keys = SampleKeys(config.large_profiles, config.start_samples, 2);
  const std::string small_name = CountName(config.small_profiles);
  const std::string large_name = CountName(config.large_profiles);
  for (const char* phase : {"cold", "warm"}) {
    std::vector<double> small_micros, large_micros;
    for (size_t i = 0; i < std::min(small_keys.size(), large_keys.size()); ++i) {
      // Alternate which database goes first, so neither always follows the other's fsync.
      if (i % 2 == 0) small_micros.push_back(TimedStart(small_store, small_keys[i]));
      large_micros.push_back(TimedStart(large_store, large_keys[i]));
      if (i % 2 == 1) small_micros.push_back(TimedStart(small_store, small_keys[i]));
    }
    if (std::count(small_micros.begin(), small_micros.end(), -1.0) +
            std::count(large_micros.begin(), large_micros.end(), -1.0) >
        0) {
      std::fprintf(stderr, "bench: some StartSession calls failed\n");
    }
    const std::string name = std::string("StartSession ") + phase + ", " + large_name + " vs " +
                             small_name + " profiles: ";
    report.Add({kStartFamily, name + "p50", "us", Percentile(large_micros, 0.5),
                Percentile(small_micros, 0.5), "p50 at " + small_name, Target::None()});
    report.Add({kStartFamily, name + "p99", "us", Percentile(large_micros, 0.99),
                Percentile(small_micros, 0.99), "p99 at " + small_name, Target::RatioAtMost(1.5)});
    std::fprintf(stderr, "bench: StartSession %s done\n", phase);
  }
  (void)small_engine->Close();
  (void)large_engine->Close();
}

void RunHandoff(const BenchConfig& config, Report& report) {
  report.Note(kHandoffFamily,
              "A live session is handed off to a new StartSession of the same profile in the "
              "same engine (sync on, 1 KiB payload changed before each handoff); the latency is "
              "the new StartSession's, which waits for the holder's final save (which hands the lock "
              "to the waiting start in the same transaction). Commits are the engine's committed "
              "profile transactions (`Engine::Stats().profile_commits`). Each handoff is followed by "
              "one synced raw RocksDB fenced transaction of the same records (the baseline: one "
              "synced commit), so both see the same disk at the same moments.");
  const std::string dir = config.data_dir + "/handoff";
  FreshDirectory(dir);
  EngineOptions options = BenchEngineOptions(/*sync=*/true);
  auto engine = OpenEngineOrFail(dir + "/holdfast", options);
  auto store = OpenStoreOrFail(*engine);
  const RecordSizes sizes = SteadyStateRecordSizes(*engine, store, "calibration", 1024);
  std::string error;
  auto raw = RawRocksBaseline::Open(dir + "/raw", /*sync=*/true, &error);
  if (!raw) Fail(error);
  auto writer = RawRocksBaseline::MakeWriter("player", sizes, 7);

  auto holder = store.StartSession("player");
  std::string payload;
  FillRandomBytes(&payload, 1024, 9);
  std::vector<double> handoff_micros, commit_micros;
  const uint64_t commits_before = engine->Stats().profile_commits;
  int handoffs = 0;
  for (int i = 0; i < config.handoffs && holder.ok(); ++i) {
    StampCounter(&payload, i);
    (void)holder->Edit([&](std::string& d) { d = payload; });
    auto start = SteadyClock::now();
    auto next = store.StartSession("player");  // hands off from `holder`
    handoff_micros.push_back(MicrosSince(start));
    if (!next.ok()) {
      std::fprintf(stderr, "bench: handoff failed: %s\n", next.status().ToString().c_str());
      break;
    }
    ++handoffs;
    holder = std::move(next);
    start = SteadyClock::now();
    if (raw->Save(writer, RawRocksBaseline::WriteKind::kFencedTransaction)) {
      commit_micros.push_back(MicrosSince(start));
    }
  }
  const double commits =
      handoffs > 0
          ? static_cast<double>(engine->Stats().profile_commits - commits_before) / handoffs
          : 0;
  const std::string commit_name = "one synced raw RocksDB fenced transaction";
  report.Add({kHandoffFamily, "handoff p50 vs one synced commit", "us",
              Percentile(handoff_micros, 0.5), Percentile(commit_micros, 0.5),
              commit_name + ", p50", Target::RatioBelow(2)});
  report.Add({kHandoffFamily, "handoff p99 vs one synced commit", "us",
              Percentile(handoff_micros, 0.99), Percentile(commit_micros, 0.99),
              commit_name + ", p99", Target::None()});
  report.Add({kHandoffFamily, "commits per handoff", "commits", commits, std::nullopt,
              std::to_string(handoffs) + " handoffs", Target::ValueAtMost(2)});
  if (holder.ok()) (void)holder->EndSession();
  (void)engine->Close();
  engine.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace holdfast::bench
