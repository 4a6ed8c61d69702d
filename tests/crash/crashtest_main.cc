// holdfast_crashtest: the crash test (`make crashtest`, scripts/crashtest.sh).
//
//   holdfast_crashtest [--seed=N] [--kills=N] [--power-loss=0|1] [--dir=PATH]
//                      [--backend=rocksdb|postgres] [--pg-cluster-script=PATH] [--lease-ms=N]
//       the parent: kills workers N times and checks the database after each kill.
//       --backend (else CRASH_BACKEND, else rocksdb): postgres runs RunPostgresParent (parent.h)
//       on a throwaway cluster that --pg-cluster-script (scripts/pg-test-cluster.sh) starts.
//       Defaults: CRASH_SEED (else kDefaultSeed; printed either way) and CRASH_KILLS (else 100).
//       scripts/crashtest.sh (`make crashtest`) sets a random CRASH_SEED when none is given.
//       Power loss: CRASH_POWER_LOSS (0 never, 1 every kill; else some kills: parent.h).
//   holdfast_crashtest --worker --dir=PATH ...
//       a worker (started by the parent; reports on file descriptor 3).
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parent.h"
#include "worker.h"

namespace {

constexpr int kDefaultKills = 100;
// The seed of a run given none: fixed, so that the ctest smoke run (crashtest_smoke, 3 kills) is
// the same run every time and can be held to a minimum of acknowledged operations (50, in
// tests/CMakeLists.txt). Its three kills land at file-system calls (writes and syncs inside
// commits: counted, not timed), so the run does not depend on the machine's speed: about 330
// acknowledged operations (339, and 324 with the power-loss mode), the same from run to run.
// Over 200 random seeds, 3 kills checked from 4 to about 700.
constexpr uint64_t kDefaultSeed = 197;

std::string SelfPath() {
  char path[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

int Usage() {
  std::fprintf(stderr, "usage: holdfast_crashtest [--seed=N] [--kills=N] [--power-loss=0|1] "
                       "[--dir=PATH] [--backend=rocksdb|postgres] [--pg-cluster-script=PATH] "
                       "[--lease-ms=N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--worker") {
    auto config = holdfast::crash::ParseWorkerArguments(argc, argv);
    if (!config) return Usage();
    holdfast::crash::Worker(*config, /*report_fd=*/3).Run();
  }
  holdfast::crash::ParentConfig config;
  config.self = SelfPath();
  config.kills = kDefaultKills;
  if (const char* kills = std::getenv("CRASH_KILLS"); kills && *kills) config.kills = std::atoi(kills);
  config.seed = kDefaultSeed;
  if (const char* seed = std::getenv("CRASH_SEED"); seed && *seed) {
    config.seed = std::strtoull(seed, nullptr, 10);
  }
  // CRASH_POWER_LOSS / --power-loss=: 0 never, 1 every kill, unset the default (some kills).
  auto power_loss = [&](std::string_view mode) {
    config.power_loss = mode == "0"   ? holdfast::crash::PowerLoss::kOff
                        : mode == "1" ? holdfast::crash::PowerLoss::kAlways
                                      : holdfast::crash::PowerLoss::kSometimes;
  };
  if (const char* mode = std::getenv("CRASH_POWER_LOSS"); mode && *mode) power_loss(mode);
  std::string backend = "rocksdb";
  if (const char* b = std::getenv("CRASH_BACKEND"); b && *b) backend = b;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--seed=")) {
      config.seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (arg.starts_with("--kills=")) {
      config.kills = std::atoi(argv[i] + 8);
    } else if (arg.starts_with("--power-loss=")) {
      power_loss(arg.substr(13));
    } else if (arg.starts_with("--dir=")) {
      config.dir = std::string(arg.substr(6));
    } else if (arg.starts_with("--backend=")) {
      backend = std::string(arg.substr(10));
    } else if (arg.starts_with("--pg-cluster-script=")) {
      config.pg_cluster_script = std::string(arg.substr(20));
    } else if (arg.starts_with("--lease-ms=")) {
      config.lease_ms = std::atoi(argv[i] + 11);
    } else {
      return Usage();
    }
  }
  if (config.kills <= 0 || config.self.empty()) return Usage();
  if (backend == "postgres") {
    if (config.pg_cluster_script.empty() || config.lease_ms < 30) return Usage();
    return holdfast::crash::RunPostgresParent(config);
  }
  if (backend != "rocksdb") return Usage();
  return holdfast::crash::RunParent(config);
}
