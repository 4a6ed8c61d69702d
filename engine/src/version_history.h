// The version history of one profile inside a transaction: appending a version (the `versions`
// record, the index entry in meta, and usually the data record) and pruning by retention policy.
// Version numbers come from ProfileMeta::last_version, so they strictly increase per profile and
// are never reused, also after pruning.
#ifndef HOLDFAST_SRC_VERSION_HISTORY_H_
#define HOLDFAST_SRC_VERSION_HISTORY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"
#include "holdfast/versions.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

struct VersionWrite {
  std::string_view payload;
  std::string_view codec;
  VersionReason reason = VersionReason::kSave;
  uint64_t epoch = 0;
  uint64_t source_version = 0;
  int64_t now_unix_ms = 0;
  // Also make this payload the profile's current data (false for quarantined bytes).
  bool current = true;
  // A version this commit's pruning must keep whatever the policy says (0: none): the source of
  // a corruption repair, so the bytes being restored are never deleted by the repair itself.
  uint64_t protect_version = 0;
  // kTrade: the other profiles of the commit (null: none).
  const std::vector<ProfileLocation>* partners = nullptr;
  // The store's schema version of `payload` (its migrations).
  uint32_t schema_version = 0;
};

// Writes the next version of the profile at `profile_key` (EncodeProfileKey), updates `meta`
// (last_version, the index) and prunes per `retention`. The caller has read the profile's meta
// for update in `txn` and puts it afterwards: the meta covers the data and version records
// written here (StorageTransaction::PutCovered), which stay out of the conflict check.
// Returns the new version number.
Result<uint64_t> AppendVersion(StorageTransaction& txn, const std::string& profile_key,
                               ProfileMeta& meta, const VersionWrite& write,
                               const VersionRetention& retention);

// The versions of `index` (ascending) that `retention` drops at `now_unix_ms`, never
// `protect_version`.
std::vector<uint64_t> VersionsToPrune(const std::vector<VersionIndexEntry>& index,
                                      int64_t now_unix_ms, const VersionRetention& retention,
                                      uint64_t protect_version = 0);

// Decodes the bytes stored under `version`'s key and checks that the record is that version's.
// Corruption when damaged.
Result<VersionRecord> DecodeVersionAt(std::string_view bytes, uint64_t version);

// Reads and decodes one version record. NotFound when absent; Corruption when damaged.
Result<VersionRecord> ReadVersion(StorageTransaction& txn, const std::string& profile_key,
                                  uint64_t version);
// The same read outside a transaction (a read-only view of the history).
Result<VersionRecord> ReadVersion(Storage& storage, const std::string& profile_key,
                                  uint64_t version);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_VERSION_HISTORY_H_
