// How the harness sets Holdfast up: opening an engine the way a game server would (defaults,
// sync on or off), filling a database with profiles, and measuring the records a save writes
// (the sizes the baselines must write to do the same work).
#ifndef HOLDFAST_BENCH_HOLDFAST_FIXTURE_H_
#define HOLDFAST_BENCH_HOLDFAST_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "raw_rocksdb_baseline.h"

namespace holdfast::bench {

// The store every case uses.
inline constexpr std::string_view kStoreName = "Players";

// Engine options with the defaults, `sync_writes` = sync, and quiet orphan reports.
EngineOptions BenchEngineOptions(bool sync);

// Opens an engine; on failure prints the status and exits (a benchmark that cannot open its
// database has nothing to report).
std::unique_ptr<Engine> OpenEngineOrFail(const std::string& dir, EngineOptions options);
Store<BytesCodec> OpenStoreOrFail(Engine& engine, const StoreOptions<std::string>& options = {});

// Creates profiles ProfileKey(0..count-1) in a fresh database at `dir`, each holding
// `payload_bytes` bytes (the template, as a new player's first save would), with one start and
// one end per profile, unsynced, on `threads` threads. Exits on failure.
void PopulateProfiles(const std::string& dir, size_t count, size_t payload_bytes, int threads);

// Starts sessions on ProfileKey(0..count-1) from `threads` threads (more threads share more
// synced commits) and returns their handles in key order. Exits on failure.
std::vector<Profile<BytesCodec>> StartSessions(Store<BytesCodec>& store, size_t count, int threads);

// The sizes of the data, meta and newest history record of `key`, as stored now.
RecordSizes StoredRecordSizes(Engine& engine, const std::string& key);

// Saves a new profile `key` often enough that its history is full under the default retention,
// with payloads of `payload_bytes`, and returns its stored record sizes: what one steady-state
// save writes.
RecordSizes SteadyStateRecordSizes(Engine& engine, Store<BytesCodec>& store, const std::string& key,
                                   size_t payload_bytes);

// `holdfast_bench profile-save <dir> <saves> <sync 0|1>`: one thread editing 8 bytes of a 1 KiB
// payload and saving, nothing else in the process (for perf or callgrind).
int ProfileSaveMain(int argc, char** argv);

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_HOLDFAST_FIXTURE_H_
