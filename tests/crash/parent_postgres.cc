// RunPostgresParent (parent.h): the crash test on PostgreSQL, three workers at once.
//
// Why the workers' profiles are disjoint and only the vault is shared: the model (model.h)
// judges a profile's messages in the order they happened — an acquisition after the previous
// holder's end, a save before the next acquisition — and three workers report on three pipes,
// whose lines the parent reads in no order relative to each other. So every Players profile and
// mailbox belongs to one worker slot ("s0-p00", "s1-m2", ...), whose successive workers report
// in order on one pipe at a time, and the checks of a slot run when its worker is dead and its
// profiles are still. The vault accounts are shared by all three: the workers' engines hand them
// off to each other (a start in one process asks the holder in another to release), steal them
// after the handoff timeout and take a dead worker's over when its lease runs out, while trades
// move items between them. Their rule — the stored items add up — needs no order of messages,
// only a consistent read: the checker reads every table in one snapshot, where each trade is
// whole or absent.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <map>
#include <optional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "checker.h"
#include "model.h"
#include "parent.h"
#include "pg_cluster.h"
#include "protocol.h"
#include "worker.h"
#include "worker_process.h"

namespace holdfast::crash {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kSlots = 3;
constexpr int kKeysPerSlot = 8;
constexpr auto kSilenceLimit = 60s;

// One worker slot: its profiles' model and checker, and the worker now running in it.
struct Slot {
  std::string prefix;
  std::unique_ptr<Model> model;
  std::unique_ptr<Checker> checker;
  // The running worker (pid -1: none).
  WorkerProcess process;
  bool killed = false;
  std::string buffer;
  Clock::time_point last_heard;
  // The plan: kill at `deadline`, or `spin` after the intent numbered `intent` (0: no intent).
  std::optional<Clock::time_point> deadline;
  uint64_t intent = 0;
  uint64_t intents = 0;
  std::chrono::microseconds spin{};
  std::string context;
  std::string application_name;  // of the worker's connections
  uint64_t incarnation = 0;      // of the worker's engine now (its last "hello")
  bool lease_lost = false;
  // Orphan takeovers by other workers that named this worker's engine while the parent had not
  // killed it: violations unless this worker reports that it lost its lease.
  std::vector<std::string> taken_while_alive;
};

// Busy-waits: the randomized real-time moment of a kill (the one timed wait that is the point).
void SpinFor(std::chrono::microseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) std::this_thread::yield();
}

class PostgresRun {
 public:
  PostgresRun(const ParentConfig& config, std::string dir, std::string cluster)
      : config_(config),
        dir_(std::move(dir)),
        cluster_(std::move(cluster)),
        conninfo_("host=" + cluster_ + " dbname=postgres user=postgres"),
        log_(dir_ + "/workers.log"),
        rng_(config.seed) {
    for (int i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[i];
      slot.prefix = "s" + std::to_string(i) + "-";
      slot.model = std::make_unique<Model>(kKeysPerSlot, violations_, slot.prefix);
      slot.model->set_shared_database(true);
      CheckTarget target;
      target.database = conninfo_;
      target.postgres = true;
      target.lease = std::chrono::milliseconds(config.lease_ms);
      target.key_prefix = slot.prefix;
      for (int j = 0; j < kSlots; ++j) {
        if (j != i) target.other_prefixes.push_back("s" + std::to_string(j) + "-");
      }
      slot.checker = std::make_unique<Checker>(target, *slot.model, violations_);
    }
  }

  uint64_t violations() const { return violations_.count(); }
  uint64_t acknowledged() const { return Acknowledged(); }
  int kills() const { return kills_; }

