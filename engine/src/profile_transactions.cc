#include "profile_transactions.h"

#include "key_codec.h"

namespace holdfast::internal {
namespace {

// Reads and decodes meta for update; an absent record gives a fresh ProfileMeta and `*exists`
// false.
Status ReadMetaForUpdate(StorageTransaction& txn, const std::string& key, ProfileMeta* meta,
                         bool* exists) {
  std::string bytes;
  Status s = txn.GetForUpdate(Family::kMeta, key, &bytes);
  if (s.code() == StatusCode::kNotFound) {
    *meta = ProfileMeta{};
    *exists = false;
    return Status::Ok();
  }
  if (!s.ok()) return s;
  auto decoded = DecodeProfileMeta(bytes);
  if (!decoded.ok()) return decoded.status();
  *meta = std::move(*decoded);
  *exists = true;
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

Status BeforeCommit(const TransactionContext& ctx, const CommitPoint& point) {
  return ctx.hooks ? ctx.hooks->BeforeCommit(point) : Status::Ok();
}

Status Run(const TransactionContext& ctx, const std::function<Status(StorageTransaction&)>& body) {
  uint64_t retries = 0;
  Status s = RunTransaction(*ctx.storage, body, kDefaultTransactionAttempts, &retries);
  if (ctx.conflicts && retries > 0) ctx.conflicts->fetch_add(retries, std::memory_order_relaxed);
  return s;
}

}  // namespace

Result<AcquireResult> AcquireProfile(const TransactionContext& ctx, ProfileAddress at,
                                     const AcquireRequest& request) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  AcquireResult result;
  Status s = Run(ctx, [&](StorageTransaction& txn) -> Status {
    result = AcquireResult{};
    ProfileMeta& meta = result.meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    std::string data_bytes;
    Status read = txn.GetForUpdate(Family::kData, key, &data_bytes);
    if (read.ok()) {
      auto record = DecodeProfileRecord(data_bytes);
      if (!record.ok()) return record.status();
      result.payload = std::move(record->payload);
      result.version = record->version;
    } else if (read.code() == StatusCode::kNotFound) {
      result.created = true;
    } else {
      return read;
    }
    if (!exists) meta.created_unix_ms = ctx.now_unix_ms;
    result.previous_lock = meta.lock;
    if (exists) result.previous_meta = meta;
    meta.epoch += 1;
    result.epoch = meta.epoch;
    meta.lock = SessionLock{request.incarnation, request.session_id, meta.epoch,
                            ctx.now_unix_ms,     ctx.now_unix_ms,    request.owner};
    meta.release_request.reset();
    meta.load_count += 1;
    if (meta.first_session_unix_ms == 0) meta.first_session_unix_ms = ctx.now_unix_ms;
    meta.updated_unix_ms = ctx.now_unix_ms;
    if (result.created) {
      result.payload = request.template_payload ? *request.template_payload : std::string();
      result.version = ++meta.last_version;
      ProfileRecord record{result.version, result.payload, request.codec, ctx.now_unix_ms,
                           meta.epoch};
      if (Status w = txn.Put(Family::kData, key, EncodeProfileRecord(record)); !w.ok()) return w;
    }
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    return BeforeCommit(ctx,
                        {CommitKind::kAcquire, at.store, at.key, meta.epoch, request.session_id});
  });
  if (!s.ok()) return s;
  if (ctx.hooks) {
    ctx.hooks->AfterCommit(
        {CommitKind::kAcquire, at.store, at.key, result.epoch, request.session_id},
        result.created ? result.version : 0);
  }
  return result;
}

Result<SaveResult> CommitSave(const TransactionContext& ctx, ProfileAddress at,
                              const SaveRequest& request) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  SaveResult result;
  Status s = Run(ctx, [&](StorageTransaction& txn) -> Status {
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (Status f = CheckFence(meta, request.lock); !f.ok()) return f;
    result.version = meta.last_version;
    if (request.payload) {
      result.version = ++meta.last_version;
      ProfileRecord record{result.version, *request.payload, request.codec, ctx.now_unix_ms,
                           meta.epoch};
      if (Status w = txn.Put(Family::kData, key, EncodeProfileRecord(record)); !w.ok()) return w;
    }
    if (request.undo) {
      ProfileMeta restored = request.undo->previous_meta.value_or(ProfileMeta{});
      restored.epoch = meta.epoch;
      restored.last_version = meta.last_version;
      restored.lock.reset();
      restored.release_request.reset();
      meta = std::move(restored);
      if (request.undo->created) {
        if (Status w = txn.Delete(Family::kData, key); !w.ok()) return w;
      }
      if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
      return BeforeCommit(
          ctx, {request.kind, at.store, at.key, request.lock.epoch, request.lock.session_id});
    }
    if (request.user_ids) meta.user_ids = *request.user_ids;
    if (request.metadata) meta.metadata = *request.metadata;
    if (request.kind == CommitKind::kSave) {
      meta.lock->renewed_unix_ms = ctx.now_unix_ms;
    } else {
      meta.lock.reset();
      meta.release_request.reset();
    }
    meta.updated_unix_ms = ctx.now_unix_ms;
    result.updated_unix_ms = ctx.now_unix_ms;
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    return BeforeCommit(
        ctx, {request.kind, at.store, at.key, request.lock.epoch, request.lock.session_id});
  });
  if (!s.ok()) return s;
  if (ctx.hooks) {
    ctx.hooks->AfterCommit(
        {request.kind, at.store, at.key, request.lock.epoch, request.lock.session_id},
        request.payload ? result.version : 0);
  }
  return result;
}

}  // namespace holdfast::internal
