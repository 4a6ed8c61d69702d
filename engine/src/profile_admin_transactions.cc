// The profile transactions that the lock holder does not make: an admin's write (rollback, edit,
// release), a message sent to the profile, its removal, and rebuilding the user-id index. (The
// holder's own — acquire, save, save-together — are in profile_transactions.cc.)
#include <algorithm>
#include <vector>

#include "key_codec.h"
#include "peer_messages.h"
#include "profile_commit.h"
#include "profile_transactions.h"
#include "version_history.h"

namespace holdfast::internal {

Result<AdminWriteResult> CommitAdminWrite(const TransactionContext& ctx, ProfileAddress at,
                                          const AdminWriteRequest& request) {
  static const HistoryPolicy kDefaultHistory;
  const HistoryPolicy& history = request.history ? *request.history : kDefaultHistory;
  const std::string key = EncodeProfileKey(at.store, at.key);
  AdminWriteResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) -> Status {
    result = AdminWriteResult{};
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (!exists) return Status::NotFound("no profile '" + std::string(at.key) + "'");
    std::string current;
    bool damaged = false;
    uint32_t current_schema = 0;
    if (Status d = txn.Get(Family::kData, key, &current); d.ok()) {
      auto record = DecodeProfileRecord(current);
      damaged = !record.ok();
      if (record.ok()) {
        result.previous_payload = std::move(record->payload);
        current_schema = record->schema_version;
      }
    } else if (d.code() != StatusCode::kNotFound) {
      return d;
    }
    result.previous_user_ids = meta.user_ids;
    result.previous_metadata = meta.metadata;
    result.was_locked = meta.lock.has_value();
    if (request.only_if_locked && !result.was_locked) return Status::Ok();  // nothing to clear
    meta.epoch += 1;
    if (damaged && request.payload) {
      // The write replaces a damaged data record: keep its bytes as evidence first, as a
      // start's repair would. Nothing is ever silently discarded.
      VersionWrite quarantine{current,    request.codec, VersionReason::kQuarantine,
                              meta.epoch, 0,             ctx.now_unix_ms,
                              false,      request.source_version};
      auto kept = AppendVersion(txn, key, meta, quarantine, history.retention);
      if (!kept.ok()) return kept.status();
    }
    NotifyReleased(ctx, txn, key, meta);
    meta.lock.reset();
    meta.release_request.reset();
    meta.updated_unix_ms = ctx.now_unix_ms;
    if (request.payload) {
      VersionWrite write{*request.payload,        request.codec,   request.reason, meta.epoch,
                         request.source_version, ctx.now_unix_ms, true};
      // A rollback copies the data as it was; an admin edit is in the server's current schema.
      write.schema_version = request.schema_version.value_or(current_schema);
      auto appended = AppendVersion(txn, key, meta, write, history.retention);
      if (!appended.ok()) return appended.status();
      result.version = *appended;
    }
    result.epoch = meta.epoch;
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    staged->push_back({{request.kind, at.store, at.key, meta.epoch, 0}, result.version});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Result<uint64_t> CommitMessage(const TransactionContext& ctx, ProfileAddress at,
                               const MessageRequest& request) {
  if (request.payload.size() > request.max_bytes) {
    if (request.over_limit) *request.over_limit = true;
    return Status::ResourceExhausted("message of " + std::to_string(request.payload.size()) +
                                     " bytes is larger than max_message_bytes (" +
                                     std::to_string(request.max_bytes) + "); nothing was sent");
  }
  const std::string key = EncodeProfileKey(at.store, at.key);
  uint64_t sequence = 0;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) -> Status {
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    // Every message of the profile is under its profile key (keys are length-prefixed, so no
    // other profile's are). Counting stops at the cap. Concurrent senders and saves all write
    // meta, so they serialize on it.
    uint64_t waiting = 0;
    Status scan = txn.Scan(Family::kMessages, ScanRange::Prefix(key), ScanOrder::kForward,
                           [&](std::string_view, std::string_view) {
                             return ++waiting < request.max_pending;
                           });
    if (!scan.ok()) return scan;
    if (waiting >= request.max_pending) {
      if (request.over_limit) *request.over_limit = true;
      return Status::ResourceExhausted(
          "profile '" + std::string(at.key) + "' already has " + std::to_string(waiting) +
          " messages waiting (max_pending_messages); nothing was sent");
    }
    sequence = meta.next_message_seq + 1;
    meta.next_message_seq = sequence;
    const std::string record =
        EncodeMessageRecord(MessageRecord{sequence, std::string(request.payload), ctx.now_unix_ms});
    if (Status w = txn.Put(Family::kMessages, MessageKeyOf(key, sequence), record); !w.ok()) {
      return w;
    }
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    // A holder in another engine (sharing the database) hears of it when this commits.
    if (meta.lock && meta.lock->incarnation != ctx.incarnation) {
      txn.Notify(meta.lock->incarnation, EncodePeerMessage(PeerMessageKind::kMessage, key));
    }
    staged->push_back({{CommitKind::kMessage, at.store, at.key, meta.epoch, 0}, 0});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return sequence;
}

namespace {

// Deletes every key of `family` under `prefix` inside `txn`; returns how many.
Result<uint64_t> DeletePrefix(StorageTransaction& txn, Family family, const std::string& prefix) {
  std::vector<std::string> keys;
  Status scan = txn.Scan(family, ScanRange::Prefix(prefix), ScanOrder::kForward,
                         [&](std::string_view k, std::string_view) {
                           keys.emplace_back(k);
                           return true;
                         });
  if (!scan.ok()) return scan;
  for (const std::string& k : keys) {
    if (Status w = txn.Delete(family, k); !w.ok()) return w;
  }
  return static_cast<uint64_t>(keys.size());
}

}  // namespace

namespace {

// Deletes every user-id index entry that points at `profile_key` (a full scan of the index: for a
// profile whose meta is damaged, so its user ids are unknown).
Status DeleteUserIdEntriesOf(StorageTransaction& txn, const std::string& profile_key) {
  std::vector<std::string> keys;
  Status scan = txn.Scan(Family::kDefault, ScanRange::Prefix(kUserIdIndexPrefix),
                         ScanOrder::kForward, [&](std::string_view k, std::string_view) {
                           const size_t head = kUserIdIndexPrefix.size() + 8;
                           if (k.size() > head && k.substr(head) == profile_key) keys.emplace_back(k);
                           return true;
                         });
  if (!scan.ok()) return scan;
  for (const std::string& k : keys) {
    if (Status w = txn.Delete(Family::kDefault, k); !w.ok()) return w;
  }
  return Status::Ok();
}

}  // namespace

Result<RemoveResult> CommitRemove(const TransactionContext& ctx, ProfileAddress at) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  RemoveResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) -> Status {
    result = RemoveResult{};
    // Read for update (so a concurrent write conflicts) but not decoded: a damaged record is
    // erased like any other.
    std::string meta_bytes;
    std::string data_bytes;
    Status meta = txn.GetForUpdate(Family::kMeta, key, &meta_bytes);
    if (!meta.ok() && meta.code() != StatusCode::kNotFound) return meta;
    Status data = txn.GetForUpdate(Family::kData, key, &data_bytes);
    if (!data.ok() && data.code() != StatusCode::kNotFound) return data;
    if (meta.code() == StatusCode::kNotFound && data.code() == StatusCode::kNotFound) {
      return Status::NotFound("no profile '" + std::string(at.key) + "'");
    }
    auto versions = DeletePrefix(txn, Family::kVersions, key);
    if (!versions.ok()) return versions.status();
    auto messages = DeletePrefix(txn, Family::kMessages, key);
    if (!messages.ok()) return messages.status();
    result.versions = *versions;
    result.messages = *messages;
    if (Status w = txn.Delete(Family::kData, key); !w.ok()) return w;
    if (Status w = txn.Delete(Family::kMeta, key); !w.ok()) return w;
    uint64_t epoch = 0;
    auto decoded = meta.ok() ? DecodeProfileMeta(meta_bytes) : Result<ProfileMeta>(ProfileMeta{});
    if (decoded.ok()) {
      epoch = decoded->epoch;
      if (Status w = UpdateUserIdIndex(txn, key, decoded->user_ids, {}); !w.ok()) return w;
    } else if (Status w = DeleteUserIdEntriesOf(txn, key); !w.ok()) {
      return w;  // damaged meta: its ids are unknown, so look through the whole index
    }
    staged->push_back({{CommitKind::kRemove, at.store, at.key, epoch, 0}, 0});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Status RebuildUserIdIndex(StorageTransaction& txn) {
  std::vector<std::string> stale;
  Status scan = txn.Scan(Family::kDefault, ScanRange::Prefix(kUserIdIndexPrefix),
                         ScanOrder::kForward, [&](std::string_view k, std::string_view) {
                           stale.emplace_back(k);
                           return true;
                         });
  if (!scan.ok()) return scan;
  for (const std::string& k : stale) {
    if (Status w = txn.Delete(Family::kDefault, k); !w.ok()) return w;
  }
  std::vector<std::string> entries;
  scan = txn.Scan(Family::kMeta, ScanRange{}, ScanOrder::kForward,
                  [&](std::string_view k, std::string_view v) {
                    auto meta = DecodeProfileMeta(v);
                    if (!meta.ok()) return true;
                    for (int64_t id : meta->user_ids) entries.push_back(UserIdKey(id, k));
                    return true;
                  });
  if (!scan.ok()) return scan;
  for (const std::string& k : entries) {
    if (Status w = txn.Put(Family::kDefault, k, ""); !w.ok()) return w;
  }
  return Status::Ok();
}

Result<std::optional<PeerHold>> RequestPeerRelease(const TransactionContext& ctx,
                                                   ProfileAddress at, bool request) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  std::optional<PeerHold> held;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>*) {
    held.reset();
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (!meta.lock || meta.lock->incarnation == ctx.incarnation) return Status::Ok();
    auto lease = txn.Lease(meta.lock->incarnation);
    if (!lease.ok()) return lease.status();
    if (!lease->alive) return Status::Ok();  // an orphan: nobody to ask
    held = PeerHold{*meta.lock, lease->remaining_ms};
    if (!request) return Status::Ok();
    meta.release_request = ReleaseRequest{ctx.incarnation, 0, ctx.now_unix_ms};
    txn.Notify(meta.lock->incarnation, EncodePeerMessage(PeerMessageKind::kRelease, key));
    return txn.Put(Family::kMeta, key, EncodeProfileMeta(meta));
  });
  if (!s.ok()) return s;
  return held;
}

}  // namespace holdfast::internal
