// How a RocksDB backend opens its database: shared by the read-write storage
// (rocksdb_storage.h) and what both RocksDB backends use (rocksdb_common.h), so that neither
// header needs the other.
#ifndef HOLDFAST_SRC_ROCKSDB_OPTIONS_H_
#define HOLDFAST_SRC_ROCKSDB_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

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

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ROCKSDB_OPTIONS_H_