  int Run() {
    const auto began = Clock::now();
    for (Slot& slot : slots_) Start(slot);
    while (Running() > 0) {
      std::vector<pollfd> fds;
      std::vector<Slot*> polled;
      auto timeout = 1000ms;
      for (Slot& slot : slots_) {
        if (slot.process.pid < 0) continue;
        if (!slot.killed && slot.deadline) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*slot.deadline -
                                                                            Clock::now());
          timeout = std::max(0ms, std::min(timeout, left));
        }
        fds.push_back(pollfd{slot.process.fd, POLLIN, 0});
        polled.push_back(&slot);
      }
      const int ready = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
      if (ready < 0 && errno != EINTR) std::abort();
      for (Slot* slot : polled) {
        if (slot->killed || slot->process.pid < 0) continue;
        if (slot->deadline && Clock::now() >= *slot->deadline) {
          slot->deadline.reset();
          ++moments_["delay"].second;
          KillOrCrash(*slot);
        } else if (Clock::now() - slot->last_heard > kSilenceLimit) {
          Context(*slot);
          violations_.Add("the worker hung (silent for 60 s); killing it");
          Kill(*slot);
        }
      }
      for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
        if (fds[i].revents == 0 || polled[i]->process.pid < 0) continue;
        Read(*polled[i]);
      }
      // Here, not where it was chosen: the crash replaces every worker, and the lines a worker
      // wrote after the moment must be applied first, in their order.
      if (crash_requested_) {
        crash_requested_ = false;
        CrashServer();
      }
      if (kills_ > 0 && kills_ % 25 == 0 && kills_ != progress_at_) {
        progress_at_ = kills_;
        std::printf("crashtest: %d/%d kills, %llu acknowledged operations, %llu violations, "
                    "%llds\n",
                    kills_, config_.kills, static_cast<unsigned long long>(Acknowledged()),
                    static_cast<unsigned long long>(violations_.count()),
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began)
                            .count()));
        std::fflush(stdout);
      }
    }
    return Summary();
  }

 private:
  int Running() const {
    int n = 0;
    for (const Slot& slot : slots_) n += slot.process.pid >= 0 ? 1 : 0;
    return n;
  }

  uint64_t Acknowledged() const {
    uint64_t n = 0;
    for (const Slot& slot : slots_) n += slot.model->acknowledged();
    return n;
  }

  void Context(const Slot& slot) { violations_.SetContext(slot.context); }

  void Start(Slot& slot) {
    WorkerConfig worker;
    worker.seed = rng_();
    worker.first_op = slot.model->next_op();
    worker.operations = 50 + static_cast<int>(rng_() % 350);
    worker.keys = kKeysPerSlot;
    // Always on: with sync_writes off the engine's commits run with synchronous_commit = off,
    // which PostgreSQL acknowledges before the WAL is written, so a server crash may lose them by
    // design, and the server crashes here.
    worker.sync = true;
    worker.autosave_ms = 5 + static_cast<int>(rng_() % 200);
    worker.lease_ms = config_.lease_ms;
    worker.key_prefix = slot.prefix;
    slot.deadline.reset();
    slot.intent = 0;
    slot.intents = 0;
    // Kill moments: after a random delay (the engine's open, lease renewals and handoffs
    // included) or right after a random operation's intent. The RocksDB kill points (a write or
    // sync of a file, a flush, a compaction) have no equivalent in a server's storage.
    std::string moment;
    if (rng_() % 5 < 2) {
      moment = "delay";
      slot.deadline = Clock::now() + std::chrono::microseconds(rng_() % 1'500'000);
    } else {
      moment = "after-intent";
      slot.intent = 1 + rng_() % worker.operations;
      slot.spin = std::chrono::microseconds(rng_() % 300);
    }
    ++moments_[moment].first;
    ++runs_;
    // Names the worker's connections in the server (pg_stat_activity), for EndBackends.
    slot.application_name = "holdfast-crash-run-" + std::to_string(runs_);
    worker.dir = conninfo_ + " application_name=" + slot.application_name;
    slot.context = "run " + std::to_string(runs_) + ", slot " + slot.prefix.substr(0, 2) + ", " +
                   moment;
    slot.model->BeginRun();
    slot.killed = false;
    slot.lease_lost = false;
    slot.incarnation = 0;
    slot.taken_while_alive.clear();
    slot.buffer.clear();
    slot.last_heard = Clock::now();
    slot.process = SpawnWorker(config_.self, worker, log_);
  }

  void Kill(Slot& slot) {
    kill(slot.process.pid, SIGKILL);
    slot.killed = true;
  }

  // A planned kill of `slot`'s worker; sometimes the server crashes in its place (when the kill
  // budget has room for the crash and the three workers killed with it): one planned kill in
  // eight, and the first one past half the budget if none did yet, so that every run, the
  // ctest smoke run too, crashes the server at least once.
  void KillOrCrash(Slot& slot) {
    const bool due = server_crashes_ == 0 && kills_ >= config_.kills / 2;
    if ((rng_() % 8 == 0 || due) && kills_ + Running() + 1 <= config_.kills) {
      crash_requested_ = true;
      return;
    }
    Kill(slot);
  }

  // Reads what the worker wrote; at its end (the worker is dead) checks its slot.
  void Read(Slot& slot) {
    char chunk[65536];
    const ssize_t n = read(slot.process.fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) return Died(slot);
    slot.last_heard = Clock::now();
    slot.buffer.append(chunk, static_cast<size_t>(n));
    size_t newline;
    while ((newline = slot.buffer.find('\n')) != std::string::npos) {
      std::string line = slot.buffer.substr(0, newline);
      slot.buffer.erase(0, newline + 1);
      auto message = ParseMessage(line);
      if (!message) continue;
      Context(slot);
      if (message->kind == "lease-lost") {
        // The engine stopped writing, as it must when it cannot renew its lease in time (a
        // paused process on a busy machine): its later failures acknowledge nothing.
        slot.model->TolerateFailures();
        slot.lease_lost = true;
        ++leases_lost_;
      } else if (message->kind == "hello" && !message->words.empty()) {
        slot.incarnation = std::strtoull(message->words[0].c_str(), nullptr, 10);
      } else if ((message->kind == "orphan" || message->kind == "orphan-other") &&
                 message->words.size() >= 2) {
        TakenOver(slot, message->words[0],
                  std::strtoull(message->words[1].c_str(), nullptr, 10));
      }
      slot.model->Apply(*message);
      if (slot.killed) continue;
      if (message->kind == "budget" || message->kind == "open-failed" ||
          message->kind == "lease-lost") {
        Kill(slot);
      } else if (message->kind == "intent" && slot.intent != 0 && ++slot.intents == slot.intent) {
        SpinFor(slot.spin);
        ++moments_["after-intent"].second;
        KillOrCrash(slot);
      }
    }
  }

  // Never two owners across engines: a lock is an orphan only when its engine's lease ran out.
  // A worker the parent has not killed is alive, so its lease ran out only if it reports losing
  // it (judged at its end, when every line it wrote is in).
  void TakenOver(const Slot& by, const std::string& key, uint64_t incarnation) {
    for (Slot& holder : slots_) {
      if (&holder == &by || holder.process.pid < 0 || holder.killed ||
          holder.incarnation != incarnation) {
        continue;
      }
      holder.taken_while_alive.push_back(key + " (taken by " + by.context + ")");
    }
  }

  void Reap(Slot& slot) {
    close(slot.process.fd);
    Context(slot);
    if (std::string how = ReapWorker(slot.process.pid, slot.killed, log_); !how.empty()) {
      violations_.Add(how);
    }
    if (!slot.lease_lost) {
      for (const std::string& what : slot.taken_while_alive) {
        violations_.Add("two owners: the lock of " + what + " was taken over as an orphan while "
                        "its engine (incarnation " + std::to_string(slot.incarnation) +
                        ") was alive and had not lost its lease");
      }
    }
    slot.taken_while_alive.clear();
    slot.process = WorkerProcess{};
    ++kills_;
  }

  void Check(Slot& slot) {
    Context(slot);
    slot.checker->VerifyStored();
    if (rng_() % 3 == 0) {
      slot.checker->TakeOverWithEngine();
      ++engine_checks_;
    }
  }

  void Died(Slot& slot) {
    Reap(slot);
    // The dead worker's statements may still run in the server (a COMMIT it sent just before
    // the kill): end them before reading what it left.
    Context(slot);
    if (Status s = EndBackends(conninfo_, slot.application_name); !s.ok()) {
      violations_.Add("ending the dead worker's connections: " + s.ToString());
    }
    Check(slot);
    if (kills_ + Running() < config_.kills) Start(slot);
  }

  // The server crashes under the three workers: an immediate stop (its processes quit without a
  // shutdown checkpoint; the restart runs crash recovery). The workers are killed with it, since
  // an engine that lost the server for longer than its lease has stopped writing for good
  // (EngineOptions::lease_duration) and reopening is the game's job, not this test's. Everything
  // acknowledged before the crash must be there after the recovery.
  void CrashServer() {
    for (Slot& slot : slots_) slot.model->TolerateFailures();
    ++server_crashes_;
    ++kills_;
    violations_.SetContext("server crash " + std::to_string(server_crashes_));
    if (!RunClusterScript(config_.pg_cluster_script, "crash", cluster_)) violations_.Add("the server did not stop");
    for (Slot& slot : slots_) {
      if (slot.process.pid >= 0 && !slot.killed) Kill(slot);
    }
    // Every worker's last lines, then its end; the checks wait for the server.
    for (Slot& slot : slots_) {
      while (slot.process.pid >= 0) {
        pollfd p{slot.process.fd, POLLIN, 0};
        if (poll(&p, 1, 1000) == 0) continue;  // a SIGKILLed process ends without help
        char chunk[65536];
        const ssize_t n = read(slot.process.fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          Reap(slot);
          break;
        }
        slot.buffer.append(chunk, static_cast<size_t>(n));
        size_t newline;
        while ((newline = slot.buffer.find('\n')) != std::string::npos) {
          auto message = ParseMessage(slot.buffer.substr(0, newline));
          slot.buffer.erase(0, newline + 1);
          Context(slot);
          if (message) slot.model->Apply(*message);
        }
      }
    }
    violations_.SetContext("server crash " + std::to_string(server_crashes_));
    if (!RunClusterScript(config_.pg_cluster_script, "resume", cluster_)) {
      violations_.Add("the server did not restart after the crash");
      return;
    }
    for (Slot& slot : slots_) Check(slot);
    for (Slot& slot : slots_) {
      if (kills_ + Running() < config_.kills) Start(slot);
    }
  }

  int Summary() {
    std::printf("crashtest: kill moments (planned/landed; the rest fell back to the end of the "
                "worker's operations):");
    for (const auto& [moment, counts] : moments_) {
      std::printf(" %s %d/%d", moment.c_str(), counts.first, counts.second);
    }
    std::map<std::string, uint64_t> messages;
    uint64_t orphans = 0;
    uint64_t conservation = 0;
    uint64_t mail_checks = 0;
    uint64_t applied = 0;
    uint64_t erases = 0;
    bool trades = false;
    for (const Slot& slot : slots_) {
      for (const auto& [kind, count] : slot.model->message_counts()) messages[kind] += count;
      orphans += slot.checker->orphans_taken_over();
      conservation += slot.checker->conservation_checks();
      trades = trades || slot.checker->trades_stored();
      mail_checks += slot.model->mail().checks();
      applied = std::max(applied, slot.model->mail().applied_seen());
      erases += slot.model->mail().erases_seen();
    }
    std::printf("\ncrashtest: worker messages:");
    for (const auto& [kind, count] : messages) {
      std::printf(" %s %llu", kind.c_str(), static_cast<unsigned long long>(count));
    }
    std::printf("; %d engine checks took over %llu orphaned locks\n", engine_checks_,
                static_cast<unsigned long long>(orphans));
    std::printf("crashtest: worker kills %d, server crashes %d, worker runs %d, leases lost %d\n",
                kills_ - server_crashes_, server_crashes_, runs_, leases_lost_);
    if (config_.kills >= 40 && !trades) {
      violations_.SetContext("end");
      violations_.Add("no trade between vault accounts was ever stored");
    }
    std::printf("crashtest: %llu conservation checks of the vault's items passed\n",
                static_cast<unsigned long long>(conservation));
    if (config_.kills >= 40 && (applied == 0 || erases == 0)) {
      violations_.SetContext("end");
      violations_.Add("the mailboxes never applied a message or were never erased");
    }
    std::printf("crashtest: %llu mailbox checks (exactly-once, nothing lost, erasure), up to %llu "
                "messages applied in one mailbox, %llu erases acknowledged\n",
                static_cast<unsigned long long>(mail_checks),
                static_cast<unsigned long long>(applied),
                static_cast<unsigned long long>(erases));
    std::printf("crashtest: power loss and damaged records: RocksDB-only modes, not run on "
                "PostgreSQL\n");
    return violations_.count() > 0 ? 1 : 0;
  }

  const ParentConfig& config_;
  const std::string dir_;
  const std::string cluster_;
  const std::string conninfo_;
  const std::string log_;
  std::mt19937_64 rng_;
  Violations violations_;
  std::array<Slot, kSlots> slots_;
  std::map<std::string, std::pair<int, int>> moments_;  // planned, landed
  int kills_ = 0;  // worker kills and server crashes
  int progress_at_ = 0;
  int runs_ = 0;
  int engine_checks_ = 0;
  int server_crashes_ = 0;
  int leases_lost_ = 0;
  bool crash_requested_ = false;
};

}  // namespace

