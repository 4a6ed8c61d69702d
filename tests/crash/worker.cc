#include "worker.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "operations.h"
#include "sync_journal.h"

namespace holdfast::crash {
namespace {

using namespace std::chrono_literals;

std::string KeyName(const std::string& prefix, int i) {
  char name[8];
  std::snprintf(name, sizeof(name), "p%02d", i);
  return prefix + name;
}

// The role of the calling RocksDB thread: Env::Default() names its flush pool threads
// "rocksdb:high" and its compaction pool threads "rocksdb:low".
bool ThreadNameStartsWith(std::string_view prefix) {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return std::string_view(name).starts_with(prefix);
}

}  // namespace

// Parks the next kSave commit of one profile in BeforeCommit — after the transaction read the
// lock and passed the fence check — until released. A steal that commits meanwhile makes the
// parked commit conflict and re-read the lock, so the stale write reaches the database's fence
// instead of the session's in-memory one.
class SaveParking : public FaultHooks {
 public:
  void Arm(const std::string& key) {
    std::lock_guard lock(mu_);
    armed_ = key;
    parked_ = released_ = save_done_ = false;
  }
  // Until the commit is parked or the save finished without one (nothing to write). Bounded:
  // false when neither happened within `limit`.
  bool WaitParkedOrDone(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return parked_ || save_done_; });
  }
  bool parked() {
    std::lock_guard lock(mu_);
    return parked_;
  }
  void SaveDone() {
    std::lock_guard lock(mu_);
    save_done_ = true;
    cv_.notify_all();
  }
  void Release() {
    std::lock_guard lock(mu_);
    armed_.reset();
    released_ = true;
    cv_.notify_all();
  }
  Status BeforeCommit(const CommitPoint& point) override {
    std::unique_lock lock(mu_);
    if (point.kind != CommitKind::kSave || !armed_ || *armed_ != point.key) return Status::Ok();
    armed_.reset();
    parked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> armed_;
  bool parked_ = false;
  bool released_ = false;
  bool save_done_ = false;
};

std::vector<std::string> WorkerArguments(const WorkerConfig& c) {
  return {"--worker",
          "--dir=" + c.dir,
          "--seed=" + std::to_string(c.seed),
          "--first-op=" + std::to_string(c.first_op),
          "--operations=" + std::to_string(c.operations),
          "--keys=" + std::to_string(c.keys),
          "--sync=" + std::to_string(c.sync ? 1 : 0),
          "--autosave-ms=" + std::to_string(c.autosave_ms),
          "--kill-point=" + c.kill_point,
          "--kill-at=" + std::to_string(c.kill_at),
          "--sync-journal=" + c.sync_journal,
          "--lease-ms=" + std::to_string(c.lease_ms),
          "--key-prefix=" + c.key_prefix};
}

std::optional<WorkerConfig> ParseWorkerArguments(int argc, char** argv) {
  WorkerConfig c;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--worker") continue;
    size_t eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string_view::npos) return std::nullopt;
    std::string name(arg.substr(2, eq - 2));
    std::string value(arg.substr(eq + 1));
    auto number = [&] { return std::strtoull(value.c_str(), nullptr, 10); };
    // clang-format off
    if (name == "dir") c.dir = value;
    else if (name == "seed") c.seed = number();
    else if (name == "first-op") c.first_op = number();
    else if (name == "operations") c.operations = static_cast<int>(number());
    else if (name == "keys") c.keys = static_cast<int>(number());
    else if (name == "sync") c.sync = number() != 0;
    else if (name == "autosave-ms") c.autosave_ms = static_cast<int>(number());
    else if (name == "kill-point") c.kill_point = value;
    else if (name == "kill-at") c.kill_at = number();
    else if (name == "sync-journal") c.sync_journal = value;
    else if (name == "lease-ms") c.lease_ms = static_cast<int>(number());
    else if (name == "key-prefix") c.key_prefix = value;
    else return std::nullopt;
    // clang-format on
  }
  if (c.dir.empty()) return std::nullopt;
  return c;
}

Worker::Worker(WorkerConfig config, int report_fd)
    : config_(std::move(config)), out_(report_fd), rng_(config_.seed),
      mail_(config_.key_prefix, ForeignStartTimeout()) {
  engine_volume_ = volume_;
  if (!config_.sync_journal.empty()) {
    engine_volume_ = std::make_shared<JournaledVolume>(volume_, config_.sync_journal);
  }
}

