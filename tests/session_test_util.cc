#include "session_test_util.h"

#include "internals.h"

namespace holdfast::test {

void CommitGate::PauseNext(CommitKind kind, std::string key) {
  std::lock_guard lock(mu_);
  pause_ = {kind, std::move(key)};
  parked_ = false;
  released_ = false;
}

void CommitGate::WaitUntilPaused() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return parked_; });
}

void CommitGate::Release() {
  std::lock_guard lock(mu_);
  released_ = true;
  cv_.notify_all();
}

void CommitGate::FailNext(int count, Status status, std::optional<CommitKind> kind) {
  std::lock_guard lock(mu_);
  fail_count_ = count;
  fail_status_ = std::move(status);
  fail_kind_ = kind;
}

void CommitGate::ClearFailures() {
  std::lock_guard lock(mu_);
  fail_count_ = 0;
}

std::vector<CommitRecord> CommitGate::Committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

int CommitGate::BeforeCommitCalls() const {
  std::lock_guard lock(mu_);
  return before_calls_;
}

Status CommitGate::BeforeCommit(const CommitPoint& point) {
  std::unique_lock lock(mu_);
  ++before_calls_;
  if (pause_ && pause_->first == point.kind && pause_->second == point.key) {
    pause_.reset();
    parked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }
  if (fail_count_ > 0 && (!fail_kind_ || *fail_kind_ == point.kind)) {
    --fail_count_;
    return fail_status_;
  }
  return Status::Ok();
}

void CommitGate::AfterCommit(const CommitPoint& point, uint64_t version) {
  std::lock_guard lock(mu_);
  committed_.push_back({point.kind, std::string(point.store), std::string(point.key), point.epoch,
                        point.session_id, version});
}

void SessionTest::SetUp() {
  if (OnPostgres()) {
    auto database = TestPostgresDatabase::Create();
    ASSERT_OK(database);
    postgres_ = std::move(*database);
  }
  OpenEngine();
}

std::string SessionTest::DatabasePath() const {
  return postgres_ ? postgres_->conninfo() : "/sessions";
}

void SessionTest::TearDown() {
  gate_->Release();  // never leave a commit parked
  if (engine_) EXPECT_OK(engine_->Close());
}

EngineOptions SessionTest::Options() {
  EngineOptions o;
  o.memory_volume = volume_;
  o.clock = clock_;
  o.fault_hooks = gate_;
  o.conflict_buckets = 1024;
  o.worker_threads = 2;
  o.on_error = errors_->Hook();
  return o;
}

void SessionTest::OpenEngine() {
  auto engine = Engine::Open(DatabasePath(), Options());
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
}

void SessionTest::ReopenEngine() {
  ASSERT_OK(engine_->Close());
  engine_.reset();
  OpenEngine();
}

Store<BytesCodec> SessionTest::OpenPlayers(std::function<void(StoreOptions<std::string>&)> tweak) {
  StoreOptions<std::string> options;
  options.template_value = "new-player";
  if (tweak) tweak(options);
  auto store = engine_->OpenStore<BytesCodec>("Players", options);
  EXPECT_OK(store);
  return std::move(*store);
}

std::optional<std::string> SessionTest::StoredPayload(const std::string& store,
                                                      const std::string& key) {
  std::string bytes;
  Status s = test::StorageOf(*engine_).Get(internal::Family::kData,
                                           internal::EncodeProfileKey(store, key), &bytes);
  if (!s.ok()) return std::nullopt;
  auto record = internal::DecodeProfileRecord(bytes);
  if (!record.ok()) return std::nullopt;
  return record->payload;
}

std::optional<internal::ProfileMeta> SessionTest::StoredMeta(const std::string& store,
                                                             const std::string& key) {
  std::string bytes;
  Status s = test::StorageOf(*engine_).Get(internal::Family::kMeta,
                                           internal::EncodeProfileKey(store, key), &bytes);
  if (!s.ok()) return std::nullopt;
  auto meta = internal::DecodeProfileMeta(bytes);
  if (!meta.ok()) return std::nullopt;
  return *meta;
}

std::map<std::string, std::string> RawProfileRecords(Engine& engine, const std::string& store,
                                                     const std::string& key) {
  std::map<std::string, std::string> records;
  internal::Storage& storage = test::StorageOf(engine);
  const std::string profile_key = internal::EncodeProfileKey(store, key);
  for (internal::Family family : {internal::Family::kMeta, internal::Family::kData}) {
    std::string bytes;
    if (storage.Get(family, profile_key, &bytes).ok()) {
      records[std::string(internal::FamilyName(family))] = bytes;
    }
  }
  Status scanned = storage.Scan(
      internal::Family::kVersions, internal::ScanRange::Prefix(profile_key),
      internal::ScanOrder::kForward, [&](std::string_view k, std::string_view v) {
        records["versions/" + std::string(k.substr(profile_key.size()))] = std::string(v);
        return true;
      });
  EXPECT_OK(scanned);
  return records;
}

std::map<std::string, std::string> SessionTest::RawRecords(const std::string& store,
                                                          const std::string& key) {
  return RawProfileRecords(*engine_, store, key);
}

}  // namespace holdfast::test