int RunPostgresParent(const ParentConfig& config) {
  std::string dir = config.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "holdfast-crash-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
  }
  std::filesystem::create_directories(dir);
  // The cluster's own directory: the `postgres` user must reach it, so not inside `dir` (which
  // mkdtemp made private to this user). The script creates it afresh.
  std::string cluster = "/tmp/holdfast-crash-pg-XXXXXX";
  if (mkdtemp(cluster.data()) == nullptr) std::abort();
  std::printf("crashtest: seed %llu (replay: CRASH_SEED=%llu), %d kills on PostgreSQL (3 workers "
              "at once, lease %d ms), directory %s, cluster %s\n",
              static_cast<unsigned long long>(config.seed),
              static_cast<unsigned long long>(config.seed), config.kills, config.lease_ms,
              dir.c_str(), cluster.c_str());
  if (!RunClusterScript(config.pg_cluster_script, "start", cluster)) {
    std::printf("crashtest: the PostgreSQL cluster did not start\n");
    return 2;
  }
  PostgresRun run(config, dir, cluster);
  const int status = run.Run();
  if (run.violations() > 0) {
    // Kept for a look: the server stopped (as after a crash), its data and the workers' log.
    (void)RunClusterScript(config.pg_cluster_script, "crash", cluster);
    std::printf("crashtest: the workers' log is kept in %s, the cluster's data in %s (`bash %s "
                "resume %s` starts it)\n",
                dir.c_str(), cluster.c_str(), config.pg_cluster_script.c_str(), cluster.c_str());
  } else {
    (void)RunClusterScript(config.pg_cluster_script, "stop", cluster);
    if (temporary) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
  std::printf("crashtest: %d kills, %llu acknowledged operations checked, %llu violations\n",
              run.kills(), static_cast<unsigned long long>(run.acknowledged()),
              static_cast<unsigned long long>(run.violations()));
  std::fflush(stdout);
  return status;
}

}  // namespace holdfast::crash
