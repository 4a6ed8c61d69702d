// Whole-store scans for the admin API (holdfast/admin.h): a family read in pages, so that memory
// stays bounded by one page and the caller may read storage between pages (no storage call runs
// inside another's scan), and a store's profiles as found in the meta family.
#ifndef HOLDFAST_SRC_PROFILE_SCAN_H_
#define HOLDFAST_SRC_PROFILE_SCAN_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "holdfast/status.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

// Called for each key (and value, when asked for) in order, outside the storage's scan; return
// false to stop.
using PageVisitor = std::function<bool(const std::string& key, const std::string& value)>;

// Visits `range` of `family` in pages of at most `page_size` records; values are passed only
// `with_values` (otherwise empty). Returns the scan's failure (IOError, Corruption) if any.
Status ScanInPages(Storage& storage, Family family, const ScanRange& range, bool with_values,
                   const PageVisitor& visit, size_t page_size = 256);

// A profile as its meta record was found.
struct StoredProfile {
  // The profile key; the stored key's raw bytes when it does not decode (key_damage is then set).
  std::string key;
  std::string key_damage;
  // The decoded meta record, or why it failed verification (also when the key is damaged).
  Result<ProfileMeta> meta = Status::Internal("not read");
};

// Visits the profiles of `store` (a valid name) in storage order — shorter keys first, then
// bytewise — starting after `after` when set (a valid key). Return false from `visit` to stop.
Status ForEachProfile(Storage& storage, std::string_view store,
                      const std::optional<std::string>& after,
                      const std::function<bool(StoredProfile&)>& visit);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PROFILE_SCAN_H_
