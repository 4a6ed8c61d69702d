#include "profile_transactions.h"

#include <algorithm>
#include <iterator>

#include "holdfast/limits.h"
#include "key_codec.h"
#include "peer_messages.h"
#include "profile_commit.h"
#include "version_history.h"

namespace holdfast::internal {
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
  if (record->schema_version > history.schema_version) {
    return Status::InvalidArgument(
        "profile '" + std::string(profile) + "': version " + std::to_string(record->version) +
        " was written in schema version " + std::to_string(record->schema_version) +
        ", newer than the " + std::to_string(history.schema_version) +
        " this server's migrations reach: a newer server wrote it (a rolling deploy); this "
        "server must not overwrite it, so nothing was changed");
  }
  if (history.check) {
    if (Status valid = history.check(record->payload, record->schema_version); !valid.ok()) {
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
  result->schema_version = record->schema_version;
  return Status::Ok();
}

// The newest version in `meta`'s index (below `below`) whose record verifies and whose payload
// passes `check`; nullopt when there is none. Damaged and quarantined versions are skipped.
Result<std::optional<VersionRecord>> NewestValidVersion(StorageTransaction& txn,
                                                        const std::string& key,
                                                        const ProfileMeta& meta, uint64_t below,
                                                        const HistoryPolicy& history) {
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
    if (record->schema_version > history.schema_version) continue;  // a newer server's data
    if (history.check) {
      Status valid = history.check(record->payload, record->schema_version);
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
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) -> Status {
    result = AcquireResult{};
    ProfileMeta& meta = result.meta;
    bool exists = false;
    if (Status r = ReadMetaForUpdate(txn, key, &meta, &exists); !r.ok()) return r;
    if (meta.lock && meta.lock->incarnation != request.incarnation) {
      // Another engine's lock: an orphan unless that engine's lease is live (a backend with one
      // writing process has no live peers).
      auto lease = txn.Lease(meta.lock->incarnation);
      if (!lease.ok()) return lease.status();
      result.previous_holder_alive = lease->alive;
      if (lease->alive && !request.take_from_peer) {
        result.held_by_peer = PeerHold{*meta.lock, lease->remaining_ms};
        if (!request.request_release) return Status::Ok();
        meta.release_request =
            ReleaseRequest{request.incarnation, request.session_id, ctx.now_unix_ms};
        txn.Notify(meta.lock->incarnation, EncodePeerMessage(PeerMessageKind::kRelease, key));
        return txn.Put(Family::kMeta, key, EncodeProfileMeta(meta));
      }
    }
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
    write.schema_version = history.schema_version;  // the template is in this server's schema
    if (corrupt) {
      // Choose what to restore before anything is written or pruned: the quarantine entry must
      // not push the newest valid version out of the history it is about to be restored from.
      std::optional<VersionRecord> source;
      if (history.corruption == CorruptionPolicy::kRestoreNewestValid) {
        auto found = NewestValidVersion(txn, key, meta, meta.last_version + 1, history);
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
        write.schema_version = source->schema_version;
        repair.restored_from = source->version;
      }
      auto restored = AppendVersion(txn, key, meta, write, history.retention);
      if (!restored.ok()) return restored.status();
      repair.restored_as = *restored;
      result.payload = std::string(write.payload);
      result.version = *restored;
      result.schema_version = write.schema_version;
      result.repair = std::move(repair);
    } else if (result.created) {
      auto created = AppendVersion(txn, key, meta, write, history.retention);
      if (!created.ok()) return created.status();
      result.payload = template_payload;
      result.version = *created;
      result.schema_version = write.schema_version;
    }
    if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
    staged->push_back({{CommitKind::kAcquire, at.store, at.key, meta.epoch, request.session_id}, (result.created || result.repair) ? result.version : 0});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return result;
}

namespace {

// The lock that a final save just released (`*meta`, lock already cleared) goes to `to` in the
// same transaction, exactly as AcquireProfile would have taken it.
Status StageHandOver(const TransactionContext& ctx, StorageTransaction& txn,
                     const std::string& key, const HandOverTo& to,
                     const std::optional<SessionLock>& released, ProfileMeta* meta,
                     SaveResult* result) {
  std::vector<int64_t> ids = meta->user_ids;
  ids.insert(ids.end(), to.add_user_ids.begin(), to.add_user_ids.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() > kMaxUserIdsPerProfile) return Status::Ok();  // no grant: a plain release
  AcquireResult granted;
  granted.previous_lock = released;
  granted.previous_meta = *meta;
  if (ids != meta->user_ids) {
    if (Status w = UpdateUserIdIndex(txn, key, meta->user_ids, ids); !w.ok()) return w;
    meta->user_ids = std::move(ids);
  }
  meta->epoch += 1;
  meta->lock = SessionLock{to.incarnation, to.session_id, meta->epoch,
                           ctx.now_unix_ms, ctx.now_unix_ms, to.owner};
  meta->load_count += 1;
  if (meta->first_session_unix_ms == 0) meta->first_session_unix_ms = ctx.now_unix_ms;
  granted.epoch = meta->epoch;
  granted.version = result->version;
  result->granted = std::move(granted);
  return Status::Ok();
}

// Stages one save of the profile at `at` (its meta read for update, or given as `meta_read`
// when read so already, and fenced on request.lock) into `txn` and appends its commit point.
Status StageSave(const TransactionContext& ctx, StorageTransaction& txn, ProfileAddress at,
                 const SaveRequest& request, SaveResult* result, std::vector<StagedCommit>* staged,
                 const std::optional<std::string>* meta_read = nullptr) {
  const std::string key = EncodeProfileKey(at.store, at.key);
  *result = SaveResult{};
  ProfileMeta meta;
  bool exists = false;
  Status read = meta_read ? DecodeMetaRead(*meta_read, &meta, &exists)
                          : ReadMetaForUpdate(txn, key, &meta, &exists);
  if (!read.ok()) return read;
  if (Status f = CheckFence(meta, request.lock); !f.ok()) return f;
  const CommitPoint point{request.kind, at.store, at.key, request.lock.epoch,
                          request.lock.session_id};
  result->version = meta.last_version;
  if (request.payload) {
    static const HistoryPolicy kDefaultHistory;
    const HistoryPolicy& history = request.history ? *request.history : kDefaultHistory;
    VersionWrite write{*request.payload, request.codec, request.reason, meta.epoch, 0,
                       ctx.now_unix_ms,  true};
    write.partners = request.partners;
    write.schema_version = request.schema_version;
    auto appended = AppendVersion(txn, key, meta, write, history.retention);
    if (!appended.ok()) return appended.status();
    result->version = *appended;
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
    NotifyReleased(ctx, txn, key, meta);
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
    staged->push_back({point, 0});
    return Status::Ok();
  }
  if (request.user_ids) {
    if (Status w = UpdateUserIdIndex(txn, key, meta.user_ids, *request.user_ids); !w.ok()) {
      return w;
    }
    meta.user_ids = *request.user_ids;
  }
  if (request.metadata) meta.metadata = *request.metadata;
  if (request.processed_messages) {
    for (uint64_t sequence : *request.processed_messages) {
      const std::string message_key = MessageKeyOf(key, sequence);
      std::string ignored;
      Status found = txn.Get(Family::kMessages, message_key, &ignored);
      if (found.code() == StatusCode::kNotFound) continue;
      if (!found.ok()) return found;
      if (Status w = txn.Delete(Family::kMessages, message_key); !w.ok()) return w;
      ++result->messages_removed;
      meta.acked_message_seq = std::max(meta.acked_message_seq, sequence);
    }
  }
  if (request.kind == CommitKind::kRelease || request.kind == CommitKind::kAbandon) {
    NotifyReleased(ctx, txn, key, meta);
    const std::optional<SessionLock> released = std::move(meta.lock);
    meta.lock.reset();
    meta.release_request.reset();
    if (request.hand_to && request.kind == CommitKind::kRelease) {
      if (Status g = StageHandOver(ctx, txn, key, *request.hand_to, released, &meta, result);
          !g.ok()) {
        return g;
      }
    }
  } else {
    meta.lock->renewed_unix_ms = ctx.now_unix_ms;
  }
  meta.updated_unix_ms = ctx.now_unix_ms;
  result->updated_unix_ms = ctx.now_unix_ms;
  if (Status w = txn.Put(Family::kMeta, key, EncodeProfileMeta(meta)); !w.ok()) return w;
  staged->push_back({point, request.payload ? result->version : 0});
  if (result->granted) {
    result->granted->meta = meta;
    staged->push_back(
        {{CommitKind::kAcquire, at.store, at.key, meta.epoch, request.hand_to->session_id}, 0});
  }
  return Status::Ok();
}

}  // namespace

Result<SaveResult> CommitSave(const TransactionContext& ctx, ProfileAddress at,
                              const SaveRequest& request) {
  SaveResult result;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) {
    return StageSave(ctx, txn, at, request, &result, staged);
  });
  if (!s.ok()) return s;
  return result;
}

Result<std::vector<SaveResult>> CommitSaveTogether(const TransactionContext& ctx,
                                                   const std::vector<TogetherPart>& parts,
                                                   size_t* failed) {
  std::vector<SaveResult> results(parts.size());
  *failed = parts.size();
  // Every part's meta read in one call (a batch on RocksDB): the profiles are distinct
  // (SaveTogether refuses a profile given twice; Close's batches hold distinct sessions), so no
  // part's staged write can change what another part reads.
  std::vector<std::string> meta_keys;
  meta_keys.reserve(parts.size());
  for (const TogetherPart& part : parts) {
    meta_keys.push_back(EncodeProfileKey(part.at.store, part.at.key));
  }
  std::vector<std::string> sorted = meta_keys;
  std::sort(sorted.begin(), sorted.end());
  const bool distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  std::vector<std::optional<std::string>> metas;
  Status s = RunProfileCommit(ctx, [&](StorageTransaction& txn, std::vector<StagedCommit>* staged) {
    *failed = parts.size();
    if (distinct) {
      if (Status r = txn.GetManyForUpdate(Family::kMeta, meta_keys, &metas); !r.ok()) return r;
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      if (Status p = StageSave(ctx, txn, parts[i].at, parts[i].request, &results[i], staged,
                               distinct ? &metas[i] : nullptr);
          !p.ok()) {
        *failed = i;
        return p;
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return results;
}

}  // namespace holdfast::internal
