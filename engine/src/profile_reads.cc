#include "profile_reads.h"

#include <algorithm>
#include <string>

#include "holdfast/limits.h"
#include "key_codec.h"
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
  info.partners = r.partners;
  info.schema_version = r.schema_version;
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

// The current data record as a view (payload and version), with the reason and source of its
// version from the history when they are still there.
Status ReadCurrent(Storage& storage, ProfileRef at, const std::string& profile_key,
                   const ProfileMeta& meta, RawProfileView& view) {
  std::string bytes;
  Status s = storage.Get(Family::kData, profile_key, &bytes);
  if (s.code() == StatusCode::kNotFound) {
    return Status::NotFound("no data for '" + std::string(at.key) + "'");
  }
  if (!s.ok()) return s;
  auto record = DecodeProfileRecord(bytes);
  if (!record.ok()) return record.status();
  view.payload = std::move(record->payload);
  view.version.version = record->version;
  view.version.written_unix_ms = record->updated_unix_ms;
  view.version.epoch = record->epoch;
  view.version.payload_bytes = view.payload.size();
  view.version.schema_version = record->schema_version;
  auto entry = IndexedVersion(meta, at.key, record->version);
  if (entry.ok()) {
    view.version.reason = static_cast<VersionReason>(entry->reason);
    // The version record says which version a rollback or repair restored; Get(key, v) and
    // Versions report it, so the current view does too. A damaged record leaves it 0.
    auto history = ReadVersion(storage, profile_key, record->version);
    if (history.ok()) view.version.source_version = history->source_version;
  }
  return Status::Ok();
}

}  // namespace

Result<ProfileMeta> ReadProfileMeta(Storage& storage, ProfileRef at) {
  if (Status s = ValidateProfileKey(at.key); !s.ok()) return s;
  std::string bytes;
  Status s = storage.Get(Family::kMeta, EncodeProfileKey(at.store, at.key), &bytes);
  if (s.code() == StatusCode::kNotFound) {
    return Status::NotFound("no profile '" + std::string(at.key) + "'");
  }
  if (!s.ok()) return s;
  return DecodeProfileMeta(bytes);
}

Result<std::vector<VersionInfo>> ListVersions(Storage& storage, ProfileRef at,
                                              const VersionQuery& query) {
  auto meta = ReadProfileMeta(storage, at);
  if (!meta.ok()) return meta.status();
  const std::string profile_key = EncodeProfileKey(at.store, at.key);
  std::vector<VersionInfo> out;
  for (auto it = meta->versions.rbegin(); it != meta->versions.rend(); ++it) {
    if (query.limit != 0 && out.size() >= query.limit) break;
    if (query.before_version && it->version >= *query.before_version) continue;
    if (query.to_unix_ms && it->written_unix_ms > *query.to_unix_ms) continue;
    if (query.from_unix_ms && it->written_unix_ms < *query.from_unix_ms) continue;
    VersionInfo info = InfoOf(*it);
    auto record = ReadVersion(storage, profile_key, it->version);
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

Result<RawProfileView> ReadProfileView(Storage& storage, ProfileRef at,
                                       std::optional<uint64_t> version) {
  auto meta = ReadProfileMeta(storage, at);
  if (!meta.ok()) return meta.status();
  const std::string profile_key = EncodeProfileKey(at.store, at.key);
  RawProfileView view;
  view.load_count = meta->load_count;
  view.user_ids = meta->user_ids;
  view.metadata = meta->metadata;
  view.locked = meta->lock.has_value();
  if (meta->lock) {
    const SessionLock& l = *meta->lock;
    view.lock = LockHolder{l.owner, l.acquired_unix_ms, l.epoch, l.session_id, l.incarnation};
  }
  if (!version) {
    if (Status s = ReadCurrent(storage, at, profile_key, *meta, view); !s.ok()) return s;
    return view;
  }
  auto entry = IndexedVersion(*meta, at.key, *version);
  if (!entry.ok()) return entry.status();
  auto record = ReadVersion(storage, profile_key, *version);
  if (!record.ok()) return record.status();
  view.version = InfoOf(*entry);
  Fill(view.version, *record);
  view.payload = std::move(record->payload);
  return view;
}

Result<VersionRecord> ReadRollbackSource(Storage& storage, ProfileRef at, uint64_t version,
                                         const HistoryPolicy& history) {
  auto meta = ReadProfileMeta(storage, at);
  if (!meta.ok()) return meta.status();
  auto entry = IndexedVersion(*meta, at.key, version);
  if (!entry.ok()) return entry.status();
  if (entry->reason == static_cast<uint8_t>(VersionReason::kQuarantine)) {
    return Status::InvalidArgument("version " + std::to_string(version) +
                                   " is quarantined (corrupt bytes) and cannot be restored");
  }
  auto source = ReadVersion(storage, EncodeProfileKey(at.store, at.key), version);
  if (!source.ok()) {
    return source.status().WithContext("reading version " + std::to_string(version) + " of '" +
                                       std::string(at.key) + "'");
  }
  if (history.check) {
    if (Status valid = history.check(source->payload, source->schema_version); !valid.ok()) {
      if (valid.code() == StatusCode::kInternal) return valid;  // no verdict
      return Status::InvalidArgument("version " + std::to_string(version) +
                                     " fails the store's check: " + valid.ToString());
    }
  }
  return source;
}

Result<uint64_t> RestorableVersionAt(Storage& storage, ProfileRef at, int64_t unix_ms) {
  auto meta = ReadProfileMeta(storage, at);
  if (!meta.ok()) return meta.status();
  for (auto it = meta->versions.rbegin(); it != meta->versions.rend(); ++it) {
    if (it->written_unix_ms <= unix_ms &&
        it->reason != static_cast<uint8_t>(VersionReason::kQuarantine)) {
      return it->version;
    }
  }
  return Status::NotFound("no version of '" + std::string(at.key) + "' was written at or before " +
                          std::to_string(unix_ms));
}

Result<WaitingMessages> ReadWaitingMessages(Storage& storage, ProfileRef at, uint64_t after,
                                            size_t limit) {
  const std::string profile_key = EncodeProfileKey(at.store, at.key);
  ScanRange range = ScanRange::Prefix(profile_key);
  if (after == UINT64_MAX) return WaitingMessages{};
  range.lower = MessageKeyOf(profile_key, after + 1);
  WaitingMessages out;
  size_t seen = 0;
  Status s = storage.Scan(
      Family::kMessages, range, ScanOrder::kForward, [&](std::string_view key, std::string_view v) {
        if (seen == limit) {
          out.more = true;
          return false;
        }
        ++seen;
        // The prefix holds only this profile's message keys, each the profile key and 8 bytes.
        if (key.size() != profile_key.size() + 8) {
          out.damaged.emplace_back(0, Status::Corruption("malformed message key"));
          return true;
        }
        const uint64_t sequence = ReadBigEndian64(key.data() + profile_key.size());
        auto record = DecodeMessageRecord(v);
        if (!record.ok()) {
          out.damaged.emplace_back(sequence, record.status());
        } else if (record->sequence != sequence) {
          out.damaged.emplace_back(sequence, Status::Corruption("message record of sequence " +
                                                                std::to_string(record->sequence) +
                                                                " stored under another key"));
        } else {
          out.messages.push_back(std::move(*record));
        }
        return true;
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace holdfast::internal
