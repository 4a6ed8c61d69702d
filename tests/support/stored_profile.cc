#include "stored_profile.h"

#include <algorithm>
#include <functional>

#include "holdfast/versions.h"
#include "key_codec.h"

namespace holdfast::test {
namespace {

// Reads and decodes one record: nullopt when absent.
template <typename Record, typename Decode>
Result<std::optional<Record>> ReadRecord(internal::Storage& storage, internal::Family family,
                                         const std::string& key, Decode decode) {
  std::string bytes;
  Status s = storage.Get(family, key, &bytes);
  if (s.code() == StatusCode::kNotFound) return std::optional<Record>();
  if (!s.ok()) return s;
  auto decoded = decode(bytes);
  if (!decoded.ok()) return decoded.status();
  return std::optional<Record>(std::move(*decoded));
}

// Writes "<who><what>" to the sink.
class Reporter {
 public:
  Reporter(std::string_view who, ViolationSink& sink) : who_(who), sink_(sink) {}
  void operator()(const std::string& what) const { sink_.Add(std::string(who_) + what); }

 private:
  std::string_view who_;
  ViolationSink& sink_;
};

std::string Number(uint64_t n) { return std::to_string(n); }

// The version index against the data record and the version records.
void CheckHistoryRecords(const StoredProfile& stored, const Reporter& report) {
  const internal::ProfileMeta& meta = *stored.meta;
  uint64_t previous = 0;
  bool data_indexed = false;
  for (const internal::VersionIndexEntry& e : meta.versions) {
    const std::string v = "version " + Number(e.version);
    if (e.version <= previous) report("the index is not strictly ascending at " + v);
    previous = e.version;
    if (e.version > meta.last_version) {
      report(v + " is above last_version " + Number(meta.last_version));
    }
    auto record = stored.versions.find(e.version);
    if (record == stored.versions.end()) {
      report(v + " is indexed but has no record");
      continue;
    }
    if (record->second.version != e.version) {
      report(v + "'s record names version " + Number(record->second.version));
    }
    if (!stored.data || e.version != stored.data->version) continue;
    data_indexed = true;
    if (e.reason == static_cast<uint8_t>(VersionReason::kQuarantine)) {
      report("the current data is a quarantined version");
    }
    if (record->second.payload != stored.data->payload) {
      report(v + " differs from the data record");
    }
    if (record->second.epoch != stored.data->epoch) {
      report(v + " was written under epoch " + Number(record->second.epoch) +
             ", the data record under " + Number(stored.data->epoch));
    }
  }
  // An empty index has no history to check (none written yet).
  if (stored.data && !meta.versions.empty() && !data_indexed) {
    report("the data record's version " + Number(stored.data->version) +
           " is not in the history");
  }
}

}  // namespace

Result<StoredProfile> ReadStoredProfile(internal::Storage& storage, std::string_view store,
                                        std::string_view key) {
  const std::string profile_key = internal::EncodeProfileKey(store, key);
  StoredProfile stored;
  auto meta = ReadRecord<internal::ProfileMeta>(storage, internal::Family::kMeta, profile_key,
                                                internal::DecodeProfileMeta);
  if (!meta.ok()) return meta.status();
  auto data = ReadRecord<internal::ProfileRecord>(storage, internal::Family::kData, profile_key,
                                                  internal::DecodeProfileRecord);
  if (!data.ok()) return data.status();
  stored.meta = std::move(*meta);
  stored.data = std::move(*data);
  if (!stored.meta) return stored;
  for (const internal::VersionIndexEntry& e : stored.meta->versions) {
    auto version = ReadRecord<internal::VersionRecord>(
        storage, internal::Family::kVersions, internal::EncodeVersionKey(store, key, e.version),
        internal::DecodeVersionRecord);
    if (!version.ok()) return version.status();
    if (*version) stored.versions.emplace(e.version, std::move(**version));
  }
  return stored;
}

ExpectedProfile ExpectedFromHistory(const KeyHistory& history) {
  ExpectedProfile expected;
  expected.has_meta = true;  // every commit writes it; none deletes it
  expected.epoch = history.epoch;
  expected.locked = history.locked;
  if (history.locked) expected.lock_session_id = history.holder;
  expected.last_version = history.last_version;
  expected.has_data = history.data_exists;
  if (history.data_exists) expected.data_epoch = history.last_version_epoch;
  return expected;
}

void CheckStoredProfile(const StoredProfile& stored, const ExpectedProfile& expected,
                        std::string_view who, ViolationSink& sink) {
  const Reporter report(who, sink);
  if (expected.has_meta && stored.meta.has_value() != *expected.has_meta) {
    report(stored.meta ? "a meta record is stored, none was expected" : "no meta record");
  }
  if (expected.has_data && stored.data.has_value() != *expected.has_data) {
    report(stored.data ? "a data record is stored, none was expected" : "no data record");
  }
  if (stored.data && expected.data_epoch && stored.data->epoch != *expected.data_epoch) {
    report("the data record was written under epoch " + Number(stored.data->epoch) +
           ", expected " + Number(*expected.data_epoch));
  }
  if (stored.data && expected.payload && stored.data->payload != *expected.payload) {
    report("the data record holds another payload than expected");
  }
  if (!stored.meta) {
    if (stored.data) report("a data record without a meta record");
    return;
  }
  const internal::ProfileMeta& meta = *stored.meta;
  if (expected.epoch && meta.epoch != *expected.epoch) {
    report("stored epoch " + Number(meta.epoch) + ", expected " + Number(*expected.epoch));
  }
  if (meta.epoch < expected.min_epoch) {
    report("stored epoch " + Number(meta.epoch) + " is below the acknowledged " +
           Number(expected.min_epoch));
  }
  if (expected.locked && meta.lock.has_value() != *expected.locked) {
    report(meta.lock ? "a lock is stored, none was expected" : "no lock is stored");
  }
  if (meta.lock) {
    if (meta.lock->epoch != meta.epoch) {
      report("the lock carries epoch " + Number(meta.lock->epoch) + ", the stored epoch is " +
             Number(meta.epoch));
    }
    if (expected.lock_session_id && meta.lock->session_id != *expected.lock_session_id) {
      report("the lock is held by session " + Number(meta.lock->session_id) + ", expected " +
             Number(*expected.lock_session_id));
    }
  }
  if (expected.last_version && meta.last_version != *expected.last_version) {
    report("stored last_version " + Number(meta.last_version) + ", expected " +
           Number(*expected.last_version));
  }
  if (stored.data) {
    if (stored.data->version != meta.last_version) {
      report("the data record holds version " + Number(stored.data->version) +
             ", not the newest " + Number(meta.last_version));
    }
    if (stored.data->epoch > meta.epoch) {
      report("the data record was written under epoch " + Number(stored.data->epoch) +
             ", above the stored epoch " + Number(meta.epoch));
    }
  }
  CheckHistoryRecords(stored, report);
}

void CheckStoredAgainstHistory(const StoredProfile& stored, const KeyHistory& history,
                               std::string_view who, ViolationSink& sink) {
  CheckStoredProfile(stored, ExpectedFromHistory(history), who, sink);
}

void VersionLedger::Observe(const StoredProfile& stored, std::string_view who,
                            ViolationSink& sink) {
  if (!stored.meta) return;
  const Reporter report(who, sink);
  if (stored.meta->last_version < last_version_) {
    report("last_version went back from " + Number(last_version_) + " to " +
           Number(stored.meta->last_version));
  }
  last_version_ = std::max(last_version_, stored.meta->last_version);
  for (const auto& [number, record] : stored.versions) {
    const size_t digest = std::hash<std::string>{}(record.payload);
    auto [seen, first_time] = payloads_.emplace(number, digest);
    if (!first_time && seen->second != digest) {
      report("version " + Number(number) +
             " now names another payload than when seen before (a reused number)");
    }
  }
}

}  // namespace holdfast::test
