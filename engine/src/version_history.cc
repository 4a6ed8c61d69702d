#include "version_history.h"

#include <algorithm>
#include <vector>

#include "key_codec.h"

namespace holdfast::internal {
namespace {

constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 24 * kHourMs;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

std::vector<uint64_t> VersionsToPrune(const std::vector<VersionIndexEntry>& index,
                                      int64_t now_unix_ms, const VersionRetention& retention,
                                      uint64_t protect_version) {
  const int64_t hourly_ms = std::chrono::milliseconds(retention.hourly_for).count();
  const int64_t daily_ms = std::chrono::milliseconds(retention.daily_for).count();
  const size_t keep_newest = std::max<size_t>(1, retention.keep_newest);
  // Claimed buckets, sorted: a flat vector instead of a node per entry (this runs on every save
  // over the whole index).
  std::vector<int64_t> hours;
  std::vector<int64_t> days;
  hours.reserve(index.size());
  days.reserve(index.size());
  auto claimed = [](const std::vector<int64_t>& buckets, int64_t bucket) {
    return std::binary_search(buckets.begin(), buckets.end(), bucket);
  };
  auto claim = [](std::vector<int64_t>& buckets, int64_t bucket) {
    auto at = std::lower_bound(buckets.begin(), buckets.end(), bucket);
    if (at == buckets.end() || *at != bucket) buckets.insert(at, bucket);
  };
  std::vector<uint64_t> prune;
  // Newest first: the newest N are kept and claim their hour and day buckets; older versions
  // survive only as the newest of a bucket not yet claimed, while their age allows.
  for (size_t rank = 0; rank < index.size(); ++rank) {
    const VersionIndexEntry& e = index[index.size() - 1 - rank];
    const int64_t hour = FloorDiv(e.written_unix_ms, kHourMs);
    const int64_t day = FloorDiv(e.written_unix_ms, kDayMs);
    const int64_t age = now_unix_ms - e.written_unix_ms;
    bool keep = false;
    if (rank < keep_newest || (protect_version != 0 && e.version == protect_version)) {
      keep = true;
    } else if (e.reason == static_cast<uint8_t>(VersionReason::kQuarantine)) {
      keep = age <= daily_ms;  // evidence stays for the whole window, outside the thinning
    } else if (age <= hourly_ms) {
      keep = !claimed(hours, hour);
    } else if (age <= daily_ms) {
      keep = !claimed(days, day);
    }
    if (keep) {
      if (e.reason != static_cast<uint8_t>(VersionReason::kQuarantine)) {
        claim(hours, hour);
        claim(days, day);
      }
    } else {
      prune.push_back(e.version);
    }
  }
  return prune;
}

Result<uint64_t> AppendVersion(StorageTransaction& txn, const std::string& profile_key,
                               ProfileMeta& meta, const VersionWrite& write,
                               const VersionRetention& retention) {
  const uint64_t version = ++meta.last_version;
  VersionRecord record{version,      std::string(write.payload),
                       std::string(write.codec), write.now_unix_ms,
                       write.reason, write.epoch, write.source_version, {}, write.schema_version};
  if (write.partners) record.partners = *write.partners;
  if (Status s = txn.PutCovered(Family::kVersions, VersionKeyOf(profile_key, version),
                                EncodeVersionRecord(record));
      !s.ok()) {
    return s;
  }
  if (write.current) {
    // The version record is encoded: its payload copy moves on to the data record.
    ProfileRecord current{version,     std::move(record.payload), std::string(write.codec),
                          write.now_unix_ms, write.epoch, write.schema_version};
    if (Status s = txn.PutCovered(Family::kData, profile_key, EncodeProfileRecord(current));
        !s.ok()) {
      return s;
    }
  }
  meta.versions.push_back({version, write.now_unix_ms, static_cast<uint8_t>(write.reason)});
  std::vector<uint64_t> prune =
      VersionsToPrune(meta.versions, write.now_unix_ms, retention, write.protect_version);
  if (!prune.empty()) {
    std::sort(prune.begin(), prune.end());
    for (uint64_t v : prune) {
      if (Status s = txn.DeleteCovered(Family::kVersions, VersionKeyOf(profile_key, v)); !s.ok()) {
        return s;
      }
    }
    std::erase_if(meta.versions, [&](const VersionIndexEntry& e) {
      return std::binary_search(prune.begin(), prune.end(), e.version);
    });
  }
  return version;
}

Result<VersionRecord> DecodeVersionAt(std::string_view bytes, uint64_t version) {
  auto record = DecodeVersionRecord(bytes);
  if (!record.ok()) return record.status();
  if (record->version != version) {
    return Status::Corruption("version record " + std::to_string(version) + " claims version " +
                              std::to_string(record->version));
  }
  return record;
}

Result<VersionRecord> ReadVersion(StorageTransaction& txn, const std::string& profile_key,
                                  uint64_t version) {
  std::string bytes;
  if (Status s = txn.Get(Family::kVersions, VersionKeyOf(profile_key, version), &bytes); !s.ok()) {
    return s;
  }
  return DecodeVersionAt(bytes, version);
}

Result<VersionRecord> ReadVersion(Storage& storage, const std::string& profile_key,
                                  uint64_t version) {
  std::string bytes;
  if (Status s = storage.Get(Family::kVersions, VersionKeyOf(profile_key, version), &bytes);
      !s.ok()) {
    return s;
  }
  return DecodeVersionAt(bytes, version);
}

}  // namespace holdfast::internal
