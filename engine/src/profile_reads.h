// Read-only access to a profile's stored records, without its lock and outside any transaction:
// what RawStore::Get, Versions and Rollback read. Writes go through profile_transactions.h.
#ifndef HOLDFAST_SRC_PROFILE_READS_H_
#define HOLDFAST_SRC_PROFILE_READS_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <string_view>
#include <vector>

#include "holdfast/raw_store.h"
#include "holdfast/versions.h"
#include "profile_transactions.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

// A store's profile as addressed for reads: the store's name and the profile's key.
struct ProfileRef {
  std::string_view store;
  std::string_view key;
};

// The profile's meta record. InvalidArgument for a bad key; NotFound when the profile does not
// exist; Corruption when the record fails verification.
Result<ProfileMeta> ReadProfileMeta(Storage& storage, ProfileRef at);

// See RawStore::Versions and RawStore::Get.
Result<std::vector<VersionInfo>> ListVersions(Storage& storage, ProfileRef at,
                                              const VersionQuery& query);
Result<RawProfileView> ReadProfileView(Storage& storage, ProfileRef at,
                                       std::optional<uint64_t> version);

// The version a rollback would restore, checked without claiming the key: NotFound (absent or
// pruned), InvalidArgument (quarantined, or fails the store's check), Corruption (damaged).
Result<VersionRecord> ReadRollbackSource(Storage& storage, ProfileRef at, uint64_t version,
                                         const HistoryPolicy& history);

// The newest version written at or before `unix_ms` that is not quarantined. NotFound if none.
Result<uint64_t> RestorableVersionAt(Storage& storage, ProfileRef at, int64_t unix_ms);

// Messages waiting for a profile, in sequence order.
struct WaitingMessages {
  std::vector<MessageRecord> messages;
  // Records that fail verification: their sequence and why (they are skipped, never delivered).
  std::vector<std::pair<uint64_t, Status>> damaged;
  bool more = false;  // stopped at `limit`: later messages wait
};
// At most `limit` messages (damaged ones included) with a sequence above `after`.
Result<WaitingMessages> ReadWaitingMessages(Storage& storage, ProfileRef at, uint64_t after,
                                            size_t limit);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PROFILE_READS_H_
