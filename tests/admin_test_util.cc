#include "admin_test_util.h"

#include <chrono>

#include "internals.h"

namespace holdfast::test {

std::map<std::string, std::string> RecordsOf(Engine& engine, bool with_manifest) {
  std::map<std::string, std::string> records;
  for (int f = 0; f < internal::kFamilyCount; ++f) {
    const auto family = static_cast<internal::Family>(f);
    EXPECT_OK(StorageOf(engine).Scan(
        family, internal::ScanRange{}, internal::ScanOrder::kForward,
        [&](std::string_view key, std::string_view value) {
          if (with_manifest || family != internal::Family::kDefault ||
              key != internal::kManifestKey) {
            records[std::string(internal::FamilyName(family)) + "/" + std::string(key)] = value;
          }
          return true;
        }));
  }
  return records;
}

void AdminFixture::SetUp() { OpenEngine(); }

void AdminFixture::TearDown() {
  if (engine_) EXPECT_OK(engine_->Close());
}

EngineOptions AdminFixture::Options(bool create) {
  return EngineOptions{.create_if_missing = create,
                       .sync_writes = false,
                       .conflict_buckets = 1024,
                       .clock = clock_,
                       .worker_threads = 1,
                       .owner_description = "admin-test-server",
                       .admin_socket = false};
}

void AdminFixture::OpenEngine() {
  auto engine = Engine::Open(path_, Options());
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
}

void AdminFixture::ReopenEngine() {
  CloseEngine();
  OpenEngine();
}

void AdminFixture::CloseEngine() {
  if (!engine_) return;
  EXPECT_OK(engine_->Close());
  engine_.reset();
}

Store<BytesCodec> AdminFixture::OpenPlayers(StoreOptions<std::string> options) {
  options.template_value = "new";
  auto store = engine_->OpenStore<BytesCodec>("Players", std::move(options));
  EXPECT_OK(store);
  return std::move(*store);
}

void AdminFixture::WriteHistory(Store<BytesCodec>& store, const std::string& key,
                                const std::vector<std::string>& payloads) {
  auto profile = store.StartSession(key);
  ASSERT_OK(profile);
  for (const std::string& payload : payloads) {
    clock_->Advance(std::chrono::seconds(1));
    ASSERT_OK(profile->Edit([&](std::string& data) { data = payload; }));
    ASSERT_OK(profile->Save());
  }
  ASSERT_OK(profile->EndSession());
}

void AdminFixture::WriteRaw(internal::Family family, const std::string& raw_key,
                            const std::string& bytes) {
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    return txn.Put(family, raw_key, bytes);
  }));
}

void AdminFixture::DeleteRaw(internal::Family family, const std::string& raw_key) {
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    return txn.Delete(family, raw_key);
  }));
}

}  // namespace holdfast::test
