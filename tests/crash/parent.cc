#include "parent.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "checker.h"
#include "model.h"
#include "protocol.h"
#include "sync_journal.h"
#include "worker.h"
#include "worker_process.h"

namespace holdfast::crash {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kKeys = 12;
// Longest a worker may stay silent before it counts as hung.
constexpr auto kSilenceLimit = 60s;

// When the parent kills the worker.
enum class Moment { kDelay, kAfterIntent, kFileOp, kOpen, kFlush, kCompaction };
constexpr const char* kMomentNames[] = {"delay", "after-intent", "file-op",
                                        "open",  "flush",        "compaction"};

struct Plan {
  Moment moment;
  uint64_t n = 0;                    // the intent, or the kill point's call number
  std::chrono::microseconds delay{};  // real time from the start (kDelay) or after the intent
};

Plan ChoosePlan(std::mt19937_64& rng, WorkerConfig& worker) {
  static const std::discrete_distribution<int> kWeights{20, 30, 20, 10, 10, 10};
  auto weights = kWeights;
  Plan plan{static_cast<Moment>(weights(rng))};
  switch (plan.moment) {
    case Moment::kDelay:
      plan.delay = std::chrono::microseconds(rng() % 150'000);
      break;
    case Moment::kAfterIntent:
      plan.n = 1 + rng() % worker.operations;
      plan.delay = std::chrono::microseconds(rng() % 300);
      break;
    case Moment::kFileOp:
      worker.kill_point = "fileop";
      worker.kill_at = 1 + rng() % (2 * worker.operations);
      break;
    case Moment::kOpen:
      worker.kill_point = "open";
      worker.kill_at = 1 + rng() % 40;
      break;
    case Moment::kFlush:
    case Moment::kCompaction:
      worker.kill_point = plan.moment == Moment::kFlush ? "flush" : "compaction";
      worker.kill_at = 1 + rng() % 4;
      worker.operations *= 3;  // give the background work time to start
      break;
  }
  return plan;
}

// Busy-waits: the randomized real-time moment of a kill (the one timed wait that is the point).
void SpinFor(std::chrono::microseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) std::this_thread::yield();
}

// One worker's life: spawn, follow its messages, kill it at the planned moment, reap it.
class Run {
 public:
  Run(const ParentConfig& config, const std::string& log, Model& model, Violations& v)
      : config_(config), log_(log), model_(model), v_(v) {}

  // Returns true when the kill landed at the planned moment (false: a fallback kill).
  bool Execute(const WorkerConfig& worker, const Plan& plan) {
    Spawn(worker);
    const auto started = Clock::now();
    auto last_heard = started;
    bool hit = false;
    std::string buffer;
    for (bool open = true; open;) {
      auto timeout = 1000ms;
      if (!killed_ && plan.moment == Moment::kDelay) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            started + plan.delay - Clock::now());
        if (left <= 0ms) {
          hit = true;
          Kill();
          continue;
        }
        timeout = std::min(timeout, left);
      }
      pollfd p{fd_, POLLIN, 0};
      int ready = poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready == 0) {
        if (!killed_ && Clock::now() - last_heard > kSilenceLimit) {
          v_.Add("the worker hung (silent for 60 s); killing it");
          Kill();
        }
        continue;
      }
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // every writer is gone: the worker died
      last_heard = Clock::now();
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, newline);
        buffer.erase(0, newline + 1);
        auto message = ParseMessage(line);
        if (!message) continue;
        model_.Apply(*message);
        if (killed_) continue;
        if (message->kind == "paused") {
          hit = true;
          Kill();
        } else if (message->kind == "budget" || message->kind == "open-failed") {
          Kill();
        } else if (message->kind == "intent" && plan.moment == Moment::kAfterIntent &&
                   ++intents_ == plan.n) {
          SpinFor(plan.delay);
          hit = true;
          Kill();
        }
      }
    }
    close(fd_);
    Reap();
    return hit;
  }

 private:
  void Spawn(const WorkerConfig& worker) {
    WorkerProcess process = SpawnWorker(config_.self, worker, log_);
    pid_ = process.pid;
    fd_ = process.fd;
  }

  void Kill() {
    kill(pid_, SIGKILL);
    killed_ = true;
  }

  void Reap() {
    if (std::string how = ReapWorker(pid_, killed_, log_); !how.empty()) v_.Add(how);
  }

  const ParentConfig& config_;
  const std::string& log_;
  Model& model_;
  Violations& v_;
  pid_t pid_ = -1;
  int fd_ = -1;
  bool killed_ = false;
  uint64_t intents_ = 0;
};

}  // namespace

