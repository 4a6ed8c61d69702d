// The process-wide engine of the operation-sequence fuzzer (fuzz/session_driver.cc).
//
// Opening an engine costs ~11 ms (~40-120 ms under ASan: RocksDB writes and re-parses its OPTIONS
// file), so one engine serves many inputs: each input uses fresh profile keys and ends all its
// sessions, and the in-memory volume is replaced every kInputsPerVolume inputs to bound memory.
//
// Every commit of a profile transaction (acquire, save, release, abandon; from any engine thread)
// is logged by key through the engine's fault hooks, so that the driver can check every profile
// a commit touched without re-reading the ones nothing touched.
//
// Not thread-safe: one fuzzing thread calls it; only the commit log is written by engine threads.
#ifndef HOLDFAST_FUZZ_SESSION_HARNESS_H_
#define HOLDFAST_FUZZ_SESSION_HARNESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "holdfast/hooks.h"

namespace holdfast::fuzz {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

inline constexpr const char* kStoreName = "Fuzz";
inline const std::string kTemplate = "new-player";
// Retention of the fuzzed store: few enough that inputs of a few dozen operations prune.
inline constexpr uint32_t kKeepNewest = 4;

// Keys of the profiles committed since the last Take(), in commit order.
class CommitLog final : public FaultHooks {
 public:
  void AfterCommit(const CommitPoint& point, uint64_t version) override;
  std::vector<std::string> Take();

 private:
  std::mutex mu_;
  std::vector<std::string> keys_;  // guarded by mu_
};

class Harness {
 public:
  // The one harness of the process. Never destroyed: an atexit handler closes the engine before
  // RocksDB's own statics go away.
  static Harness& Get();

  // Called before every input: opens the engine, on a fresh volume when the old one is full.
  void BeginInput();
  // Engine::Close() must have been called; opens the same volume again.
  void Reopen();

  Engine& engine() { return *engine_; }
  Players& players() { return *players_; }
  FakeClock& clock() { return *clock_; }
  CommitLog& commits() { return *commits_; }
  uint64_t input_number() const { return input_number_; }
  uint64_t orphan_reports() const { return orphan_reports_; }

 private:
  Harness() = default;
  void Open();
  void Shutdown();

  const std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  const std::shared_ptr<CommitLog> commits_ = std::make_shared<CommitLog>();
  std::shared_ptr<MemoryVolume> volume_;
  std::unique_ptr<Engine> engine_;
  std::optional<Players> players_;
  uint64_t inputs_on_volume_ = 0;
  uint64_t input_number_ = 0;
  uint64_t orphan_reports_ = 0;  // written on the starting thread (the fuzzing thread)
  bool exit_handler_ = false;
};

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_SESSION_HARNESS_H_
