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
# Environment:
#   CRASH_SEED   seed of the run (default: random; printed, and replays the run's choices)
#   CRASH_KILLS  number of kills (default: 100, about 15 s here; 1000 for the long profile, ~2 min)
#   CRASH_DIR    where to keep the database and the workers' log (default: a temporary directory,
#                removed unless there were violations)
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
# CRASH_SEED and CRASH_KILLS are read by the binary itself.
exec "$binary" "${args[@]}"
