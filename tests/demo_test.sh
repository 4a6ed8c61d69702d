#!/usr/bin/env bash
# The demo programs of examples/, run as a user runs them, on a scratch database.
# Usage: demo_test.sh <mode> <program> <scratch dir>  (readme: <minimal.cc> <README.md>)
#   conservation  holdfast-demo twice on one database (the second run continues the first):
#                 exit 0 and "items conserved: yes (N before the crash, N after)" each time.
#                 With DEMO_PG_SOCKET (a PostgreSQL test cluster's socket directory) the database
#                 is a fresh PostgreSQL database there instead of a directory.
#   keep-running  holdfast-demo --keep-running, stopped with SIGTERM once it says it is running:
#                 exit 0 after a clean close
#   usage         bad arguments: exit 2 and a message, nothing created
#   minimal       the minimal example, twice on one database: exit 0
#   readme        the README quotes examples/minimal.cc exactly (from its first #include on)
set -uo pipefail

mode=$1
program=$2
dir=$3
db=$dir/db
if [[ $mode != readme ]]; then
  rm -rf "$dir"
  mkdir -p "$dir"
fi
if [[ -n ${DEMO_PG_SOCKET:-} ]]; then
  pg_db=holdfast_demo_test_$$
  psql -q -h "$DEMO_PG_SOCKET" -U postgres -d postgres -c "CREATE DATABASE $pg_db" >/dev/null ||
    { echo "demo_test: cannot create a database on $DEMO_PG_SOCKET" >&2; exit 1; }
  trap 'psql -q -h "$DEMO_PG_SOCKET" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null' EXIT
  db="host=$DEMO_PG_SOCKET dbname=$pg_db user=postgres"
fi
small=(--db "$db" --players 40 --trades 80 --crash-after 60)

fail() {
  echo "demo_test ($mode): $*" >&2
  exit 1
}

check_conserved() {  # <output> <run name>
  local line
  line=$(grep '^items conserved: ' <<<"$1") || fail "$2: no 'items conserved:' line"
  [[ $line =~ ^items\ conserved:\ yes\ \(([0-9]+)\ before\ the\ crash,\ ([0-9]+)\ after\)$ ]] ||
    fail "$2: $line"
  [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] || fail "$2: the numbers differ: $line"
}

case $mode in
  conservation)
    for run in first second; do
      output=$("$program" "${small[@]}" 2>&1)
      status=$?
      echo "$output"
      [[ $status -eq 0 ]] || fail "$run run exited with $status"
      check_conserved "$output" "$run run"
    done
    grep -q '(continued: ' <<<"$output" || fail "the second run did not continue the database"
    ;;
  keep-running)
    coproc DEMO { exec "$program" "${small[@]}" --keep-running 2>&1; }
    pid=$DEMO_PID
    exec {from_demo}<&"${DEMO[0]}"
    output=""
    while IFS= read -r -t 120 line <&"$from_demo"; do
      echo "$line"
      output+="$line"$'\n'
      # Running: the simulation is over and the players are online. Ask it to stop.
      [[ $line == "server running:"* ]] && kill -TERM "$pid"
    done
    wait "$pid"
    status=$?
    [[ $status -eq 0 ]] || fail "exited with $status"
    check_conserved "$output" "keep-running"
    grep -q '^received SIGTERM: closing' <<<"$output" || fail "SIGTERM was not received"
    grep -q 'close .*sessions saved and released' <<<"$output" || fail "no clean close"
    ;;
  usage)
    for args in "--players 1" "--players many" "--unknown-flag" "--crash-after 0" "extra-word"; do
      # shellcheck disable=SC2086
      message=$("$program" --db "$db" $args 2>&1 >/dev/null)
      status=$?
      [[ $status -eq 2 ]] || fail "'$args' exited with $status, not 2"
      [[ $message == "holdfast-demo: "*"(see --help)" ]] || fail "'$args' said: $message"
    done
    [[ ! -e $db ]] || fail "a usage error created the database"
    "$program" --help | grep -q -- '--keep-running' || fail "--help does not list --keep-running"
    ;;
  minimal)
    for run in first second; do
      "$program" "$db" || fail "$run run exited with $?"
    done
    ;;
  readme)
    quoted=$(awk '/<!-- quoted from examples\/minimal.cc/ { marked = 1; next }
                  marked && /^```cpp$/ { inside = 1; next }
                  inside && /^```$/ { exit }
                  inside { print }' "$dir")
    source=$(sed -n '/^#include <cstdio>/,$p' "$program")
    [[ -n $quoted ]] || fail "no quote of examples/minimal.cc in $dir"
    [[ $quoted == "$source" ]] ||
      fail "the README's quote differs from $program: $(diff <(echo "$quoted") <(echo "$source"))"
    ;;
  *)
    fail "unknown mode"
    ;;
esac
echo "demo_test ($mode): passed"
