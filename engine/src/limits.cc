#include "holdfast/limits.h"

#include <string>

namespace holdfast {

Status ValidateStoreName(std::string_view name) {
  if (name.empty() || name.size() > kMaxStoreNameBytes) {
    return Status::InvalidArgument("store name must be 1-" + std::to_string(kMaxStoreNameBytes) +
                                   " bytes, got " + std::to_string(name.size()));
  }
  for (unsigned char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
    if (!allowed) {
      return Status::InvalidArgument(
          "store name may only hold ASCII letters, digits, '_', '-' and '.'; byte 0x" +
          std::string(1, "0123456789abcdef"[c >> 4]) + std::string(1, "0123456789abcdef"[c & 15]) +
          " is not allowed");
    }
  }
  return Status::Ok();
}

Status ValidateProfileKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxProfileKeyBytes) {
    return Status::InvalidArgument("profile key must be 1-" + std::to_string(kMaxProfileKeyBytes) +
                                   " bytes, got " + std::to_string(key.size()));
  }
  return Status::Ok();
}

Status ValidatePayloadSize(size_t size, size_t limit) {
  if (size > limit) {
    return Status::InvalidArgument("payload of " + std::to_string(size) +
                                   " bytes exceeds the limit of " + std::to_string(limit) +
                                   " bytes (EngineOptions::max_payload_bytes)");
  }
  return Status::Ok();
}

}  // namespace holdfast
