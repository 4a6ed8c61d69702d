#include "holdfast/status.h"

#include <cstdio>
#include <cstdlib>

namespace holdfast {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kLocked:
      return "Locked";
    case StatusCode::kLockLost:
      return "LockLost";
    case StatusCode::kRemoved:
      return "Removed";
    case StatusCode::kAborted:
      return "Aborted";
    case StatusCode::kCancelled:
      return "Cancelled";
    case StatusCode::kTimedOut:
      return "TimedOut";
    case StatusCode::kClosed:
      return "Closed";
    case StatusCode::kBusy:
      return "Busy";
    case StatusCode::kResourceExhausted:
      return "ResourceExhausted";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  if (!message_.empty()) {
    m += ": ";
    m += message_;
  }
  return Status(code_, std::move(m));
}

namespace internal_status {
void DieOnBadResultAccess(const Status& status) {
  std::fprintf(stderr, "holdfast: value() called on a failed Result: %s\n",
               status.ToString().c_str());
  std::abort();
}
}  // namespace internal_status

}  // namespace holdfast
