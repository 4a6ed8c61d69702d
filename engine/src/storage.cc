#include "storage.h"

#include <thread>

namespace holdfast::internal {

Status StorageTransaction::GetManyForUpdate(Family f, const std::vector<std::string>& keys,
                                            std::vector<std::optional<std::string>>* values) {
  values->assign(keys.size(), std::nullopt);
  std::string value;
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = GetForUpdate(f, keys[i], &value);
    if (s.code() == StatusCode::kNotFound) continue;
    if (!s.ok()) return s;
    (*values)[i] = std::move(value);
  }
  return Status::Ok();
}

std::string_view FamilyName(Family f) {
  switch (f) {
    case Family::kDefault:
      return "default";
    case Family::kData:
      return "data";
    case Family::kMeta:
      return "meta";
    case Family::kVersions:
      return "versions";
    case Family::kMessages:
      return "messages";
  }
  return "unknown";
}

ScanRange ScanRange::Prefix(std::string_view prefix) {
  ScanRange r;
  r.lower.assign(prefix);
  // The smallest key greater than every key with this prefix: drop trailing 0xff bytes, then
  // increment the last byte. An all-0xff prefix has no upper bound.
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (!upper.empty())
    upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  r.upper = std::move(upper);
  return r;
}

Status RunTransaction(Storage& storage, const std::function<Status(StorageTransaction&)>& body,
                      int attempts, uint64_t* retries) {
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      if (retries) ++*retries;
      // Optimistic conflicts clear as soon as the other writer commits; give it the core.
      std::this_thread::yield();
    }
    auto txn = storage.Begin();
    if (!txn.ok()) return txn.status();
    last = body(**txn);
    if (last.ok()) last = (*txn)->Commit();
    if (last.code() != StatusCode::kBusy) return last;
  }
  return last.WithContext("transaction kept conflicting after " + std::to_string(attempts) +
                          " attempts");
}

}  // namespace holdfast::internal
