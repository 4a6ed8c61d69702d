// Engine::Open: creation, reopen, incarnations, format-version refusal and the store registry.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>
#include <memory>

#include "internals.h"
#include "holdfast/engine.h"
#include "test_util.h"

namespace holdfast {
namespace {

using internal::Family;

EngineOptions SmallOptions() {
  EngineOptions o;
  o.conflict_buckets = 1024;
  return o;
}

Status PutRecord(Engine& engine, std::string_view key, const internal::ProfileRecord& record) {
  return internal::RunTransaction(test::StorageOf(engine), [&](internal::StorageTransaction& txn) {
    return txn.Put(Family::kData, key, internal::EncodeProfileRecord(record));
  });
}

Result<internal::ProfileRecord> GetRecord(Engine& engine, std::string_view key) {
  std::string bytes;
  if (Status s = test::StorageOf(engine).Get(Family::kData, key, &bytes); !s.ok()) return s;
  return internal::DecodeProfileRecord(bytes);
}

void ExpectDataSurvivesReopen(const std::string& path, const EngineOptions& options) {
  std::string key = internal::EncodeProfileKey("Players", std::string("player\0one", 10));
  uint64_t first_incarnation = 0;
  {
    auto engine = Engine::Open(path, options);
    ASSERT_OK(engine);
    first_incarnation = (*engine)->Info().incarnation;
    EXPECT_GE(first_incarnation, 1u);
    internal::ProfileRecord r;
    r.version = 3;
    r.payload = "gold=12";
    r.codec = "bytes";
    ASSERT_OK(PutRecord(**engine, key, r));
    ASSERT_OK((*engine)->Close());
  }
  auto engine = Engine::Open(path, options);
  ASSERT_OK(engine);
  EXPECT_EQ((*engine)->Info().incarnation, first_incarnation + 1);
  EXPECT_EQ((*engine)->Info().format_version, SupportedFormatVersion());
  auto r = GetRecord(**engine, key);
  ASSERT_OK(r);
  EXPECT_EQ(r->payload, "gold=12");
  EXPECT_EQ(r->version, 3u);
}

TEST(EngineOpenTest, DataSurvivesReopenOnDisk) {
  test::TempDir dir;
  ExpectDataSurvivesReopen(dir.Sub("nested/db"), SmallOptions());
}

TEST(EngineOpenTest, DataSurvivesReopenInMemoryVolume) {
  EngineOptions options = SmallOptions();
  options.memory_volume = MemoryVolume::Create();
  ExpectDataSurvivesReopen("/mem/db", options);
}

TEST(EngineOpenTest, EveryOpenGetsANewIncarnation) {
  EngineOptions options = SmallOptions();
  options.memory_volume = MemoryVolume::Create();
  uint64_t last = 0;
  for (int i = 0; i < 4; ++i) {
    auto engine = Engine::Open("/db", options);
    ASSERT_OK(engine);
    EXPECT_GT((*engine)->Info().incarnation, last);
    last = (*engine)->Info().incarnation;
  }
}

TEST(EngineOpenTest, MissingDatabaseWithoutCreateIsInvalidArgument) {
  test::TempDir dir;
  EngineOptions options = SmallOptions();
  options.create_if_missing = false;
  ASSERT_CODE(Engine::Open(dir.Sub("absent"), options), kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("absent")));
}

TEST(EngineOpenTest, SecondOpenOfSameDirectoryIsIOError) {
  test::TempDir dir;
  auto first = Engine::Open(dir.Sub("db"), SmallOptions());
  ASSERT_OK(first);
  auto second = Engine::Open(dir.Sub("db"), SmallOptions());
  ASSERT_CODE(second, kIOError);
  EXPECT_NE(second.status().message().find("is already open"), std::string::npos)
      << second.status();
}

// Rewrites the manifest of a closed database so that it claims `format_version`.
void WriteManifestFormat(const std::string& path, uint32_t format_version) {
  auto engine = Engine::Open(path, SmallOptions());
  ASSERT_OK(engine);
  ASSERT_OK(
      internal::RunTransaction(test::StorageOf(**engine), [&](internal::StorageTransaction& txn) {
        internal::Manifest m;
        m.format_version = format_version;
        m.last_incarnation = 50;
        return txn.Put(Family::kDefault, internal::kManifestKey, internal::EncodeManifest(m));
      }));
  ASSERT_OK((*engine)->Close());
}

TEST(EngineOpenTest, NewerFormatIsRefusedAndDirectoryIsUntouched) {
  test::TempDir dir;
  std::string path = dir.Sub("db");
  WriteManifestFormat(path, internal::kFormatVersion + 1);
  auto before = test::SnapshotDirectory(path);
  auto engine = Engine::Open(path, SmallOptions());
  ASSERT_CODE(engine, kInvalidArgument);
  EXPECT_NE(engine.status().message().find("newer than this build supports"), std::string::npos)
      << engine.status();
  EXPECT_EQ(test::SnapshotDirectory(path), before);
}

TEST(EngineOpenTest, CorruptManifestIsCorruptionAndDirectoryIsUntouched) {
  test::TempDir dir;
  std::string path = dir.Sub("db");
  {
    auto engine = Engine::Open(path, SmallOptions());
    ASSERT_OK(engine);
    ASSERT_OK(internal::RunTransaction(
        test::StorageOf(**engine), [](internal::StorageTransaction& txn) {
          return txn.Put(Family::kDefault, internal::kManifestKey, "not a manifest at all");
        }));
    ASSERT_OK((*engine)->Close());
  }
  auto before = test::SnapshotDirectory(path);
  ASSERT_CODE(Engine::Open(path, SmallOptions()), kCorruption);
  EXPECT_EQ(test::SnapshotDirectory(path), before);
}

// Creates a plain RocksDB database at `path` (another program's) and lets `fill` write to it.
void CreateForeignRocksDB(const std::string& path, const std::function<void(rocksdb::DB&)>& fill) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  fill(*db);
}