std::string Worker::RandomKey() {
  return KeyName(config_.key_prefix, static_cast<int>(rng_() % config_.keys));
}

std::chrono::milliseconds Worker::ForeignStartTimeout() const {
  return std::chrono::milliseconds(config_.lease_ms * 4);
}

std::optional<std::string> Worker::RandomLiveKey() {
  if (live_.empty()) return std::nullopt;
  auto it = live_.begin();
  std::advance(it, rng_() % live_.size());
  return it->first;
}

void Worker::Intent(uint64_t op, std::string_view name, const std::string& key,
                    const std::string& tag) {
  out_.Send("intent " + std::to_string(op) + " " + std::string(name) + " " + key +
            (tag.empty() ? "" : " " + tag));
}

void Worker::Ack(uint64_t op, const Status& s) {
  // A lost lease fails every later write (LockLost naming the lease): the parent must hear of it
  // before the failure, which it tolerates from then on.
  if (!s.ok() && s.message().find("lease") != std::string::npos) out_.Send("lease-lost");
  out_.Send("ack " + std::to_string(op) + " " + std::string(StatusCodeName(s.code())) +
            (s.ok() ? "" : " " + s.message()));
}

Status Worker::Start(const std::string& key, const SessionOptions& options) {
  auto profile = players_->StartSession(key, options);
  if (!profile.ok()) return profile.status();
  const ProfileInfo info = profile->Info();
  auto loaded = ParsePayload(profile->LastSavedData());
  out_.Send("acquired " + key + " " + std::to_string(info.epoch) + " " +
            std::to_string(info.session_id) + " " + (loaded ? loaded->Text() : "<unparsable>"));
  // Never two owners: the previous holder in this process ended before this start returned.
  auto previous = live_.find(key);
  if (previous != live_.end()) {
    if (previous->second.handle.IsActive()) {
      out_.Send("violation two owners of " + key + ": epoch " +
                std::to_string(previous->second.epoch) + " is still active after epoch " +
                std::to_string(info.epoch) + " started");
    }
    retired_.push_back(std::move(previous->second.handle));
    live_.erase(previous);
  }
  const uint64_t epoch = info.epoch;
  Reporter* out = &out_;
  profile->OnAfterSave([out, key, epoch](const std::string& data) {
    auto tag = ParsePayload(data);
    out->Send("saved " + key + " " + std::to_string(epoch) + " " +
              (tag ? tag->Text() : "<unparsable>"));
  });
  profile->OnSessionEnd([out, key, epoch](const SessionEnd& end) {
    out->Send("ended " + key + " " + std::to_string(epoch) + " " +
              std::string(EndReasonName(end.reason)) + " " + (end.unsaved_changes ? "1" : "0"));
  });
  live_.emplace(key, Session{std::move(*profile), epoch});
  return Status::Ok();
}

Status Worker::Save(const std::string& key) {
  Session& session = live_.at(key);
  Status s = session.handle.Save();
  if (s.ok()) ReportHolds(key, session);
  return s;
}

void Worker::ReportHolds(const std::string& key, const Session& session) {
  auto tag = ParsePayload(session.handle.Data());
  out_.Send("holds " + key + " " + std::to_string(session.epoch) + " " +
            (tag ? tag->Text() : "<unparsable>"));
}

Status Worker::RaceSaveAgainstSteal(const std::string& key) {
  const uint64_t victim_epoch = live_.at(key).epoch;
  Handle victim = live_.at(key).handle;
  parking_->Arm(key);
  Status saved;
  std::thread saver([&] {
    saved = victim.Save();
    parking_->SaveDone();
  });
  if (!parking_->WaitParkedOrDone(std::chrono::seconds(20))) {
    out_.Send("violation a save of " + key + " neither committed nor reached its commit in 20 s");
  }
  const bool parked = parking_->parked();
  SessionOptions options;
  options.steal = true;
  options.timeout = 10s;
  Status stole = Start(key, options);
  parking_->Release();
  saver.join();
  if (parked && saved.code() != StatusCode::kLockLost) {
    out_.Send("unexpected " + std::string(StatusCodeName(saved.code())) + " a save of " + key +
              " at epoch " + std::to_string(victim_epoch) +
              " that read the lock before a steal returned it (expected LockLost)");
  }
  return stole;
}

