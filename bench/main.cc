// holdfast_bench: the measurement harness behind `make bench` (issue 17). Runs every family of
// cases in one process, on one disk, each next to its baseline, and writes the comparisons as
// JSON and markdown plus the throughput table the chart is drawn from.
//
// Usage: holdfast_bench [--mode quick|full] [--data DIR] [--json PATH] [--markdown PATH]
//                       [--chart-data PATH] [--only FAMILY,...]
//        holdfast_bench memory-child <db> <sessions>     (run by the harness itself)
//        holdfast_bench populate <db> <profiles>         (a database for profiling one case)
//        holdfast_bench profile-save <dir> <saves> <sync 0|1> (one thread's save loop, to profile)
//        holdfast_bench pg-holder <conninfo> <key>       (run by the harness itself)
// DIR (default ./build-bench/bench-data) is wiped first and removed at the end. The PostgreSQL
// cases start a throwaway cluster in /tmp/holdfast-bench-pg-<pid> and remove it.
#include <rocksdb/version.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"
#include "pg_holder.h"
#include "report.h"

namespace holdfast::bench {
namespace {

constexpr int kPopulateThreads = 4;

BenchConfig ConfigFor(const std::string& mode) {
  BenchConfig c;  // the full run: the sizes
  c.mode = mode;
  if (mode == "quick") {  // under two minutes: shorter slices, the 1M database scaled to 100k
    c.save_slice_seconds = 0.2;
    c.save_rounds = 2;
    c.large_profiles = 100'000;
    c.start_samples = 400;
    c.handoffs = 200;
    c.messages = 200;
    c.history_profiles = 50;
    c.autosave_window_seconds = 3;
    c.pg_handoffs = 200;
  }
  return c;
}

std::string ScaleNote(const BenchConfig& c) {
  if (c.mode == "quick") {
    return "Quick mode is scaled down: the large database holds 100k profiles instead of 1M, "
           "save slices are 0.2 s x 2 rounds instead of 1 s x 3, fewer samples; run "
           "`make bench` (full) for the issue's sizes.";
  }
  return "Full mode: the issue's sizes (10k and 1M profiles, 10k and 100k sessions).";
}

std::string FirstLineWith(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      auto colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  }
  return "?";
}

// The mount holding `dir`: "device (type)".
std::string FileSystemOf(const std::string& dir) {
  const std::string path = std::filesystem::weakly_canonical(dir).string();
  std::ifstream mounts("/proc/mounts");
  std::string device, mount_point, type, rest, best = "?";
  size_t best_length = 0;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    if (path.rfind(mount_point, 0) == 0 && mount_point.size() >= best_length) {
      best_length = mount_point.size();
      best = device + " (" + type + ") at " + mount_point;
    }
  }
  return best;
}

void DescribeMachine(const BenchConfig& config, Report& report) {
  utsname name{};
  uname(&name);
  std::ifstream loadavg("/proc/loadavg");
  std::string load1;
  loadavg >> load1;
  report.Machine("CPU", FirstLineWith("/proc/cpuinfo", "model name"));
  report.Machine("cores", std::to_string(std::thread::hardware_concurrency()));
  report.Machine("memory", FirstLineWith("/proc/meminfo", "MemTotal"));
  report.Machine("kernel", std::string(name.sysname) + " " + name.release);
  report.Machine("disk (data directory)", FileSystemOf(config.data_dir));
  report.Machine("load average at start (1 min)", load1);
  report.Machine("compiler", std::string("g++ ") + __VERSION__ + ", " + HOLDFAST_BENCH_BUILD_TYPE);
  report.Machine("RocksDB", std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) +
                                "." + std::to_string(ROCKSDB_PATCH));
  report.Machine("SQLite", sqlite3_libversion());
  report.Machine("Holdfast", std::string(Version()));
}

