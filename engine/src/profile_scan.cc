#include "profile_scan.h"

#include <utility>
#include <vector>

#include "key_codec.h"

namespace holdfast::internal {

Status ScanInPages(Storage& storage, Family family, const ScanRange& range, bool with_values,
                   const PageVisitor& visit, size_t page_size) {
  ScanRange next = range;
  std::vector<std::pair<std::string, std::string>> page;
  for (;;) {
    page.clear();
    Status s = storage.Scan(
        family, next, ScanOrder::kForward, [&](std::string_view key, std::string_view value) {
          page.emplace_back(std::string(key), with_values ? std::string(value) : std::string());
          return page.size() < page_size;
        });
    if (!s.ok()) return s;
    for (const auto& [key, value] : page) {
      if (!visit(key, value)) return Status::Ok();
    }
    if (page.size() < page_size) return Status::Ok();
    // The smallest key after the last one seen.
    next.lower = page.back().first + '\0';
  }
}

Status ForEachProfile(Storage& storage, std::string_view store,
                      const std::optional<std::string>& after,
                      const std::function<bool(StoredProfile&)>& visit) {
  ScanRange range = ScanRange::Prefix(EncodeStorePrefix(store));
  if (after) range.lower = EncodeProfileKey(store, *after) + '\0';
  return ScanInPages(storage, Family::kMeta, range, /*with_values=*/true,
                     [&](const std::string& raw_key, const std::string& value) {
                       StoredProfile profile;
                       auto key = DecodeKey(raw_key, /*with_number=*/false);
                       if (key.ok()) {
                         profile.key = std::move(key->key);
                       } else {
                         profile.key = raw_key;
                         profile.key_damage = key.status().message();
                       }
                       profile.meta = DecodeProfileMeta(value);
                       return visit(profile);
                     });
}

}  // namespace holdfast::internal
