#include "profile_import.h"

#include <string>

#include "key_codec.h"
#include "version_history.h"

namespace holdfast::internal {
namespace {

std::string Named(const ImportWrite& write) {
  return "profile '" + std::string(write.at.key) + "'";
}

}  // namespace

Status StageImportedProfile(StorageTransaction& txn, int64_t now_unix_ms,
                            const ImportWrite& write, bool* created,
                            std::vector<StagedCommit>* staged) {
  const std::string key = EncodeProfileKey(write.at.store, write.at.key);
  ProfileMeta meta;
  bool exists = false;
  if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) {
    return r.WithContext(Named(write) + ": its meta record");
  }
  if (meta.lock && !write.through_lock) {
    return Status::Locked(Named(write) + " is held by '" + meta.lock->owner + "' (epoch " +
                          std::to_string(meta.lock->epoch) +
                          "); go through the session lock to import it");
  }
  // A damaged current record is evidence an import must not overwrite unseen.
  std::string current;
  Status data = txn.GetForUpdate(Family::kData, key, &current);
  if (data.ok()) {
    if (auto record = DecodeProfileRecord(current); !record.ok()) {
      return record.status().WithContext(Named(write) + ": its data record");
    }
  } else if (data.code() != StatusCode::kNotFound) {
    return data;
  }
  *created = data.code() == StatusCode::kNotFound;
  const ImportedProfile& profile = *write.profile;
  meta.epoch += 1;
  meta.lock.reset();
  meta.release_request.reset();
  if (!exists) meta.created_unix_ms = now_unix_ms;
  meta.updated_unix_ms = now_unix_ms;
  const std::vector<int64_t> old_user_ids = std::move(meta.user_ids);
  meta.user_ids = profile.user_ids;
  meta.metadata = profile.metadata;
  VersionWrite version{profile.payload, write.codec, VersionReason::kAdmin, meta.epoch,
                       0,               now_unix_ms, true};
  version.schema_version = profile.schema_version;
  auto appended = AppendVersion(txn, key, meta, version, write.history->retention);
  if (!appended.ok()) return appended.status();
  if (Status w = UpdateUserIdIndex(txn, key, old_user_ids, meta.user_ids); !w.ok()) return w;
  if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
  staged->push_back(
      {{CommitKind::kAdminWrite, write.at.store, write.at.key, meta.epoch, 0}, *appended});
  return Status::Ok();
}

}  // namespace holdfast::internal
