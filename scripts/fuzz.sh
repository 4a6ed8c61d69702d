#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ (ASan + UBSan) and runs each for SECONDS
# seconds, one after another, printing for each exactly
#   fuzz <target>: <executions> executions, <findings> findings
# and exits non-zero when any target had a finding. A finding is a crash-*, leak-*, timeout-* or
# oom-* file libFuzzer wrote (a target stops at its first); the files stay in
# build-fuzz/fuzz-run/<target>/artifacts/ for reproduction (fuzz/README.md).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default 60 s, every fuzz/targets/*.cc)
# Environment:
#   FUZZ_BUILD=dir   build folder (default build-fuzz)
#   FUZZ_MERGE=1     afterwards, merge inputs that add coverage into fuzz/corpus/<target>/
#   FUZZ_ARGS=...    extra libFuzzer flags for every target
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
  echo "fuzz.sh: SECONDS must be a positive whole number, got '$seconds'" >&2
  exit 2
fi
build=${FUZZ_BUILD:-build-fuzz}
run_root="$build/fuzz-run"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for source in fuzz/targets/*.cc; do
    targets+=("$(basename "$source" .cc)")
  done
fi
for target in "${targets[@]}"; do
  if [[ ! -f "fuzz/targets/$target.cc" ]]; then
    echo "fuzz.sh: no target '$target' (fuzz/targets/$target.cc)" >&2
    exit 2
  fi
done

# Build output goes to a log, shown only when the build fails.
mkdir -p "$build"
build_log="$build/fuzz-build.log"
show_build_log() {
  tail -40 "$build_log" >&2
  echo "fuzz.sh: build failed (full log: $build_log)" >&2
  exit 2
}
# The compiler is fixed when a folder is first configured, so configure a new folder only.
if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOLDFAST_BUILD_FUZZ=ON -DHOLDFAST_BUILD_TESTS=OFF -DHOLDFAST_BUILD_EXAMPLES=OFF \
    -DHOLDFAST_SANITIZE=address,undefined >"$build_log" 2>&1 || show_build_log
fi
build_targets=()
for target in "${targets[@]}"; do build_targets+=("fuzz_$target"); done
cmake --build "$build" --target "${build_targets[@]}" -j "$(nproc 2>/dev/null || echo 2)" \
  >"$build_log" 2>&1 || show_build_log

total_findings=0
for target in "${targets[@]}"; do
  work="$run_root/$target"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d "fuzz/corpus/$target" ]]; then
    cp -r "fuzz/corpus/$target/." "$work/corpus/"
  fi
  flags=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  # Per-target flags: a "// fuzz-flags: ..." line in the target's source.
  read -r -a target_flags <<<"$(sed -n 's|^// fuzz-flags:||p' "fuzz/targets/$target.cc" | head -1)"
  flags+=("${target_flags[@]}")
  if [[ -f "fuzz/dict/$target.dict" ]]; then
    flags+=(-dict="fuzz/dict/$target.dict")
  fi
  read -r -a extra_flags <<<"${FUZZ_ARGS:-}"
  flags+=("${extra_flags[@]}")

  echo "fuzz.sh: $target for ${seconds}s (log: $work/log)" >&2
  status=0
  "$build/fuzz/fuzz_$target" "${flags[@]}" "$work/corpus" >"$work/log" 2>&1 || status=$?

  executions=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/log" | tail -1)
  findings=$(find "$work/artifacts" -maxdepth 1 -type f \
               \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
             wc -l)
  if [[ $status -ne 0 && $findings -eq 0 ]]; then
    # The fuzzer failed without an artifact (bad flag, crash at start-up): still a finding.
    echo "fuzz.sh: fuzz_$target exited with status $status and no artifact; see $work/log" >&2
    findings=1
  fi
  if [[ $findings -gt 0 ]]; then
    echo "fuzz.sh: $target findings in $work/artifacts/ (log: $work/log)" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK failed)' "$work/log" | head -5 >&2 || true
  fi
  total_findings=$((total_findings + findings))
  echo "fuzz $target: ${executions:-0} executions, $findings findings"

  if [[ "${FUZZ_MERGE:-0}" == "1" && $findings -eq 0 ]]; then
    mkdir -p "fuzz/corpus/$target"
    "$build/fuzz/fuzz_$target" -merge=1 "${target_flags[@]}" "fuzz/corpus/$target" \
      "$work/corpus" >"$work/merge.log" 2>&1
    echo "fuzz.sh: merged into fuzz/corpus/$target ($(ls "fuzz/corpus/$target" | wc -l) files)" >&2
  fi
done

[[ $total_findings -eq 0 ]]
