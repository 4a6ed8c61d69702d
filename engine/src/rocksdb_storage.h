// The RocksDB backend of the storage seam: an OptimisticTransactionDB with one column family per
// internal::Family.
#ifndef HOLDFAST_SRC_ROCKSDB_STORAGE_H_
#define HOLDFAST_SRC_ROCKSDB_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "holdfast/status.h"
#include "rocksdb_options.h"
#include "storage.h"

namespace holdfast::internal {

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
