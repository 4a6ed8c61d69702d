// Resident memory per active session and the time Close() takes to end them, each session count
// measured in a fresh process (this program run as `memory-child`), so memory freed by earlier
// cases cannot hide new allocations.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"

namespace holdfast::bench {
namespace {

constexpr const char* kFamily = "Memory and close";
constexpr int kStartThreads = 4;
constexpr size_t kTemplateBytes = 1024;  // as BenchConfig::profile_payload_bytes

struct ChildResult {
  uint64_t rss_before = 0;
  uint64_t rss_after = 0;
  double start_seconds = 0;
  double close_seconds = 0;
};

std::optional<ChildResult> RunChild(const std::string& self, const std::string& db,
                                    size_t sessions) {
  const std::string command =
      "'" + self + "' memory-child '" + db + "' " + std::to_string(sessions);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  ChildResult r;
  unsigned long long before = 0, after = 0;
  const int fields =
      std::fscanf(pipe, "%llu %llu %lf %lf", &before, &after, &r.start_seconds, &r.close_seconds);
  if (pclose(pipe) != 0 || fields != 4) return std::nullopt;
  r.rss_before = before;
  r.rss_after = after;
  return r;
}

}  // namespace

int MemoryChildMain(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s memory-child <db> <sessions>\n", argv[0]);
    return 2;
  }
  const std::string db = argv[2];
  const size_t sessions = std::stoull(argv[3]);
  auto engine = OpenEngineOrFail(db, BenchEngineOptions(/*sync=*/false));
  // Opened as a game opens its store: with its template (the size of the profiles' payloads).
  StoreOptions<std::string> options;
  FillRandomBytes(&options.template_value, kTemplateBytes, 7);
  auto store = OpenStoreOrFail(*engine, options);
  const uint64_t rss_before = ResidentBytes();
  auto start = SteadyClock::now();
  auto profiles = StartSessions(store, sessions, kStartThreads);
  const double start_seconds = SecondsSince(start);
  const uint64_t rss_after = ResidentBytes();
  start = SteadyClock::now();
  Status closed = engine->Close();
  const double close_seconds = SecondsSince(start);
  if (!closed.ok()) {
    std::fprintf(stderr, "bench: close: %s\n", closed.ToString().c_str());
    return 1;
  }
  std::printf("%llu %llu %.6f %.6f\n", static_cast<unsigned long long>(rss_before),
              static_cast<unsigned long long>(rss_after), start_seconds, close_seconds);
  return 0;
}

void RunMemory(const BenchConfig& config, const std::string& large_db, Report& report) {
  const double payload = static_cast<double>(config.profile_payload_bytes);
  report.Note(kFamily,
              "A fresh process opens the large populated database (sync off), notes its resident "
              "set (/proc/self/statm), opens the store with a " +
                  FormatNumber(static_cast<double>(kTemplateBytes)) +
                  "-byte template (as a game opens its store), starts N sessions on profiles of " +
                  FormatNumber(payload) + " bytes on " + std::to_string(kStartThreads) +
                  " threads, keeping every handle, and notes it again: the growth divided by N is "
                  "the memory per active session (everything the engine and RocksDB hold for "
                  "them: the decoded value, the session's state — which keeps a digest of the last "
                  "save, not a copy —, memtable growth from the acquisitions). Then `Engine::Close()` ends all N with a final "
                  "save each, and is timed. The baseline column is the payload size; the target "
                  "is 2x payload + 1 KiB per session.");
  for (size_t sessions : config.memory_sessions) {
    auto r = RunChild(config.self_path, large_db, sessions);
    if (!r) {
      std::fprintf(stderr, "bench: the memory child for %zu sessions failed\n", sessions);
      report.NotMeasured("memory and close at " + CountName(sessions) + " sessions",
                         "the measuring process failed (see the run's stderr)");
      continue;
    }
    const double per_session =
        (static_cast<double>(r->rss_after) - static_cast<double>(r->rss_before)) /
        static_cast<double>(sessions);
    report.Add({kFamily, "resident memory per active session, " + CountName(sessions) + " sessions",
                "bytes", per_session, payload, "payload bytes",
                Target::ValueAtMost(2 * payload + 1024)});
    report.Add({kFamily, "Close() with " + CountName(sessions) + " live sessions (sync off)", "s",
                r->close_seconds, std::nullopt, "",
                sessions >= 100'000 ? Target::ValueBelow(1.0) : Target::None()});
    report.Add({kFamily,
                "starting " + CountName(sessions) + " sessions (sync off, " +
                    std::to_string(kStartThreads) + " threads)",
                "s", r->start_seconds, std::nullopt, "", Target::None()});
    std::fprintf(stderr, "bench: memory at %zu sessions done\n", sessions);
  }
}

}  // namespace holdfast::bench
