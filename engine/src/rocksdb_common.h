// What the RocksDB backends share: the options every open uses, the column families, the scan
// of a key range, and a logger that writes nothing. rocksdb_storage.cc (the read-write
// OptimisticTransactionDB) and rocksdb_secondary.cc (a read-only follower of a database another
// process holds) include it; nothing else does.
#ifndef HOLDFAST_SRC_ROCKSDB_COMMON_H_
#define HOLDFAST_SRC_ROCKSDB_COMMON_H_

#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <cstdarg>
#include <string>
#include <vector>

#include "rocksdb_options.h"
#include "storage.h"

namespace holdfast::internal {

inline constexpr Family kAllFamilies[kFamilyCount] = {
    Family::kDefault, Family::kData, Family::kMeta, Family::kVersions, Family::kMessages};

// Discards RocksDB's informational log, so that an open that must not write writes no LOG file.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

rocksdb::DBOptions MakeDBOptions(const RocksStorageOptions& o);
rocksdb::ColumnFamilyOptions MakeFamilyOptions(const RocksStorageOptions& o);

// Visits [range.lower, range.upper) of an iterator, bounds checked by hand so the same code
// serves base-DB iterators and transaction (write-batch-merged) iterators.
Status VisitRange(rocksdb::Iterator* it, const ScanRange& range, ScanOrder order,
                  const ScanVisitor& visit);

// The families present on disk, or an empty list for a new database. InvalidArgument when one
// is not Holdfast's (not a Holdfast database).
Result<std::vector<std::string>> ExistingFamilies(const RocksStorageOptions& o);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ROCKSDB_COMMON_H_
