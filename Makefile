# Entry points for users and CI. Each target installs missing Debian packages, configures and
# builds before doing its job. Sanitizer builds use their own folders.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=
# Build only these targets (default: everything).
TARGETS ?=

.PHONY: all deps build test demo clean asan-test tsan-test thread-safety fuzz crashtest bench

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) $(if $(TARGETS),--target $(TARGETS))

# The whole suite through ctest; exits non-zero on any failure.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# Runs the demo (examples/demo/) on an embedded database in ./holdfast-demo-data: a game server
# with 300 players, trades, a real crash (SIGKILL) and the check that no item was lost or
# duplicated. DEMO_FLAGS adds options (e.g. DEMO_FLAGS=--keep-running).
DEMO_FLAGS ?=
demo: build
	./$(BUILD)/examples/holdfast-demo --db holdfast-demo-data $(DEMO_FLAGS)

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer, without what would only repeat
# engine code already run under it, to keep CI's time: the postgres.* tests (the session and
# data-model suites again, on PostgreSQL; the backend's own tests do run), the demo and the CLI
# with its tests (the CLI's export-file reader is fuzzed and its corpus replayed here:
# fuzz_replay_import_lines; that reader is all of cli/ this build compiles).
asan-test:
	$(MAKE) test BUILD=build-asan \
	  CMAKE_FLAGS="-DHOLDFAST_SANITIZE=address,undefined -DHOLDFAST_BUILD_EXAMPLES=OFF -DHOLDFAST_BUILD_CLI=OFF" \
	  CTEST_FLAGS="-E '^postgres[.]'"

# The concurrency tests under ThreadSanitizer (suppressions: tests/tsan.supp, libraries only).
tsan-test:
	$(MAKE) test BUILD=build-tsan CMAKE_FLAGS="-DHOLDFAST_SANITIZE=thread -DHOLDFAST_BUILD_EXAMPLES=OFF" \
	  TARGETS="concurrency_test fencing_pause_test" CTEST_FLAGS="-L concurrency"

# Compiles the engine with clang's -Wthread-safety analysis as errors: guarded data touched only
# under its lock (the annotations and the lock order are in engine/src/mutex.h). Diagnostics only
# (clang -fsyntax-only: target holdfast_thread_safety in engine/CMakeLists.txt), no object code.
thread-safety:
	@bash scripts/install-deps.sh --with-fuzz
	cmake -S . -B build-tsa -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DHOLDFAST_THREAD_SAFETY_ANALYSIS=ON -DHOLDFAST_BUILD_TESTS=OFF -DHOLDFAST_BUILD_EXAMPLES=OFF \
	  -DHOLDFAST_FUZZ_REPLAY=OFF -DHOLDFAST_BUILD_CLI=OFF
	cmake --build build-tsa -j $(JOBS) --target holdfast_thread_safety

# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for FUZZ_SECONDS seconds,
# printing "fuzz <target>: <executions> executions, <findings> findings" per target.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/install-deps.sh --with-fuzz
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Kills worker processes at random moments and checks what survives (CRASH_SEED, CRASH_KILLS).
# BACKEND=rocksdb (default) or postgres: three workers at once on a throwaway PostgreSQL cluster,
# whose server crashes now and then too. Builds only the crash test's binary.
BACKEND ?= rocksdb
crashtest:
	$(MAKE) build TARGETS="$(or $(TARGETS),holdfast_crashtest)"
	CRASH_BACKEND=$(BACKEND) bash scripts/crashtest.sh $(BUILD)

# Measures Holdfast against raw RocksDB and SQLite in one run, on one disk (issue 17), and writes
# docs/benchmarks.md, docs/benchmarks.json and the chart docs/benchmarks-throughput.svg.
# BENCH=full (default; the issue's sizes, up to ~15 minutes) or BENCH=quick (scaled down, under
# 2 minutes). Its own build folder: no tests, no run-time lock-order check.
BENCH ?= full
bench:
	@bash scripts/install-deps.sh --with-bench
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOLDFAST_BUILD_BENCH=ON \
	  -DHOLDFAST_BUILD_TESTS=OFF -DHOLDFAST_CHECK_LOCK_ORDER=OFF -DHOLDFAST_BUILD_EXAMPLES=OFF \
	  -DHOLDFAST_FUZZ_REPLAY=OFF
	cmake --build build-bench -j $(JOBS) --target holdfast_bench
	./build-bench/bench/holdfast_bench --mode $(BENCH) --data build-bench/bench-data \
	  --json docs/benchmarks.json --markdown docs/benchmarks.md \
	  --chart-data build-bench/benchmarks-throughput.dat
	gnuplot -e "data='build-bench/benchmarks-throughput.dat'; out='docs/benchmarks-throughput.svg'" \
	  bench/throughput.gp

clean:
	rm -rf build build-asan build-tsan build-tsa build-fuzz build-bench holdfast-demo-data
