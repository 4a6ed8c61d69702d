// What Holdfast costs while sessions simply live: the disk its version history takes after many
// saves under the default retention, and the CPU its auto-saver spends at the default period.
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"
#include "raw_rocksdb_baseline.h"

namespace holdfast::bench {
namespace {

constexpr const char* kHistoryFamily = "Version history disk use";
constexpr const char* kAutosaveFamily = "Auto-save CPU";
constexpr int kThreads = 4;  // Holdfast's default worker_threads

}  // namespace

void RunHistoryDiskUse(const BenchConfig& config, Report& report) {
  constexpr auto kSaveSpacing = std::chrono::minutes(10);
  const size_t payload_bytes = config.profile_payload_bytes;
  const int saves = config.history_days * config.history_saves_per_day;
  report.Note(kHistoryFamily,
              "On a fake clock, " + std::to_string(config.history_profiles) +
                  " live profiles "
                  "are each saved " +
                  std::to_string(config.history_saves_per_day) +
                  " times a day, 10 minutes apart, for " + std::to_string(config.history_days) +
                  " days (" + std::to_string(saves) + " saves each, every payload " +
                  std::to_string(payload_bytes) +
                  " fresh random bytes: incompressible, the worst case), under the default "
                  "retention (newest 50, hourly for 7 days, daily for 90 days). After the "
                  "sessions end and the engine closes (memtables flushed, no manual compaction), "
                  "the database directory's size per profile is compared with the payload bytes "
                  "of the versions the retention keeps: the ratio is the storage overhead.");
  const std::string dir = config.data_dir + "/history";
  FreshDirectory(dir);
  auto clock = std::make_shared<FakeClock>();
  EngineOptions options = BenchEngineOptions(/*sync=*/false);
  options.clock = clock;
  auto engine = OpenEngineOrFail(dir, options);
  StoreOptions<std::string> store_options;
  store_options.autosave_period = std::chrono::hours(24 * 365);  // only the explicit saves
  auto store = OpenStoreOrFail(*engine, store_options);
  auto profiles = StartSessions(store, config.history_profiles, kThreads);
  uint64_t failures = 0;
  for (int day = 0; day < config.history_days; ++day) {
    for (int s = 0; s < config.history_saves_per_day; ++s) {
      const uint64_t round = static_cast<uint64_t>(day) * config.history_saves_per_day + s;
      failures += ParallelFor(profiles.size(), kThreads, [&](size_t i) {
        std::string payload;
        FillRandomBytes(&payload, payload_bytes, round * profiles.size() + i);
        (void)profiles[i].Edit([&](std::string& d) { d = std::move(payload); });
        return profiles[i].Save().ok();
      });
      clock->Advance(kSaveSpacing);
    }
    clock->Advance(std::chrono::hours(24) - config.history_saves_per_day * kSaveSpacing);
  }
  if (failures != 0)
    std::fprintf(stderr, "bench: %llu history saves failed\n",
                 static_cast<unsigned long long>(failures));
  double kept_versions = 0;
  double kept_bytes = 0;
  for (size_t i = 0; i < profiles.size(); ++i) {
    VersionQuery all;
    all.limit = 0;
    auto versions = store.Versions(ProfileKey(i), all);
    if (!versions.ok()) continue;
    kept_versions += static_cast<double>(versions->size());
    for (const auto& v : *versions) kept_bytes += static_cast<double>(v.payload_bytes);
  }
  for (auto& p : profiles) (void)p.EndSession();
  if (Status s = engine->Close(); !s.ok()) Fail("closing: " + s.ToString());
  engine.reset();
  const double n = static_cast<double>(config.history_profiles);
  report.Note(kHistoryFamily,
              "Versions kept per profile: " + FormatNumber(kept_versions / n) + " on average.");
  report.Add({kHistoryFamily,
              "disk per profile after " + std::to_string(saves) + " saves (default retention)",
              "bytes", static_cast<double>(DirectoryBytes(dir)) / n, kept_bytes / n,
              "payload bytes of the kept versions", Target::None()});
  std::filesystem::remove_all(dir);
  std::fprintf(stderr, "bench: history disk use done\n");
}

void RunAutosaveCpu(const BenchConfig& config, const std::string& small_db, Report& report) {
  const double period = 60;  // SessionTiming::autosave_period's default, in seconds
  report.Note(kAutosaveFamily,
              std::to_string(config.autosave_sessions) +
                  " sessions are started (default options: sync on, 60 s period, 4 workers) "
                  "and each changed once, so every auto-save writes. The process's CPU time "
                  "(getrusage: all threads, RocksDB's included) is measured over " +
                  FormatNumber(config.autosave_window_seconds) +
                  " s of real time while the auto-saver works through its schedule, and scaled "
                  "to one period. The baseline does the same number of saves as synced raw "
                  "RocksDB fenced transactions of the same records on " +
                  std::to_string(kThreads) + " threads, also measured in CPU seconds.");
  auto engine = OpenEngineOrFail(small_db, BenchEngineOptions(/*sync=*/true));
  auto store = OpenStoreOrFail(*engine);
  const size_t sessions = std::min(config.autosave_sessions, config.small_profiles);
  auto profiles = StartSessions(store, sessions, /*threads=*/16);
  for (size_t i = 0; i < profiles.size(); ++i) {
    (void)profiles[i].Edit([&](std::string& d) { StampCounter(&d, i + 1); });
  }
  const uint64_t saves_before = engine->Stats().saves;
  const double cpu_before = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(config.autosave_window_seconds));
  const double holdfast_cpu = ProcessCpuSeconds() - cpu_before;
  const uint64_t saves = engine->Stats().saves - saves_before;
  const RecordSizes sizes = StoredRecordSizes(*engine, ProfileKey(0));
  (void)engine->Close();
  engine.reset();

  const std::string raw_dir = config.data_dir + "/autosave-raw";
  FreshDirectory(raw_dir);
  std::string error;
  auto raw = RawRocksBaseline::Open(raw_dir, /*sync=*/true, &error);
  if (!raw) Fail(error);
  std::vector<RawRocksBaseline::Writer> writers;
  for (size_t i = 0; i < saves; ++i)
    writers.push_back(RawRocksBaseline::MakeWriter(ProfileKey(i), sizes, i));
  const double raw_cpu_before = ProcessCpuSeconds();
  const uint64_t raw_failures = ParallelFor(writers.size(), kThreads, [&](size_t i) {
    return raw->Save(writers[i], RawRocksBaseline::WriteKind::kFencedTransaction);
  });
  const double raw_cpu = ProcessCpuSeconds() - raw_cpu_before;
  raw.reset();
  std::filesystem::remove_all(raw_dir);
  if (raw_failures != 0)
    std::fprintf(stderr, "bench: %llu raw saves failed\n",
                 static_cast<unsigned long long>(raw_failures));

  const double scale = period / config.autosave_window_seconds;
  report.Note(kAutosaveFamily,
              "In the window: " + std::to_string(saves) + " auto-saves; Holdfast used " +
                  FormatNumber(100 * holdfast_cpu / config.autosave_window_seconds) +
                  "% of one core.");
  report.Add({kAutosaveFamily,
              "CPU of auto-saving " + CountName(sessions) + " sessions per 60 s period", "CPU s",
              holdfast_cpu * scale, raw_cpu * scale, "the same saves as raw fenced transactions",
              Target::None()});
  std::fprintf(stderr, "bench: auto-save CPU done\n");
}

}  // namespace holdfast::bench
