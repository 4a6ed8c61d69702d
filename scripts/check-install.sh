#!/usr/bin/env bash
# Installs a built Holdfast tree into a scratch prefix, then builds and runs a consumer project
# against it twice: with find_package(holdfast CONFIG) and with pkg-config.
# Usage: scripts/check-install.sh <build-dir> <scratch-dir>
set -euo pipefail
build=${1:?build dir}
scratch=${2:?scratch dir}
cmake_bin=${CMAKE_COMMAND:-cmake}
rm -rf "$scratch"
mkdir -p "$scratch/consumer"
prefix="$scratch/prefix"
"$cmake_bin" --install "$build" --prefix "$prefix" >/dev/null

cat >"$scratch/consumer/main.cc" <<'CC'
#include <holdfast/holdfast.h>
#include <cstdio>
int main(int argc, char** argv) {
  holdfast::EngineOptions options;
  options.memory_volume = holdfast::MemoryVolume::Create();
  auto engine = holdfast::Engine::Open("/consumer-db", options);
  if (!engine.ok()) { std::fprintf(stderr, "%s\n", engine.status().ToString().c_str()); return 1; }
  std::printf("consumer: holdfast %s, incarnation %llu\n", std::string(holdfast::Version()).c_str(),
              static_cast<unsigned long long>((*engine)->Info().incarnation));
  return (*engine)->Close().ok() ? 0 : 1;
}
CC
cat >"$scratch/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.22)
project(holdfast_consumer LANGUAGES CXX)
find_package(holdfast CONFIG REQUIRED)
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE holdfast::holdfast)
CM
"$cmake_bin" -S "$scratch/consumer" -B "$scratch/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake_bin" --build "$scratch/consumer/build" >/dev/null
"$scratch/consumer/build/consumer"

# pkg-config route.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
flags=$(pkg-config --cflags --libs holdfast)
# shellcheck disable=SC2086
g++ "$scratch/consumer/main.cc" -o "$scratch/consumer/consumer-pc" $flags
"$scratch/consumer/consumer-pc"
"$prefix/bin/holdfast" version >/dev/null
echo "package check: find_package and pkg-config consumers built and ran"
