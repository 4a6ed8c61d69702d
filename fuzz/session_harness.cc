#include "session_harness.h"

#include <cstdlib>
#include <utility>

#include "fuzz_util.h"
#include "session_driver.h"
#include "storage.h"

namespace holdfast::fuzz {
namespace {

constexpr const char* kPath = "/fuzz";
// Inputs per in-memory volume. A fresh volume costs an engine open (~120 ms under ASan on the
// shared machine); an input adds a few kilobytes that stay in RocksDB's memtables.
constexpr uint64_t kInputsPerVolume = 4096;
// The profile Settle() commits on: no input's key ("i<n>/..." in session_driver.cc).
constexpr const char* kSettleKey = "settle";

thread_local bool t_marked = false;

}  // namespace

Clock::Duration FuzzClock::Monotonic() const {
  return Duration(mono_ns_.load() + (t_marked ? ahead_ns_.load() : 0));
}

void FuzzClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          Duration deadline) const {
  if (Monotonic() >= deadline) return;
  cv.wait_for(lock, std::chrono::milliseconds(2));
}

void FuzzClock::Advance(Duration d) {
  wall_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  mono_ns_ += d.count();
}

void FuzzClock::MarkThisThread(bool marked) { t_marked = marked; }

Status FuzzHooks::BeforeCommit(const CommitPoint& point) {
  if (point.store != kStoreName) return Status::Ok();
  FuzzClock::MarkThisThread(false);  // past its wait: the rest of the call runs on common time
  std::lock_guard lock(mu_);
  auto it = armed_.find({std::string(point.key), point.kind});
  if (it == armed_.end() || it->second.fault.commits <= 0) return Status::Ok();
  Armed& armed = it->second;
  InjectedFault& f = armed.fault;
  switch (f.code) {
    case StatusCode::kIOError:
      --f.commits;
      ++injected_;
      return Status::IOError("injected by the fuzzer");
    case StatusCode::kResourceExhausted:
      --f.commits;
      ++injected_;
      return Status::ResourceExhausted("injected by the fuzzer: disk full");
    case StatusCode::kBusy:
      if (armed.busy_seen < f.busy) {
        ++injected_;
        // The engine gives up after kDefaultTransactionAttempts attempts: the commit is over.
        if (++armed.busy_seen >= internal::kDefaultTransactionAttempts) {
          armed.busy_seen = 0;
          --f.commits;
        }
        return Status::Busy("injected by the fuzzer");
      }
      armed.busy_seen = 0;  // the attempt after the conflicts goes through
      --f.commits;
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

void FuzzHooks::Arm(const std::string& key, CommitKind kind, const InjectedFault& fault) {
  std::lock_guard lock(mu_);
  armed_[{key, kind}] = Armed{fault, 0};
}

void FuzzHooks::DisarmAll() {
  std::lock_guard lock(mu_);
  armed_.clear();
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

void Harness::Settle() {
  hooks_->DisarmAll();
  if (engine_->Stats().critical) {
    auto settle = players_->StartSession(kSettleKey);
    FUZZ_CHECK(settle.ok(), settle.status().ToString());
    FUZZ_CHECK(settle->EndSession().ok());
    FUZZ_CHECK(!engine_->Stats().critical, "a successful commit left the engine critical");
  }
  clock_->Advance(kCriticalWindow + std::chrono::milliseconds(1));
}

void Harness::Open() {
  EngineOptions options;
  options.memory_volume = volume_;
  options.clock = clock_;
  options.sync_writes = false;  // an in-memory volume has nothing to sync
  options.conflict_buckets = 64;
  options.worker_threads = kWorkerThreads;
  options.owner_description = "fuzz";
  options.fault_hooks = commit_log_;
  options.critical_error_threshold = kCriticalThreshold;
  options.critical_window = kCriticalWindow;
  options.on_critical_state = [this](bool critical) { ++critical_calls_[critical ? 1 : 0]; };
  options.on_orphan_takeover = [this](const OrphanTakeover&) { ++orphan_reports_; };
  commit_log_->NextIncarnation();  // session ids are per engine open
  auto engine = Engine::Open(kPath, options);
  FUZZ_CHECK(engine.ok(), engine.status().ToString());
  engine_ = std::move(*engine);
  StoreOptions<std::string> store_options;
  store_options.template_value = kTemplate;
  store_options.autosave_period = kAutosavePeriod;
  store_options.handoff_timeout = kHandoffTimeout;
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