Status Worker::End(const std::string& key) {
  auto it = live_.find(key);
  Status s = it->second.handle.EndSession();
  if (s.ok()) ReportHolds(key, it->second);
  if (it->second.handle.IsActive()) return s;  // a failed final save keeps the session
  retired_.push_back(std::move(it->second.handle));
  live_.erase(it);
  return s;
}

Status Worker::Rollback(const std::string& key, uint64_t version, const Tag& restored) {
  auto written = players_->Rollback(key, version);
  if (!written.ok()) return written.status();
  // Nothing else writes this profile now (its session here was ended), so the newest version is
  // the rollback's, and it carries the epoch the rollback took.
  auto versions = players_->Versions(key);
  if (!versions.ok()) return versions.status().WithContext("versions after the rollback");
  if (versions->empty() || versions->front().version != *written ||
      versions->front().reason != VersionReason::kRollback ||
      versions->front().source_version != version) {
    out_.Send("violation the newest version of " + key + " is not the rollback to version " +
              std::to_string(version));
    return Status::Ok();
  }
  out_.Send("rolledback " + key + " " + std::to_string(versions->front().epoch) + " " +
            restored.Text());
  auto live = live_.find(key);
  if (live != live_.end()) {
    if (live->second.handle.IsActive()) {
      out_.Send("violation the session of " + key + " at epoch " +
                std::to_string(live->second.epoch) + " is still active after a rollback");
    }
    retired_.push_back(std::move(live->second.handle));
    live_.erase(live);
  }
  return Status::Ok();
}

Status Worker::Reopen() {
  Status closed = engine_->Close();
  for (auto& [key, session] : live_) retired_.push_back(std::move(session.handle));
  live_.clear();
  vault_live_.clear();
  vault_.reset();
  mail_.Drop();
  players_.reset();
  engine_.reset();
  open_ = false;
  if (!OpenEngine()) WaitForTheKill();
  return closed;
}

Status Worker::Trade() {
  const int a = static_cast<int>(rng_() % kVaultAccounts);
  const int b = static_cast<int>((a + 1 + rng_() % (kVaultAccounts - 1)) % kVaultAccounts);
  const std::string from_key = VaultKey(a);
  const std::string to_key = VaultKey(b);
  // Another engine's start may have taken an account this process held (a handoff): forget it.
  for (auto it = vault_live_.begin(); it != vault_live_.end();) {
    it = it->second.IsActive() ? std::next(it) : vault_live_.erase(it);
  }
  for (const std::string& key : {from_key, to_key}) {
    if (vault_live_.count(key)) continue;
    SessionOptions options;
    // Free, or an orphan of a killed worker: taken at once (RocksDB); on PostgreSQL possibly
    // held by another worker's engine, which hands it off, or by a dead one until its lease ends.
    options.timeout = ForeignStartTimeout();
    auto account = vault_->StartSession(key, options);
    if (!account.ok()) return account.status().WithContext("starting vault account " + key);
    // How each account session ends, counted by the parent ("vault-external": handed off to
    // another start, on PostgreSQL mostly another worker's engine; "vault-stolen", ...).
    Reporter* out = &out_;
    account->OnSessionEnd([out](const SessionEnd& end) {
      out->Send("vault-" + std::string(EndReasonName(end.reason)));
    });
    vault_live_.emplace(key, std::move(*account));
  }
  Handle& from = vault_live_.at(from_key);
  Handle& to = vault_live_.at(to_key);
  const int64_t amount = 1 + static_cast<int64_t>(rng_() % 5);
  Status traded = engine_->Trade(
      [&]() -> Status {
        int64_t moved = 0;
        Status s = from.Edit([&](std::string& d) {
          auto n = ParseItems(d);
          if (n && *n >= amount) {
            d = std::to_string(*n - amount);
            moved = amount;
          }
        });
        if (!s.ok() || moved == 0) return s;
        return to.Edit([&](std::string& d) {
          auto n = ParseItems(d);
          d = std::to_string(n.value_or(0) + moved);
        });
      },
      from, to);
  if (rng_() % 8 == 0) {
    Status ended = vault_live_.at(from_key).EndSession();
    vault_live_.erase(from_key);
    if (traded.ok()) traded = ended;
  }
  return traded;
}

