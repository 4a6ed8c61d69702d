#include "profile_transactions.h"

#include <algorithm>
#include <iterator>

#include "holdfast/limits.h"
#include "key_codec.h"
#include "version_history.h"

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

// Makes the user-id index hold exactly `after` for the profile, where it held `before` (both
// sorted and unique).
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

// What a profile transaction's body stages: the commit it is (for the fault hooks) and the
// payload version it writes (0: none).
struct StagedCommit {
  CommitPoint point{};
  uint64_t version = 0;
};

// Runs one profile transaction (restarts counted as conflicts). `body` stages the writes and
// fills `*staged`; the fault hooks see the point just before the commit and, once it committed,
// the point and the version written. Every write to meta, data and versions goes through here.
Status RunProfileCommit(const TransactionContext& ctx,
                        const std::function<Status(StorageTransaction&, StagedCommit*)>& body) {
  StagedCommit staged;
  uint64_t retries = 0;
  Status s = RunTransaction(
      *ctx.storage,
      [&](StorageTransaction& txn) -> Status {
        staged = StagedCommit{};
        if (Status b = body(txn, &staged); !b.ok()) return b;
        return ctx.hooks ? ctx.hooks->BeforeCommit(staged.point) : Status::Ok();
      },
      kDefaultTransactionAttempts, &retries);
  if (ctx.conflicts && retries > 0) ctx.conflicts->fetch_add(retries, std::memory_order_relaxed);
  if (s.ok() && ctx.hooks) ctx.hooks->AfterCommit(staged.point, staged.version);
  return s;
}

}  // namespace

namespace {

// Reads the current payload for an acquisition. `*corrupt` says why it cannot be used (the
// record fails verification, or the payload fails the store's check and the policy repairs
// disagreements); `*raw` then holds the bytes to quarantine. A disagreement the policy does not
// repair fails with InvalidArgument.
Status ReadCurrent(StorageTransaction& txn, std::string_view profile, const std::string& key,
                   const HistoryPolicy& history, AcquireResult* result, std::string* raw,
                   std::optional<std::string>* corrupt) {
  Status read = txn.GetForUpdate(Family::kData, key, raw);
  if (read.code() == StatusCode::kNotFound) {
    result->created = true;
    return Status::Ok();
  }
  if (!read.ok()) return read;
  auto record = DecodeProfileRecord(*raw);
  if (!record.ok()) {
    *corrupt = record.status().message();
    return Status::Ok();
  }
  if (history.check) {
    if (Status valid = history.check(record->payload); !valid.ok()) {
      // A check that could not decide (game code threw) is no verdict of corruption: the
      // acquisition fails and writes nothing.
      if (valid.code() == StatusCode::kInternal) return valid;
      const std::string which = "version " + std::to_string(record->version);
      if (valid.code() != StatusCode::kCorruption && !history.repair_disagreement) {
        return Status::InvalidArgument(
            "profile '" + std::string(profile) + "': " + which +
            " is intact but this server refuses it (" + valid.message() +
            "): the stored data and the running code disagree — a bad deploy or a stricter "
            "validate, not damage; nothing was changed or restored "
            "(StoreSettings::repair_disagreement restores instead)");
      }
      *corrupt = "payload of " + which + " fails the store's check: " + valid.ToString();
      *raw = record->payload;
      return Status::Ok();
    }
  }
  *raw = record->payload;
  result->payload = std::move(record->payload);
  result->version = record->version;
  return Status::Ok();
}

// The newest version in `meta`'s index (below `below`) whose record verifies and whose payload
// passes `check`; nullopt when there is none. Damaged and quarantined versions are skipped.
Result<std::optional<VersionRecord>> NewestValidVersion(StorageTransaction& txn,
                                                        const std::string& key,
                                                        const ProfileMeta& meta, uint64_t below,
                                                        const PayloadCheck& check) {
  for (auto it = meta.versions.rbegin(); it != meta.versions.rend(); ++it) {
    if (it->version >= below || it->reason == static_cast<uint8_t>(VersionReason::kQuarantine)) {
      continue;
    }
    auto record = ReadVersion(txn, key, it->version);
    if (!record.ok()) {
      if (record.status().code() == StatusCode::kNotFound ||
          record.status().code() == StatusCode::kCorruption) {
        continue;
      }
      return record.status();
    }
    if (check) {
      Status valid = check(record->payload);
      if (valid.code() == StatusCode::kInternal) return valid;  // no verdict: stop
      if (!valid.ok()) continue;
    }
    return std::optional<VersionRecord>(std::move(*record));
  }
  return std::optional<VersionRecord>();
}

}  // namespace