TEST(EngineOpenTest, ForeignRocksDBIsRefused) {
  test::TempDir dir;
  std::string path = dir.Sub("db");
  CreateForeignRocksDB(path, [](rocksdb::DB& db) {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    ASSERT_TRUE(db.CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "inventory", &handle).ok());
    ASSERT_TRUE(db.DestroyColumnFamilyHandle(handle).ok());
  });
  auto engine = Engine::Open(path, SmallOptions());
  ASSERT_CODE(engine, kInvalidArgument);
  EXPECT_NE(engine.status().message().find("not a Holdfast database"), std::string::npos);
}

TEST(EngineOpenTest, StoreRegistryPersistsAndChecksCodec) {
  EngineOptions options = SmallOptions();
  options.memory_volume = MemoryVolume::Create();
  {
    auto engine = Engine::Open("/db", options);
    ASSERT_OK(engine);
    internal::StoreRegistry& stores = test::StoresOf(**engine);
    ASSERT_OK(stores.Register("Players", "bytes", ""));
    ASSERT_OK(stores.Register("Guilds", "json", ""));
    ASSERT_OK(stores.Register("Players", "bytes", ""));  // idempotent
    ASSERT_CODE(stores.Register("Players", "json", ""), kInvalidArgument);
    ASSERT_CODE(stores.Register("bad name", "bytes", ""), kInvalidArgument);
    ASSERT_CODE(stores.Register("", "bytes", ""), kInvalidArgument);
  }
  auto engine = Engine::Open("/db", options);
  ASSERT_OK(engine);
  EXPECT_EQ((*engine)->Info().stores, (std::vector<std::string>{"Guilds", "Players"}));
  auto stores = test::StoresOf(**engine).Registered();
  ASSERT_EQ(stores.size(), 2u);
  EXPECT_EQ(stores[1].codec, "bytes");
  ASSERT_OK((*engine)->Close());
  ASSERT_CODE(test::StoresOf(**engine).Register("Later", "bytes", ""), kClosed);
}

// Without create_if_missing (the admin CLI), writing a manifest into another program's RocksDB
// would create a Holdfast database there: refused, the directory untouched.
TEST(EngineOpenTest, RocksDBWithoutManifestIsRefusedWhenNotCreating) {
  test::TempDir dir;
  std::string path = dir.Sub("db");
  CreateForeignRocksDB(path, [](rocksdb::DB& db) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), "their", "data").ok());
  });
  auto before = test::SnapshotDirectory(path);
  EngineOptions options = SmallOptions();
  options.create_if_missing = false;
  auto engine = Engine::Open(path, options);
  ASSERT_CODE(engine, kInvalidArgument);
  EXPECT_NE(engine.status().message().find("not a Holdfast database"), std::string::npos)
      << engine.status();
  EXPECT_EQ(test::SnapshotDirectory(path), before);
}

TEST(EngineOpenTest, CloseIsIdempotent) {
  EngineOptions options = SmallOptions();
  options.memory_volume = MemoryVolume::Create();
  auto engine = Engine::Open("/db", options);
  ASSERT_OK(engine);
  EXPECT_FALSE((*engine)->IsClosing());
  ASSERT_OK((*engine)->Close());
  EXPECT_TRUE((*engine)->IsClosing());
  ASSERT_OK((*engine)->Close());
}

}  // namespace
}  // namespace holdfast
