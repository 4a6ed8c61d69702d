// The one place where rocksdb::Status becomes a holdfast::Status.
#ifndef HOLDFAST_SRC_ROCKSDB_STATUS_H_
#define HOLDFAST_SRC_ROCKSDB_STATUS_H_

#include <rocksdb/status.h>

#include <string_view>

#include "holdfast/status.h"

namespace holdfast::internal {

// Busy and TryAgain become Busy (retry the transaction); NoSpace becomes ResourceExhausted;
// Corruption stays Corruption; NotFound stays NotFound; other I/O trouble becomes IOError.
Status FromRocksDB(const rocksdb::Status& s, std::string_view context);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ROCKSDB_STATUS_H_
