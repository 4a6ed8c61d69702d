// holdfast_crashtest: the crash test (`make crashtest`, scripts/crashtest.sh).
//
//   holdfast_crashtest [--seed=N] [--kills=N] [--dir=PATH]
//       the parent: kills workers N times and checks the database after each kill.
//       Defaults: CRASH_SEED (else random, printed) and CRASH_KILLS (else 100).
//   holdfast_crashtest --worker --dir=PATH ...
//       a worker (started by the parent; reports on file descriptor 3).
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "parent.h"
#include "worker.h"

namespace {

constexpr int kDefaultKills = 100;

std::string SelfPath() {
  char path[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

int Usage() {
  std::fprintf(stderr, "usage: holdfast_crashtest [--seed=N] [--kills=N] [--dir=PATH]\n");
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
  if (const char* seed = std::getenv("CRASH_SEED"); seed && *seed) {
    config.seed = std::strtoull(seed, nullptr, 10);
  } else {
    std::random_device device;
    config.seed = (uint64_t{device()} << 32) ^ device();
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--seed=")) {
      config.seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (arg.starts_with("--kills=")) {
      config.kills = std::atoi(argv[i] + 8);
    } else if (arg.starts_with("--dir=")) {
      config.dir = std::string(arg.substr(6));
    } else {
      return Usage();
    }
  }
  if (config.kills <= 0 || config.self.empty()) return Usage();
  return holdfast::crash::RunParent(config);
}
