#!/usr/bin/env bash
# Installs the Debian packages Holdfast builds against, when they are missing.
# Idempotent: a machine that has everything is left alone and no package index is fetched.
# Usage: scripts/install-deps.sh [--with-fuzz] [--with-bench]
#   --with-fuzz   adds clang for libFuzzer builds
#   --with-bench  adds SQLite (a baseline of `make bench`) and gnuplot (its chart)
set -euo pipefail

packages=(
  cmake ninja-build g++ make pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libcxxopts-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql-15
)
for option in "$@"; do
  case "$option" in
    --with-fuzz) packages+=(clang libclang-rt-14-dev) ;;
    --with-bench) packages+=(libsqlite3-dev gnuplot-nox) ;;
    *) echo "install-deps: unknown option $option" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: this system has no apt/dpkg. Install these Debian-named packages (or your" >&2
  echo "  distribution's equivalents) by hand, then run make again:" >&2
  echo "  ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root, with no sudo available." >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
