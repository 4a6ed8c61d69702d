#include "profile_commit.h"

#include <algorithm>
#include <iterator>

#include "key_codec.h"
#include "peer_messages.h"

namespace holdfast::internal {

Status ReadMetaForUpdate(StorageTransaction& txn, const std::string& key, ProfileMeta* meta,
                         bool* exists) {
  std::optional<std::string> bytes(std::in_place);
  Status s = txn.GetForUpdate(Family::kMeta, key, &*bytes);
  if (s.code() == StatusCode::kNotFound) {
    bytes.reset();
  } else if (!s.ok()) {
    return s;
  }
  return DecodeMetaRead(bytes, meta, exists);
}

Status DecodeMetaRead(const std::optional<std::string>& bytes, ProfileMeta* meta, bool* exists) {
  if (!bytes) {
    *meta = ProfileMeta{};
    *exists = false;
    return Status::Ok();
  }
  auto decoded = DecodeProfileMeta(*bytes);
  if (!decoded.ok()) return decoded.status();
  *meta = std::move(*decoded);
  *exists = true;
  return Status::Ok();
}

Status UpdateUserIdIndex(StorageTransaction& txn, const std::string& profile_key,
                         const std::vector<int64_t>& before, const std::vector<int64_t>& after) {
  std::vector<int64_t> gone;
  std::vector<int64_t> added;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(gone));
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  for (int64_t id : gone) {
    if (Status w = txn.Delete(Family::kDefault, UserIdKey(id, profile_key)); !w.ok()) return w;
  }
  for (int64_t id : added) {
    if (Status w = txn.Put(Family::kDefault, UserIdKey(id, profile_key), ""); !w.ok()) return w;
  }
  return Status::Ok();
}

Status CheckFence(const ProfileMeta& meta, const LockIdentity& me) {
  if (!meta.lock) {
    return Status::LockLost("the profile's lock was released (epoch now " +
                            std::to_string(meta.epoch) + ", this session had " +
                            std::to_string(me.epoch) + ")");
  }
  const SessionLock& l = *meta.lock;
  if (l.incarnation != me.incarnation || l.session_id != me.session_id || l.epoch != me.epoch ||
      meta.epoch != me.epoch) {
    return Status::LockLost("the profile is held by session " + std::to_string(l.session_id) +
                            " of engine incarnation " + std::to_string(l.incarnation) +
                            " at epoch " + std::to_string(meta.epoch) +
                            "; this session had epoch " + std::to_string(me.epoch));
  }
  return Status::Ok();
}

void NotifyReleased(const TransactionContext& ctx, StorageTransaction& txn,
                    const std::string& profile_key, const ProfileMeta& meta) {
  if (meta.release_request && meta.release_request->incarnation != ctx.incarnation) {
    txn.Notify(meta.release_request->incarnation,
               EncodePeerMessage(PeerMessageKind::kFreed, profile_key));
  }
}

Status RunProfileCommit(
    const TransactionContext& ctx,
    const std::function<Status(StorageTransaction&, std::vector<StagedCommit>*)>& body) {
  std::vector<StagedCommit> staged;
  uint64_t retries = 0;
  Status s = RunTransaction(
      *ctx.storage,
      [&](StorageTransaction& txn) -> Status {
        staged.clear();
        if (Status b = body(txn, &staged); !b.ok()) return b;
        if (!ctx.hooks) return Status::Ok();
        for (const StagedCommit& point : staged) {
          if (Status h = ctx.hooks->BeforeCommit(point.point); !h.ok()) return h;
        }
        return Status::Ok();
      },
      kDefaultTransactionAttempts, &retries);
  if (ctx.conflicts && retries > 0) ctx.conflicts->fetch_add(retries, std::memory_order_relaxed);
  if (s.ok() && ctx.commits) ctx.commits->fetch_add(1, std::memory_order_relaxed);
  if (s.ok() && ctx.hooks) {
    for (const StagedCommit& point : staged) ctx.hooks->AfterCommit(point.point, point.version);
  }
  return s;
}

}  // namespace holdfast::internal