int Run(int argc, char** argv) {
  std::string mode = "full";
  std::string data_dir = "build-bench/bench-data";
  std::string json = "docs/benchmarks.json";
  std::string markdown = "docs/benchmarks.md";
  std::string chart_data = "build-bench/benchmarks-throughput.dat";
  std::string only;  // comma-separated families to run; empty: all
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    std::string* target = flag == "--mode"         ? &mode
                          : flag == "--data"       ? &data_dir
                          : flag == "--json"       ? &json
                          : flag == "--markdown"   ? &markdown
                          : flag == "--chart-data" ? &chart_data
                          : flag == "--only"       ? &only
                                                   : nullptr;
    if (target == nullptr) {
      std::fprintf(stderr, "bench: unknown flag %s\n", flag.c_str());
      return 2;
    }
    *target = argv[i + 1];
  }
  if (mode != "quick" && mode != "full") {
    std::fprintf(stderr, "bench: --mode must be quick or full\n");
    return 2;
  }
  BenchConfig config = ConfigFor(mode);
  config.data_dir = data_dir;
  config.chart_data_path = chart_data;
  config.self_path = std::filesystem::read_symlink("/proc/self/exe").string();
  config.pg_dir = "/tmp/holdfast-bench-pg-" + std::to_string(::getpid());
  FreshDirectory(config.data_dir);
  Report report(mode, ScaleNote(config));
  DescribeMachine(config, report);
  const auto start = SteadyClock::now();
  // Runs one family and says on stderr how long it took (the quick mode's budget is 2 minutes).
  // With --only, a family runs when its name is in the list (for profiling one of them; the
  // report then holds only those rows).
  auto wants = [&only](const char* family) {
    return only.empty() ||
           ("," + only + ",").find(std::string(",") + family + ",") != std::string::npos;
  };
  auto timed = [&wants](const char* family, const std::function<void()>& run) {
    if (std::strcmp(family, "populating") != 0 && !wants(family)) return;
    const auto family_start = SteadyClock::now();
    run();
    std::fprintf(stderr, "bench: %s took %.1f s\n", family, SecondsSince(family_start));
  };

  timed("save throughput", [&] { RunSaveThroughput(config, report); });
  timed("handoff", [&] { RunHandoff(config, report); });
  timed("SaveTogether", [&] { RunSaveTogether(config, report); });
  timed("message delivery", [&] { RunMessageDelivery(config, report); });
  timed("PostgreSQL", [&] { RunPostgres(config, report); });

  const std::string small_db = config.data_dir + "/profiles-small";
  const std::string large_db = config.data_dir + "/profiles-large";
  timed("populating", [&] {
    if (!wants("StartSession latency") && !wants("memory") && !wants("auto-save CPU")) return;
    PopulateProfiles(small_db, config.small_profiles, config.profile_payload_bytes,
                     kPopulateThreads);
    PopulateProfiles(large_db, config.large_profiles, config.profile_payload_bytes,
                     kPopulateThreads);
  });
  timed("StartSession latency", [&] { RunStartLatency(config, small_db, large_db, report); });
  timed("memory", [&] { RunMemory(config, large_db, report); });
  timed("auto-save CPU", [&] { RunAutosaveCpu(config, small_db, report); });
  timed("history disk use", [&] { RunHistoryDiskUse(config, report); });

  std::filesystem::remove_all(config.data_dir);
  std::fprintf(stderr, "bench: all cases done in %.1f s\n", SecondsSince(start));
  return report.WriteJson(json) && report.WriteMarkdown(markdown) ? 0 : 1;
}

}  // namespace
}  // namespace holdfast::bench

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "memory-child") == 0) {
    return holdfast::bench::MemoryChildMain(argc, argv);
  }
  if (argc > 1 && std::strcmp(argv[1], "pg-holder") == 0) {
    return holdfast::bench::PgHolderMain(argc, argv);
  }
  if (argc > 1 && std::strcmp(argv[1], "profile-save") == 0) {
    return holdfast::bench::ProfileSaveMain(argc, argv);
  }
  if (argc == 4 && std::strcmp(argv[1], "populate") == 0) {
    holdfast::bench::PopulateProfiles(argv[2], std::stoull(argv[3]), 1024, 4);
    return 0;
  }
  return holdfast::bench::Run(argc, argv);
}
