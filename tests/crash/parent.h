// The crash-test parent: starts a worker (worker.h) in a fresh process again and again, SIGKILLs
// it at a random moment — after a random delay, right after a random operation's intent, at a
// random write or sync (also inside Engine::Open), or inside a flush or a compaction — and after
// each kill checks the database (checker.h) against what the worker acknowledged (model.h).
// Some kills are power losses: the files are cut back to what the worker synced
// (sync_journal.h) before the check. Between kills, it sometimes damages a stored payload
// (Checker::DamageOne), which the next start must repair.
//
// The parent fork()s and exec()s the worker at once (never runs engine code in a forked copy of
// itself), so the engine it opens for checking never shares a process with a writer.
#ifndef HOLDFAST_TESTS_CRASH_PARENT_H_
#define HOLDFAST_TESTS_CRASH_PARENT_H_

#include <cstdint>
#include <string>

namespace holdfast::crash {

// Power loss (sync_journal.h): after the kill, the files are cut back to what was synced.
enum class PowerLoss {
  kOff,        // never: every kill keeps what the OS holds
  kSometimes,  // the default: three in four runs with sync_writes on (about a fifth of the kills)
  kAlways,     // every run has sync_writes on and ends in a power loss
};

struct ParentConfig {
  uint64_t seed = 0;
  int kills = 100;
  // Where the database and the workers' stderr go. Empty: a fresh temporary directory, removed
  // at the end unless there were violations.
  std::string dir;
  PowerLoss power_loss = PowerLoss::kSometimes;
  // This executable, to exec as a worker.
  std::string self;
  // PostgreSQL (RunPostgresParent): scripts/pg-test-cluster.sh, which starts, crashes, resumes
  // and stops the throwaway cluster the run uses, in a fresh directory under /tmp.
  std::string pg_cluster_script;
  // The workers' EngineOptions::lease_duration: short, so that a killed worker's locks become
  // orphans soon.
  int lease_ms = 500;
};

// Runs the whole test; prints violations as found and, last, the summary line
// "crashtest: <kills> kills, <operations> acknowledged operations checked, <violations> violations".
// Returns the process exit status: 0 without violations, 1 with.
int RunParent(const ParentConfig& config);

// The same test on PostgreSQL: three workers run at once on one database, each on its own
// profiles and mailboxes and all on the shared vault accounts (cross-engine handoffs and steals
// of accounts, trades between them); each worker is killed at a random moment and, once it is
// dead, its profiles and mailboxes and the vault are checked (one snapshot of the tables) while
// the other two go on; then a new worker takes its place and its dead predecessor's locks over
// once their lease runs out. Sometimes the server crashes instead (an immediate stop: no
// shutdown, crash recovery at the restart); the three workers are killed with it and everything
// is checked after the restart. Power loss and byte flips are RocksDB-only modes, not run here.
// Same summary line and exit status as RunParent.
int RunPostgresParent(const ParentConfig& config);

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_PARENT_H_
