// Store-level operations that need no session: listing versions, read-only views, rollback.
#include <algorithm>

#include "holdfast/limits.h"
#include "key_codec.h"
#include "session_core.h"
#include "session_runtime.h"
#include "store_core.h"
#include "version_history.h"

namespace holdfast::internal {
namespace {

VersionInfo InfoOf(const VersionIndexEntry& e) {
  VersionInfo info;
  info.version = e.version;
  info.written_unix_ms = e.written_unix_ms;
  info.reason = static_cast<VersionReason>(e.reason);
  return info;
}

void Fill(VersionInfo& info, const VersionRecord& r) {
  info.epoch = r.epoch;
  info.source_version = r.source_version;
  info.payload_bytes = r.payload.size();
}

Result<ProfileMeta> ReadMeta(Storage& storage, const std::string& key, std::string_view name) {
  std::string bytes;
  Status s = storage.Get(Family::kMeta, key, &bytes);
  if (s.code() == StatusCode::kNotFound) {
    return Status::NotFound("no profile '" + std::string(name) + "'");
  }
  if (!s.ok()) return s;
  return DecodeProfileMeta(bytes);
}

Result<ProfileMeta> ValidateAndReadMeta(Storage& storage, const std::string& profile_key,
                                        std::string_view key) {
  if (Status s = ValidateProfileKey(key); !s.ok()) return s;
  return ReadMeta(storage, profile_key, key);
}

// The index entry of `version` in `meta`; NotFound (never written, or pruned) when absent.
Result<VersionIndexEntry> IndexedVersion(const ProfileMeta& meta, std::string_view key,
                                         uint64_t version) {
  auto it = std::find_if(meta.versions.begin(), meta.versions.end(),
                         [&](const VersionIndexEntry& e) { return e.version == version; });
  if (it == meta.versions.end()) {
    return Status::NotFound("version " + std::to_string(version) + " of '" + std::string(key) +
                            "' does not exist (never written, or pruned)");
  }
  return *it;
}

Result<VersionRecord> ReadVersionRecord(Storage& storage, const std::string& profile_key,
                                        uint64_t version) {
  std::string key = profile_key;
  AppendBigEndian64(&key, version);
  std::string bytes;
  if (Status s = storage.Get(Family::kVersions, key, &bytes); !s.ok()) return s;
  auto record = DecodeVersionRecord(bytes);
  if (record.ok() && record->version != version) {
    return Status::Corruption("version record " + std::to_string(version) + " claims version " +
                              std::to_string(record->version));
  }
  return record;
}

}  // namespace

Result<std::vector<VersionInfo>> StoreCore::Versions(std::string_view key,
                                                     const VersionQuery& query) {
  InFlightGuard guard(*runtime_);
  if (!guard.admitted()) return Status::Closed("engine is closing");
  Storage& storage = runtime_->storage();
  const std::string profile_key = EncodeProfileKey(name_, key);
  auto meta = ValidateAndReadMeta(storage, profile_key, key);
  if (!meta.ok()) return meta.status();
  std::vector<VersionInfo> out;
  for (auto it = meta->versions.rbegin(); it != meta->versions.rend(); ++it) {
    if (query.limit != 0 && out.size() >= query.limit) break;
    if (query.before_version && it->version >= *query.before_version) continue;
    if (query.to_unix_ms && it->written_unix_ms > *query.to_unix_ms) continue;
    if (query.from_unix_ms && it->written_unix_ms < *query.from_unix_ms) continue;
    VersionInfo info = InfoOf(*it);
    auto record = ReadVersionRecord(storage, profile_key, it->version);
    if (record.ok()) {
      Fill(info, *record);
    } else if (record.status().code() == StatusCode::kCorruption ||
               record.status().code() == StatusCode::kNotFound) {
      info.damaged = true;
    } else {
      return record.status();
    }
    out.push_back(info);
  }
  return out;
}

Result<RawProfileView> StoreCore::Get(std::string_view key, std::optional<uint64_t> version) const {
  InFlightGuard guard(*runtime_);
  if (!guard.admitted()) return Status::Closed("engine is closing");
  Storage& storage = runtime_->storage();
  const std::string profile_key = EncodeProfileKey(name_, key);
  auto meta = ValidateAndReadMeta(storage, profile_key, key);
  if (!meta.ok()) return meta.status();
  RawProfileView view;
  view.load_count = meta->load_count;
  view.user_ids = meta->user_ids;
  view.metadata = meta->metadata;
  view.locked = meta->lock.has_value();
  if (!version) {
    std::string bytes;
    Status s = storage.Get(Family::kData, profile_key, &bytes);
    if (s.code() == StatusCode::kNotFound)
      return Status::NotFound("no data for '" + std::string(key) + "'");
    if (!s.ok()) return s;
    auto record = DecodeProfileRecord(bytes);
    if (!record.ok()) return record.status();
    version = record->version;
    view.payload = std::move(record->payload);
    view.version.version = record->version;
    view.version.written_unix_ms = record->updated_unix_ms;
    view.version.epoch = record->epoch;
    view.version.payload_bytes = view.payload.size();
    auto it = std::find_if(meta->versions.begin(), meta->versions.end(),
                           [&](const VersionIndexEntry& e) { return e.version == *version; });
    if (it != meta->versions.end()) {
      view.version.reason = static_cast<VersionReason>(it->reason);
      // The version record says which version a rollback or repair restored; Get(key, v) and
      // Versions report it, so the current view does too. A damaged record leaves it 0.
      auto history = ReadVersionRecord(storage, profile_key, *version);
      if (history.ok()) view.version.source_version = history->source_version;
    }
    return view;
  }
  auto entry = IndexedVersion(*meta, key, *version);
  if (!entry.ok()) return entry.status();
  auto record = ReadVersionRecord(storage, profile_key, *version);
  if (!record.ok()) return record.status();
  view.version = InfoOf(*entry);
  Fill(view.version, *record);
  view.payload = std::move(record->payload);
  return view;
}

Result<VersionRecord> StoreCore::RollbackSource(std::string_view key, uint64_t version) const {
  InFlightGuard guard(*runtime_);
  if (!guard.admitted()) return Status::Closed("engine is closing");
  Storage& storage = runtime_->storage();
  const std::string profile_key = EncodeProfileKey(name_, key);
  auto meta = ValidateAndReadMeta(storage, profile_key, key);
  if (!meta.ok()) return meta.status();
  auto entry = IndexedVersion(*meta, key, version);
  if (!entry.ok()) return entry.status();
  if (entry->reason == static_cast<uint8_t>(VersionReason::kQuarantine)) {
    return Status::InvalidArgument("version " + std::to_string(version) +
                                   " is quarantined (corrupt bytes) and cannot be restored");
  }
  auto source = ReadVersionRecord(storage, profile_key, version);
  if (!source.ok()) {
    return source.status().WithContext("reading version " + std::to_string(version) + " of '" +
                                       std::string(key) + "'");
  }
  if (history_.check) {
    if (Status valid = history_.check(source->payload); !valid.ok()) {
      return Status::InvalidArgument("version " + std::to_string(version) +
                                     " fails the store's check: " + valid.ToString());
    }
  }
  return source;
}

Result<uint64_t> StoreCore::Rollback(std::string_view key_view, uint64_t version) {
  // Everything that can refuse the rollback is checked before the key is claimed: claiming ends
  // a live session (final save, release), and a refused rollback must change nothing. Version
  // records are immutable, so the source read here is still that version's payload when the
  // transaction below runs, even if the live session's final save pruned it from the index.
  SessionRuntime& rt = *runtime_;
  auto source = RollbackSource(key_view, version);
  if (!source.ok()) {
    rt.RecordStorageResult(source.status());  // a failed read counts toward the critical state
    return source.status();
  }
  uint64_t written = 0;
  Status s = Exclusive(
      key_view, EndReason::kRollback,
      [&](const std::string& key, const std::shared_ptr<SessionCore>& victim) {
        auto rolled = CommitRollback(rt.Context(), {name_, key}, {&*source, &history_});
        rt.RecordStorageResult(rolled.status());
        if (victim) {
          // A stuck holder fenced for the rollback: it learns exactly what it leaves unsaved.
          std::optional<bool> unsaved;
          if (rolled.ok()) {
            unsaved = victim->UnsavedAgainst(rolled->previous_payload, rolled->previous_user_ids,
                                             rolled->previous_metadata);
          }
          victim->EndOnce(EndReason::kStolen,
                          rolled.ok()
                              ? "fenced out by a rollback"
                              : "fenced for a rollback that failed: " + rolled.status().ToString(),
                          unsaved);
        }
        if (!rolled.ok()) return rolled.status();
        written = rolled->version;
        return Status::Ok();
      });
  if (!s.ok()) return s;
  rt.counters().rollbacks.fetch_add(1, std::memory_order_relaxed);
  return written;
}

Result<uint64_t> StoreCore::RollbackTo(std::string_view key, int64_t unix_ms) {
  std::optional<uint64_t> target;
  {
    InFlightGuard guard(*runtime_);
    if (!guard.admitted()) return Status::Closed("engine is closing");
    auto meta = ValidateAndReadMeta(runtime_->storage(), EncodeProfileKey(name_, key), key);
    if (!meta.ok()) return meta.status();
    for (auto it = meta->versions.rbegin(); it != meta->versions.rend(); ++it) {
      if (it->written_unix_ms <= unix_ms &&
          it->reason != static_cast<uint8_t>(VersionReason::kQuarantine)) {
        target = it->version;
        break;
      }
    }
  }
  if (target) return Rollback(key, *target);
  return Status::NotFound("no version of '" + std::string(key) + "' was written at or before " +
                          std::to_string(unix_ms));
}

Result<std::vector<VersionInfo>> ListVersions(StoreCore& store, std::string_view key,
                                              const VersionQuery& query) {
  return store.Versions(key, query);
}
Result<RawProfileView> GetView(StoreCore& store, std::string_view key,
                               std::optional<uint64_t> version) {
  return store.Get(key, version);
}
Result<uint64_t> RollbackProfile(StoreCore& store, std::string_view key, uint64_t version) {
  return store.Rollback(key, version);
}
Result<uint64_t> RollbackProfileTo(StoreCore& store, std::string_view key, int64_t unix_ms) {
  return store.RollbackTo(key, unix_ms);
}

}  // namespace holdfast::internal

namespace holdfast {

std::string_view VersionReasonName(VersionReason reason) {
  switch (reason) {
    case VersionReason::kSave:
      return "save";
    case VersionReason::kEndSession:
      return "end-session";
    case VersionReason::kHandoff:
      return "handoff";
    case VersionReason::kRollback:
      return "rollback";
    case VersionReason::kCorruptionRecovery:
      return "corruption-recovery";
    case VersionReason::kQuarantine:
      return "quarantine";
    case VersionReason::kAdmin:
      return "admin";
    case VersionReason::kCreate:
      return "create";
    case VersionReason::kSteal:
      return "steal";
    case VersionReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

}  // namespace holdfast
