#include "rocksdb_status.h"

#include <string>

namespace holdfast::internal {

Status FromRocksDB(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::Ok();
  std::string m(context);
  m += ": ";
  m += s.ToString();
  using C = rocksdb::Status::Code;
  switch (s.code()) {
    case C::kNotFound:
      return Status::NotFound(std::move(m));
    case C::kCorruption:
      return Status::Corruption(std::move(m));
    case C::kInvalidArgument:
    case C::kNotSupported:
      return Status::InvalidArgument(std::move(m));
    case C::kBusy:
    case C::kTryAgain:
    case C::kTimedOut:
      return Status::Busy(std::move(m));
    case C::kIncomplete:
    case C::kMergeInProgress:
    case C::kAborted:
    case C::kExpired:
    case C::kCompactionTooLarge:
    case C::kColumnFamilyDropped:
      return Status::Internal(std::move(m));
    case C::kShutdownInProgress:
      return Status::Closed(std::move(m));
    case C::kIOError:
      if (s.IsNoSpace()) return Status::ResourceExhausted(std::move(m));
      return Status::IOError(std::move(m));
    default:
      return Status::IOError(std::move(m));
  }
}

}  // namespace holdfast::internal
