// The crash-test worker: a process that opens the database, runs a seeded random workload of
// operations (operations.h) and reports every intent, acknowledgement, save and session end to
// the parent (protocol.h) until the parent kills it with SIGKILL. It never exits on its own: after
// its last operation, or at its kill point (a chosen write inside Engine::Open, a flush or a
// compaction), it reports and waits to be killed.
//
// Single foreground thread; the engine's own threads (auto-saves, handoff saves, flushes,
// compactions) run concurrently and report through the same pipe.
#ifndef HOLDFAST_TESTS_CRASH_WORKER_H_
#define HOLDFAST_TESTS_CRASH_WORKER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fault_fs.h"
#include "holdfast/holdfast.h"
#include "mailbox.h"
#include "protocol.h"

namespace holdfast::crash {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

struct WorkerConfig {
  std::string dir;  // the database: a directory, or a PostgreSQL connection string
  // PostgreSQL (lease_ms > 0): EngineOptions::lease_duration. Several workers then run at once
  // on one database, each on its own profiles and mailboxes (named with key_prefix) and all on
  // the shared vault accounts. 0: RocksDB, one worker at a time.
  int lease_ms = 0;
  std::string key_prefix;
  uint64_t seed = 0;
  uint64_t first_op = 1;  // operation numbers continue across workers, so tags stay unique
  int operations = 200;   // then "budget"
  int keys = 12;          // profiles p00..p<keys-1>
  bool sync = false;      // EngineOptions::sync_writes
  int autosave_ms = 50;   // StoreOptions::autosave_period
  // Where to stop and wait for the kill: "" (nowhere), "fileop" (the Nth write or sync of any
  // file), "open" (the Nth write or sync before the engine is open), "flush" / "compaction" (the
  // Nth write of a table file by RocksDB's flush / compaction threads).
  std::string kill_point;
  uint64_t kill_at = 0;
  // Power-loss run (sync_journal.h): where the file system journals what was synced, so that the
  // parent can cut the files back after the kill. Empty: a plain kill (the OS keeps every write).
  std::string sync_journal;
};

// Flags "--name=value" <-> WorkerConfig.
std::vector<std::string> WorkerArguments(const WorkerConfig& config);
std::optional<WorkerConfig> ParseWorkerArguments(int argc, char** argv);

class Worker {
 public:
  Worker(WorkerConfig config, int report_fd);
  [[noreturn]] void Run();

  // --- For operations (operations.cc).
  struct Session {
    Handle handle;
    uint64_t epoch = 0;
  };
  std::mt19937_64& rng() { return rng_; }
  Reporter& out() { return out_; }
  const WorkerConfig& config() const { return config_; }
  std::string RandomKey();
  // How long a start of a profile this process does not hold may wait: RocksDB, not at all (it
  // is free or an orphan, taken over at once); PostgreSQL, until a dead worker's lease runs out
  // (its lock is an orphan only then) or another worker's engine hands the profile off.
  std::chrono::milliseconds ForeignStartTimeout() const;
  std::optional<std::string> RandomLiveKey();
  std::map<std::string, Session>& live() { return live_; }
  Players& players() { return *players_; }
  MailWorkload& mail() { return mail_; }
  std::vector<Handle>& retired() { return retired_; }

  void Intent(uint64_t op, std::string_view name, const std::string& key,
              const std::string& tag = "");
  void Ack(uint64_t op, const Status& s);
  // StartSession; on success reports "acquired", connects the signal handlers, checks that the
  // previous holder in this process is no longer active, and makes the session live.
  Status Start(const std::string& key, const SessionOptions& options);
  // Ends a live session with EndSession; retires it either way.
  Status End(const std::string& key);
  // Save of a live session; on OK reports "holds" with the data the handle holds.
  Status Save(const std::string& key);
  // Runs the live session's Save on another thread, parks its commit after the fence check,
  // steals the profile meanwhile (reported as a start) and lets the save go on: it must fail
  // LockLost at the fence in the database. Returns the steal's status.
  Status RaceSaveAgainstSteal(const std::string& key);
  // Store::Rollback to `version`, whose payload is `restored`; on success reports "rolledback"
  // with the new epoch and retires this process's session of the profile, which the rollback
  // must have ended.
  Status Rollback(const std::string& key, uint64_t version, const Tag& restored);
  // Engine::Close (final saves of every live session), then a new Engine::Open.
  Status Reopen();
  // Moves 1-5 items between two vault accounts with Engine::Trade (starting their sessions if
  // this process does not hold them yet) and sometimes ends one of them afterwards.
  Status Trade();

 private:
  bool OpenEngine();
  void InstallKillPoint();
  void ReportHolds(const std::string& key, const Session& session);
  [[noreturn]] void WaitForTheKill();

  const WorkerConfig config_;
  Reporter out_;
  std::mt19937_64 rng_;
  std::shared_ptr<test::FaultVolume> volume_ = test::FaultVolume::OnDisk();
  // What the engine opens: volume_, or volume_ under a sync journal in a power-loss run.
  std::shared_ptr<internal::VolumeImpl> engine_volume_;
  std::shared_ptr<class SaveParking> parking_;
  std::unique_ptr<Engine> engine_;
  std::optional<Players> players_;
  std::optional<Players> vault_;
  std::map<std::string, Handle> vault_live_;
  MailWorkload mail_;
  std::map<std::string, Session> live_;
  std::vector<Handle> retired_;  // ended, handed off or stolen from: must never write again
  std::atomic<bool> open_{false};
  std::atomic<uint64_t> kill_count_{0};
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_WORKER_H_
