#include "session_harness.h"

#include <cstdlib>
#include <utility>

#include "fuzz_util.h"
#include "session_driver.h"

namespace holdfast::fuzz {
namespace {

constexpr const char* kPath = "/fuzz";
// Inputs per in-memory volume. A fresh volume costs an engine open (~120 ms under ASan on the
// shared machine); an input adds a few kilobytes that stay in RocksDB's memtables.
constexpr uint64_t kInputsPerVolume = 4096;

}  // namespace

void CommitLog::AfterCommit(const CommitPoint& point, uint64_t /*version*/) {
  if (point.store != kStoreName) return;
  std::lock_guard lock(mu_);
  keys_.emplace_back(point.key);
}

std::vector<std::string> CommitLog::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(keys_, {});
}

Harness& Harness::Get() {
  static Harness* harness = new Harness();
  return *harness;
}

void Harness::BeginInput() {
  if (!engine_ || inputs_on_volume_ >= kInputsPerVolume) {
    Shutdown();
    volume_ = MemoryVolume::Create();
    inputs_on_volume_ = 0;
    Open();
  }
  ++inputs_on_volume_;
  ++input_number_;
}

void Harness::Reopen() {
  players_.reset();
  engine_.reset();
  Open();
}

void Harness::Open() {
  EngineOptions options;
  options.memory_volume = volume_;
  options.clock = clock_;
  options.sync_writes = false;  // an in-memory volume has nothing to sync
  options.conflict_buckets = 64;
  options.worker_threads = 1;
  options.owner_description = "fuzz";
  options.fault_hooks = commits_;
  options.on_orphan_takeover = [this](const OrphanTakeover&) { ++orphan_reports_; };
  auto engine = Engine::Open(kPath, options);
  FUZZ_CHECK(engine.ok(), engine.status().ToString());
  engine_ = std::move(*engine);
  StoreOptions<std::string> store_options;
  store_options.template_value = kTemplate;
  store_options.autosave_period = kAutosavePeriod;
  store_options.retention.keep_newest = kKeepNewest;
  auto players = engine_->OpenStore<BytesCodec>(kStoreName, store_options);
  FUZZ_CHECK(players.ok(), players.status().ToString());
  players_.emplace(std::move(*players));
  if (!exit_handler_) exit_handler_ = std::atexit([] { Get().Shutdown(); }) == 0;
}

void Harness::Shutdown() {
  players_.reset();
  if (engine_) FUZZ_CHECK(engine_->Close().ok());
  engine_.reset();
}

}  // namespace holdfast::fuzz
