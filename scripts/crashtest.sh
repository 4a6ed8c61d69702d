#!/usr/bin/env bash
# The crash test: `make crashtest` runs this with the build folder as its argument.
#
# A parent process starts workers that run a seeded random workload (start, edit, save, end,
# handoff, steal, stale writes, rollback, clean reopen) over many profiles, kills each with SIGKILL at a
# random moment (after a random delay, right after a random operation, at a random write or sync,
# during Engine::Open, inside a flush or a compaction) and checks the database after every kill:
# nothing acknowledged lost (acknowledged: what Save, EndSession and Edit returned, never a signal),
# stale saves that reach the fence check in the database refused, version numbers never reused,
# nothing half-written, epochs strictly increasing, never two owners,
# orphaned locks taken over at once, version history consistent with the data, RocksDB's
# checksums verified.
#
# PostgreSQL (CRASH_BACKEND=postgres, `make crashtest BACKEND=postgres`): the parent starts a
# throwaway cluster (scripts/pg-test-cluster.sh, under /tmp) and runs three workers at once on
# one database, each on its own profiles and mailboxes, all three on the shared vault accounts
# (handoffs and steals across engines, trades). It kills each worker at a random moment, checks
# that worker's profiles and mailboxes and the vault's items (one snapshot of the tables) while
# the other two go on, and starts a new worker in its place, which takes the dead one's locks
# over once its lease (CRASH_LEASE_MS, default 500) runs out. About one planned kill in eight
# crashes the server instead (an immediate stop, then crash recovery): the three workers are
# killed with it and everything is checked after the restart. Power loss and damaged records
# are RocksDB-only modes. Why each worker has its own profiles: tests/crash/parent_postgres.cc.
#
# Power loss: some runs (sync_writes on) end in a power cut instead: the worker's file system
# journals what it synced (tests/crash/sync_journal.h) and, after the kill, the parent cuts every
# file back to it; every acknowledged save must survive. Damage: between kills, the parent
# sometimes flips a byte of a profile's stored payload; the next start must keep the bad bytes as
# a kQuarantine version, restore the newest valid version as a kCorruptionRecovery version and
# load it, and the checker finds both in the stored history.
#
# Environment:
#   CRASH_SEED   seed of the run (default: random, chosen here; printed, and replays the run's
#                choices; the binary alone defaults to a fixed seed, for the ctest smoke run)
#   CRASH_KILLS  number of kills (default: 100, about 15 s here; 1000 for the long profile, ~2 min)
#   CRASH_POWER_LOSS  0: never; 1: every run has sync_writes on and ends in a power loss;
#                default: three in four runs with sync_writes on (about a fifth of the kills)
#   CRASH_DIR    where to keep the database and the workers' log (default: a temporary directory,
#                removed unless there were violations)
#   CRASH_BACKEND  rocksdb (default) or postgres
#   CRASH_LEASE_MS the PostgreSQL workers' lease (default 500)
#
# The last line printed is exactly
#   crashtest: <kills> kills, <operations> acknowledged operations checked, <violations> violations
# and the exit status is non-zero when there were violations.
set -euo pipefail

build="${1:-build}"
binary="$build/tests/holdfast_crashtest"
if [[ ! -x "$binary" ]]; then
  echo "crashtest: $binary not found; build first (make build)" >&2
  exit 2
fi

args=()
if [[ -n "${CRASH_DIR:-}" ]]; then
  args+=("--dir=$CRASH_DIR")
fi
# CRASH_SEED, CRASH_KILLS and CRASH_POWER_LOSS are read by the binary itself.
if [[ -z "${CRASH_SEED:-}" ]]; then
  CRASH_SEED="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
  export CRASH_SEED
fi
backend="${CRASH_BACKEND:-rocksdb}"
args+=("--backend=$backend")
if [[ "$backend" == postgres ]]; then
  args+=("--pg-cluster-script=$(cd "$(dirname "$0")" && pwd)/pg-test-cluster.sh")
  args+=("--lease-ms=${CRASH_LEASE_MS:-500}")
fi
exec "$binary" "${args[@]}"