Result<AcquireResult> AcquireProfile(const TransactionContext& ctx, ProfileAddress at,
                                     const AcquireRequest& request) {
  static const HistoryPolicy kDefaultHistory;
  const HistoryPolicy& history = request.history ? *request.history : kDefaultHistory;
  const std::string key = EncodeProfileKey(at.store, at.key);
  const std::string empty_template;
  const std::string& template_payload =
      request.template_payload ? *request.template_payload : empty_template;
  AcquireResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, StagedCommit* staged) -> Status {
    result = AcquireResult{};
    ProfileMeta& meta = result.meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    std::string raw;
    std::optional<std::string> corrupt;
    if (Status r = ReadCurrent(txn, at.key, key, history, &result, &raw, &corrupt); !r.ok()) {
      return r;
    }
    if (corrupt && history.corruption == CorruptionPolicy::kFail) {
      return Status::Corruption("profile '" + std::string(at.key) + "': " + *corrupt +
                                " (corruption policy: fail; nothing was changed)");
    }
    if (corrupt && request.before_repair) {
      if (Status allowed = request.before_repair(*corrupt); !allowed.ok()) return allowed;
    }
    // A meta record can outlive its data: an undone creating start keeps one (its epoch and
    // version counter never go back). Creating the data again is the profile's creation.
    if (!exists || result.created) meta.created_unix_ms = ctx.now_unix_ms;
    result.previous_lock = meta.lock;
    if (exists) result.previous_meta = meta;
    meta.epoch += 1;
    result.epoch = meta.epoch;
    meta.lock = SessionLock{request.incarnation, request.session_id, meta.epoch,
                            ctx.now_unix_ms,     ctx.now_unix_ms,    request.owner};
    meta.release_request.reset();
    meta.load_count += 1;
    if (request.add_user_ids && !request.add_user_ids->empty()) {
      std::vector<int64_t> ids = meta.user_ids;
      ids.insert(ids.end(), request.add_user_ids->begin(), request.add_user_ids->end());
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      if (ids.size() > kMaxUserIdsPerProfile) {
        return Status::InvalidArgument(
            "the start's user ids would give the profile " + std::to_string(ids.size()) +
            " (at most " + std::to_string(kMaxUserIdsPerProfile) + "); nothing was changed");
      }
      if (Status w = UpdateUserIdIndex(txn, key, meta.user_ids, ids); !w.ok()) return w;
      meta.user_ids = std::move(ids);
    }
    if (meta.first_session_unix_ms == 0) meta.first_session_unix_ms = ctx.now_unix_ms;
    meta.updated_unix_ms = ctx.now_unix_ms;
    VersionWrite write{template_payload, request.codec, VersionReason::kCreate, meta.epoch, 0,
                       ctx.now_unix_ms,  true};
    if (corrupt) {
      // Choose what to restore before anything is written or pruned: the quarantine entry must
      // not push the newest valid version out of the history it is about to be restored from.
      std::optional<VersionRecord> source;
      if (history.corruption == CorruptionPolicy::kRestoreNewestValid) {
        auto found = NewestValidVersion(txn, key, meta, meta.last_version + 1, history.check);
        if (!found.ok()) return found.status();
        source = std::move(*found);
      }
      const uint64_t protect = source ? source->version : 0;
      // Keep the bad bytes as evidence, then restore: nothing is silently discarded.
      CorruptionRepair repair;
      repair.reason = *corrupt;
      VersionWrite quarantine{
          raw,   request.codec, VersionReason::kQuarantine, meta.epoch, 0, ctx.now_unix_ms,
          false, protect};
      auto quarantined = AppendVersion(txn, key, meta, quarantine, history.retention);
      if (!quarantined.ok()) return quarantined.status();
      repair.quarantined_version = *quarantined;
      write.reason = VersionReason::kCorruptionRecovery;
      write.protect_version = protect;
      if (source) {
        write.payload = source->payload;
        write.source_version = source->version;
        repair.restored_from = source->version;
      }
      auto restored = AppendVersion(txn, key, meta, write, history.retention);
      if (!restored.ok()) return restored.status();
      repair.restored_as = *restored;
      result.payload = std::string(write.payload);
      result.version = *restored;
      result.repair = std::move(repair);
    } else if (result.created) {
      auto created = AppendVersion(txn, key, meta, write, history.retention);
      if (!created.ok()) return created.status();
      result.payload = template_payload;
      result.version = *created;
    }
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    staged->point = {CommitKind::kAcquire, at.store, at.key, meta.epoch, request.session_id};
    staged->version = (result.created || result.repair) ? result.version : 0;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Result<SaveResult> CommitSave(const TransactionContext& ctx, ProfileAddress at,
                              const SaveRequest& request) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  SaveResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, StagedCommit* staged) -> Status {
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (Status f = CheckFence(meta, request.lock); !f.ok()) return f;
    result.version = meta.last_version;
    if (request.payload) {
      static const HistoryPolicy kDefaultHistory;
      const HistoryPolicy& history = request.history ? *request.history : kDefaultHistory;
      VersionWrite write{*request.payload, request.codec, request.reason, meta.epoch, 0,
                         ctx.now_unix_ms,  true};
      auto appended = AppendVersion(txn, key, meta, write, history.retention);
      if (!appended.ok()) return appended.status();
      result.version = *appended;
    }
    if (request.undo) {
      // Undo an acquisition: meta as it was (keeping the new epoch and version counter, which
      // never go back), no lock. A profile the acquisition created disappears again; a repair
      // of a corrupt payload stays (its versions hold the quarantined bytes).
      ProfileMeta restored = request.undo->previous_meta.value_or(ProfileMeta{});
      restored.epoch = meta.epoch;
      restored.last_version = meta.last_version;
      // Messages sent meanwhile stay, with their counter.
      restored.next_message_seq = meta.next_message_seq;
      restored.acked_message_seq = meta.acked_message_seq;
      restored.lock.reset();
      restored.release_request.reset();
      if (request.undo->created) {
        for (const VersionIndexEntry& v : meta.versions) {
          if (Status w = txn.Delete(Family::kVersions, VersionKeyOf(key, v.version)); !w.ok()) {
            return w;
          }
        }
        restored.versions.clear();
        if (Status w = txn.Delete(Family::kData, key); !w.ok()) return w;
      } else {
        restored.versions = meta.versions;
      }
      if (Status w = UpdateUserIdIndex(txn, key, meta.user_ids, restored.user_ids); !w.ok()) {
        return w;
      }
      meta = std::move(restored);
      if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
      staged->point = {request.kind, at.store, at.key, request.lock.epoch, request.lock.session_id};
      return Status::Ok();
    }
    if (request.user_ids) {
      if (Status w = UpdateUserIdIndex(txn, key, meta.user_ids, *request.user_ids); !w.ok()) {
        return w;
      }
      meta.user_ids = *request.user_ids;
    }
    if (request.metadata) meta.metadata = *request.metadata;
    result.messages_removed = 0;
    if (request.processed_messages) {
      for (uint64_t sequence : *request.processed_messages) {
        const std::string message_key = MessageKeyOf(key, sequence);
        std::string ignored;
        Status found = txn.Get(Family::kMessages, message_key, &ignored);
        if (found.code() == StatusCode::kNotFound) continue;
        if (!found.ok()) return found;
        if (Status w = txn.Delete(Family::kMessages, message_key); !w.ok()) return w;
        ++result.messages_removed;
        meta.acked_message_seq = std::max(meta.acked_message_seq, sequence);
      }
    }
    if (request.kind == CommitKind::kSave) {
      meta.lock->renewed_unix_ms = ctx.now_unix_ms;
    } else {
      meta.lock.reset();
      meta.release_request.reset();
    }
    meta.updated_unix_ms = ctx.now_unix_ms;
    result.updated_unix_ms = ctx.now_unix_ms;
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    staged->point = {request.kind, at.store, at.key, request.lock.epoch, request.lock.session_id};
    staged->version = request.payload ? result.version : 0;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

Result<RollbackResult> CommitRollback(const TransactionContext& ctx, ProfileAddress at,
                                      const RollbackRequest& request) {
  static const HistoryPolicy kDefaultHistory;
  const HistoryPolicy& history = request.history ? *request.history : kDefaultHistory;
  const VersionRecord& source = *request.source;
  const std::string key = EncodeProfileKey(at.store, at.key);
  RollbackResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, StagedCommit* staged) -> Status {
    result = RollbackResult{};
    ProfileMeta meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (!exists) return Status::NotFound("no profile '" + std::string(at.key) + "'");
    std::string current;
    bool damaged = false;
    if (Status d = txn.Get(Family::kData, key, &current); d.ok()) {
      auto record = DecodeProfileRecord(current);
      damaged = !record.ok();
      if (record.ok()) result.previous_payload = std::move(record->payload);
    } else if (d.code() != StatusCode::kNotFound) {
      return d;
    }
    result.previous_user_ids = meta.user_ids;
    result.previous_metadata = meta.metadata;
    meta.epoch += 1;
    if (damaged) {
      // The rollback replaces a damaged data record: keep its bytes as evidence first, as a
      // start's repair would. Nothing is ever silently discarded.
      VersionWrite quarantine{
          current, source.codec,  VersionReason::kQuarantine, meta.epoch, 0, ctx.now_unix_ms,
          false,   source.version};
      auto kept = AppendVersion(txn, key, meta, quarantine, history.retention);
      if (!kept.ok()) return kept.status();
    }
    meta.lock.reset();
    meta.release_request.reset();
    meta.updated_unix_ms = ctx.now_unix_ms;
    VersionWrite write{
        source.payload,  source.codec, VersionReason::kRollback, meta.epoch, source.version,
        ctx.now_unix_ms, true};
    auto appended = AppendVersion(txn, key, meta, write, history.retention);
    if (!appended.ok()) return appended.status();
    result.version = *appended;
    result.epoch = meta.epoch;
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    staged->point = {CommitKind::kRollback, at.store, at.key, meta.epoch, 0};
    staged->version = result.version;
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
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, StagedCommit* staged) -> Status {
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
    staged->point = {CommitKind::kMessage, at.store, at.key, meta.epoch, 0};
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
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, StagedCommit* staged) -> Status {
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
    staged->point = {CommitKind::kRemove, at.store, at.key, epoch, 0};
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

}  // namespace holdfast::internal
