// RawDatabase: a closed Holdfast directory opened read-only straight through RocksDB, without the
// engine (an engine open takes a new incarnation and writes). The crash checker and the
// power-loss and I/O-fault tests use it to run RocksDB's checksum verification and to read the
// records exactly as stored (RecordReader, record_reader.h). Not thread-safe; one reader at a time.
#ifndef HOLDFAST_TESTS_CRASH_RAW_DATABASE_H_
#define HOLDFAST_TESTS_CRASH_RAW_DATABASE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holdfast/status.h"
#include "record_reader.h"
#include "records.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
}  // namespace rocksdb

namespace holdfast::test {

class RawDatabase final : public RecordReader {
 public:
  // Opens `path` read-only, naming every column family on disk (default, data, meta, versions,
  // messages). `env` null: the disk. The write-ahead log is replayed in memory only.
  // Returns Corruption / IOError as RocksDB reports them.
  static Result<std::unique_ptr<RawDatabase>> Open(const std::string& path, rocksdb::Env* env);
  // Opens `path` on the disk for writing, for a test that damages records on purpose (the crash
  // test's parent, between kills). Same families; writes are synced.
  static Result<std::unique_ptr<RawDatabase>> OpenForWriting(const std::string& path);
  ~RawDatabase() override;

  // RocksDB's verification of every block checksum in every table file of every family.
  Status VerifyChecksums() override;

  // One profile's records as stored: nullopt when absent, Corruption when they fail to decode.
  Result<std::optional<internal::ProfileMeta>> Meta(std::string_view store, std::string_view key) override;
  Result<std::optional<internal::ProfileRecord>> Data(std::string_view store,
                                                     std::string_view key) override;
  Result<std::optional<internal::VersionRecord>> Version(std::string_view store,
                                                        std::string_view key,
                                                        uint64_t version) override;
  Result<internal::Manifest> Manifest() override;
  // The profile's waiting messages in sequence order; Corruption when one fails to decode.
  Result<std::vector<internal::MessageRecord>> Messages(std::string_view store,
                                                        std::string_view key) override;
  // A profile's data record as stored, undecoded (nullopt when absent), and its replacement
  // (OpenForWriting only).
  Result<std::optional<std::string>> DataBytes(std::string_view store, std::string_view key) override;
  Status PutDataBytes(std::string_view store, std::string_view key, const std::string& bytes);
  // Every (store, key) that has a meta or a data record, in key order.
  Result<std::vector<std::pair<std::string, std::string>>> Profiles() override;

 private:
  // The one opener behind Open (read-only) and OpenForWriting.
  static Result<std::unique_ptr<RawDatabase>> OpenWith(const std::string& path, rocksdb::Env* env,
                                                       bool writable);
  RawDatabase(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles);
  rocksdb::ColumnFamilyHandle* Family(std::string_view name) const;
  // NotFound when absent.
  Status Get(std::string_view family, const std::string& key, std::string* value);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_CRASH_RAW_DATABASE_H_