bool Worker::OpenEngine() {
  EngineOptions options;
  options.memory_volume = engine_volume_;
  options.sync_writes = config_.sync;
  options.write_buffer_bytes = 64 << 10;  // the smallest: flushes and compactions come often
  options.worker_threads = 2;
  options.conflict_buckets = 4096;
  options.owner_description = "crash-worker:" + std::to_string(getpid());
  if (config_.lease_ms > 0) {
    options.lease_duration = std::chrono::milliseconds(config_.lease_ms);
    options.on_lease_lost = [this](const Status&) { out_.Send("lease-lost"); };
  }
  if (!parking_) parking_ = std::make_shared<SaveParking>();
  options.fault_hooks = parking_;
  Reporter* out = &out_;
  options.on_orphan_takeover = [out](const OrphanTakeover& o) {
    // The model follows the Players store's locks; the others are reported for the parent's
    // check that no live engine's lock is taken as an orphan (PostgreSQL).
    out->Send(std::string(o.store == kStore ? "orphan " : "orphan-other ") +
              (o.store == kStore ? "" : o.store + "/") + o.key + " " +
              std::to_string(o.previous_incarnation) + " " +
              std::to_string(o.previous_session_id));
  };
  auto engine = Engine::Open(config_.dir, options);
  if (!engine.ok()) {
    out_.Send("open-failed " + engine.status().ToString());
    return false;
  }
  engine_ = std::move(*engine);
  StoreOptions<std::string> store;
  store.template_value = kTemplate;
  store.autosave_period = std::chrono::milliseconds(config_.autosave_ms);
  store.handoff_timeout = 2s;
  store.start_timeout = 10s;
  auto players = engine_->OpenStore<BytesCodec>(kStore, store);
  if (!players.ok()) {
    out_.Send("open-failed " + players.status().ToString());
    return false;
  }
  players_.emplace(std::move(*players));
  StoreOptions<std::string> vault = store;
  vault.template_value = std::to_string(kItemsPerAccount);
  auto vault_store = engine_->OpenStore<BytesCodec>(kVault, vault);
  if (!vault_store.ok()) {
    out_.Send("open-failed " + vault_store.status().ToString());
    return false;
  }
  vault_.emplace(std::move(*vault_store));
  if (Status mail = mail_.Open(*engine_, store); !mail.ok()) {
    out_.Send("open-failed " + mail.ToString());
    return false;
  }
  open_ = true;
  out_.Send("hello " + std::to_string(engine_->Info().incarnation));
  return true;
}

void Worker::InstallKillPoint() {
  if (config_.kill_point.empty() || config_.kill_at == 0) return;
  volume_->fs().SetObserver([this](const test::FileOp& op) {
    if (op.kind == test::FileOpKind::kRead) return;
    const std::string& where = config_.kill_point;
    bool counts = false;
    if (where == "fileop") {
      counts = true;
    } else if (where == "open") {
      counts = !open_.load();
    } else if (where == "flush" || where == "compaction") {
      counts = std::string_view(op.file).ends_with(".sst") &&
               ThreadNameStartsWith(where == "flush" ? "rocksdb:high" : "rocksdb:low");
    }
    if (!counts || kill_count_.fetch_add(1) + 1 != config_.kill_at) return;
    out_.Send("paused " + where + " #" + std::to_string(config_.kill_at) + " at " +
              std::string(op.name) + " " + std::string(op.file));
    WaitForTheKill();
  });
}

void Worker::WaitForTheKill() {
  for (;;) pause();
}

void Worker::Run() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent
  InstallKillPoint();
  if (!OpenEngine()) WaitForTheKill();
  std::vector<int> weights;
  for (const Operation& o : Operations()) weights.push_back(o.run ? o.weight : 0);
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  uint64_t op = config_.first_op;
  for (int i = 0; i < config_.operations; ++i) Operations()[pick(rng_)].run(*this, op++);
  out_.Send("budget");
  WaitForTheKill();
}

}  // namespace holdfast::crash
