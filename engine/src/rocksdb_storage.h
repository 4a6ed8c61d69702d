// The RocksDB backend of the storage seam: an OptimisticTransactionDB with one column family per
// internal::Family.
#ifndef HOLDFAST_SRC_ROCKSDB_STORAGE_H_
#define HOLDFAST_SRC_ROCKSDB_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "holdfast/status.h"
#include "storage.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace holdfast::internal {

struct RocksStorageOptions {
  std::string path;
  bool create_if_missing = true;
  bool sync = true;
  uint32_t conflict_buckets = 1u << 16;
  size_t write_buffer_bytes = size_t{16} << 20;
  // Null: the default (disk) environment. Not owned; must outlive the storage.
  rocksdb::Env* env = nullptr;
  // Create missing parent directories on the real disk first (always for the default env).
  bool create_parent_directories = false;
};

// True when `path` holds a RocksDB database (its CURRENT file exists).
bool DatabaseExists(const RocksStorageOptions& options);

// Reads one key of the default family without modifying the directory in any way (read-only
// open, no info log, no WAL replay written back). NotFound when the key is absent. InvalidArgument
// when the directory holds column families that Holdfast does not know (not a Holdfast database).
Result<std::string> ReadDefaultKeyReadOnly(const RocksStorageOptions& options,
                                           std::string_view key);

// Opens (creating when allowed) the database with all of Holdfast's column families.
Result<std::unique_ptr<Storage>> OpenRocksStorage(const RocksStorageOptions& options);

// Opens an existing database for reading only, even while another process holds it: a RocksDB
// secondary instance (its own files in a private temporary directory, removed at Close), caught
// up with the primary once, so reads see the database as of the open. Writes nothing to the
// database directory. Transactions, compaction and checkpoints return InvalidArgument.
// InvalidArgument when the path holds no Holdfast database; IOError when it cannot be read.
Result<std::unique_ptr<Storage>> OpenRocksSecondary(const RocksStorageOptions& options);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ROCKSDB_STORAGE_H_