int RunParent(const ParentConfig& config) {
  std::string dir = config.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "holdfast-crash-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
  }
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/db";
  const std::string log = dir + "/workers.log";
  const std::string journal = dir + "/sync-journal";
  std::printf("crashtest: seed %llu (replay: CRASH_SEED=%llu), %d kills, directory %s\n",
              static_cast<unsigned long long>(config.seed),
              static_cast<unsigned long long>(config.seed), config.kills, dir.c_str());

  Violations violations;
  Model model(kKeys, violations);
  Checker checker(db, model, violations);
  std::mt19937_64 rng(config.seed);
  std::mt19937_64 loss_rng(config.seed ^ 0x706f7765722d6c6fULL);    // "power-lo"
  std::mt19937_64 damage_rng(config.seed ^ 0x64616d6167652121ULL);  // "damage!!"
  std::map<Moment, std::pair<int, int>> moments;  // planned, landed
  const auto began = Clock::now();
  int engine_checks = 0;
  int power_losses = 0;
  PowerLossCut cut_total;
  for (int k = 1; k <= config.kills; ++k) {
    WorkerConfig worker;
    worker.dir = db;
    worker.seed = rng();
    worker.first_op = model.next_op();
    worker.operations = 50 + static_cast<int>(rng() % 350);
    worker.keys = kKeys;
    worker.sync = rng() % 4 == 0;
    // Power loss only where the engine promises durability: with sync_writes on, an acknowledged
    // save survives it; without, the most recent commits may be lost. Its own generator keeps
    // the workers' choices (and so the fixed-seed smoke run) as they were before the mode.
    const bool loss_draw = loss_rng() % 4 != 0;
    bool power_loss = false;
    if (config.power_loss == PowerLoss::kAlways) {
      worker.sync = true;
      power_loss = true;
    } else if (config.power_loss == PowerLoss::kSometimes) {
      power_loss = worker.sync && loss_draw;
    }
    if (power_loss) {
      std::filesystem::remove(journal);
      worker.sync_journal = journal;
    }
    worker.autosave_ms = 5 + static_cast<int>(rng() % 200);
    const Plan plan = ChoosePlan(rng, worker);
    violations.SetContext("kill " + std::to_string(k) + ", " + kMomentNames[int(plan.moment)] +
                          (power_loss ? ", power loss" : ""));

    model.BeginRun();
    Run run(config, log, model, violations);
    const bool hit = run.Execute(worker, plan);
    moments[plan.moment].first += 1;
    moments[plan.moment].second += hit ? 1 : 0;
    if (power_loss) {
      // The worker is dead: cut its files back to what it synced, as a power cut would have.
      auto cut = ApplyPowerLoss(journal);
      if (!cut.ok()) {
        violations.Add("power loss: " + cut.status().ToString());
      } else {
        ++power_losses;
        cut_total.files_cut += cut->files_cut;
        cut_total.bytes_dropped += cut->bytes_dropped;
        cut_total.records += cut->records;
      }
    }

    const uint64_t violations_before = violations.count();
    checker.VerifyStored();
    if (power_loss) {
      // A power loss that broke a rule keeps its journal (what was synced) beside the database.
      if (violations.count() > violations_before) {
        std::error_code ignored;
        std::filesystem::rename(journal, journal + ".kill" + std::to_string(k), ignored);
      }
      std::filesystem::remove(journal);
    }
    if (rng() % 3 == 0) {
      checker.TakeOverWithEngine();
      ++engine_checks;
    }
    // Bit rot between runs: the next start of the profile must quarantine and repair it.
    if (damage_rng() % 4 == 0) checker.DamageOne(damage_rng, k);
    if (k % 25 == 0) {
      std::printf("crashtest: %d/%d kills, %llu acknowledged operations, %llu violations, %llds\n",
                  k, config.kills, static_cast<unsigned long long>(model.acknowledged()),
                  static_cast<unsigned long long>(violations.count()),
                  static_cast<long long>(
                      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began)
                          .count()));
      std::fflush(stdout);
    }
  }
  std::printf("crashtest: kill moments (planned/landed; the rest fell back to the end of the "
              "worker's operations):");
  for (const auto& [moment, counts] : moments) {
    std::printf(" %s %d/%d", kMomentNames[int(moment)], counts.first, counts.second);
  }
  std::printf("\ncrashtest: worker messages:");
  for (const auto& [kind, count] : model.message_counts()) {
    std::printf(" %s %llu", kind.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("; %d engine checks took over %llu orphaned locks\n", engine_checks,
              static_cast<unsigned long long>(checker.orphans_taken_over()));
  // A power-loss mode that never dropped a byte tested nothing (the journal or the cut is broken):
  // every run writes unsynced bytes (RocksDB's LOG at least) that a power loss drops.
  if (power_losses >= 3 && cut_total.bytes_dropped == 0) {
    violations.SetContext("end");
    violations.Add(std::to_string(power_losses) + " power losses dropped no unsynced byte");
  }
  // Damage that no start ever repaired tested nothing: with tens of kills, some must be.
  if (config.kills >= 40 && checker.repairs_verified() == 0) {
    violations.SetContext("end");
    violations.Add(std::to_string(checker.damages()) +
                   " damaged records, and no repair was found in the stored history");
  }
  std::printf("crashtest: %llu damaged records, %llu repairs verified in the history, %llu "
              "quarantined and replaced by a rollback before any start\n",
              static_cast<unsigned long long>(checker.damages()),
              static_cast<unsigned long long>(checker.repairs_verified()),
              static_cast<unsigned long long>(checker.damages_overwritten_by_rollback()));
  // A run of tens of kills in which no trade was ever stored checked no conservation.
  if (config.kills >= 40 && !checker.trades_stored()) {
    violations.SetContext("end");
    violations.Add("no trade between vault accounts was ever stored");
  }
  std::printf("crashtest: %llu conservation checks of the vault's items passed\n",
              static_cast<unsigned long long>(checker.conservation_checks()));
  // Mailboxes that never applied a message, or were never erased, checked nothing.
  if (config.kills >= 40 && (model.mail().applied_seen() == 0 || model.mail().erases_seen() == 0)) {
    violations.SetContext("end");
    violations.Add("the mailboxes never applied a message or were never erased");
  }
  std::printf("crashtest: %llu mailbox checks (exactly-once, nothing lost, erasure), up to %llu "
              "messages applied in one mailbox, %llu erases acknowledged\n",
              static_cast<unsigned long long>(model.mail().checks()),
              static_cast<unsigned long long>(model.mail().applied_seen()),
              static_cast<unsigned long long>(model.mail().erases_seen()));
  std::printf("crashtest: %d power losses cut %llu files, dropping %llu unsynced bytes\n",
              power_losses, static_cast<unsigned long long>(cut_total.files_cut),
              static_cast<unsigned long long>(cut_total.bytes_dropped));
  if (violations.count() > 0) {
    std::printf("crashtest: the database and the workers' log are kept in %s\n", dir.c_str());
  } else if (temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::printf("crashtest: %d kills, %llu acknowledged operations checked, %llu violations\n",
              config.kills, static_cast<unsigned long long>(model.acknowledged()),
              static_cast<unsigned long long>(violations.count()));
  std::fflush(stdout);
  return violations.count() > 0 ? 1 : 0;
}

}  // namespace holdfast::crash
