#include "database_verify.h"

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "aligned_bytes.h"
#include "flatbuffer_schema.h"
#include "key_codec.h"
#include "profile_reads.h"
#include "profile_scan.h"
#include "version_history.h"

namespace holdfast::internal {
namespace {

class Verifier {
 public:
  Verifier(Storage& storage, const std::vector<StoreEntry>& registered,
           const VerifyProgress& progress)
      : storage_(storage), progress_(progress) {
    for (const auto& store : registered) registered_.insert(store.name);
  }

  Status CheckManifest();
  // Every profile of `store`: its meta and data records and every version record it has.
  Status CheckStore(const StoreEntry& store);
  // Every key of `family` in `range` decodes, names a registered store and (outside `meta`) a
  // profile that has a meta record. Meta keys of registered stores are left to CheckStore.
  Status CheckKeys(Family family, const ScanRange& range);
  // The storage's own checksums of its files.
  Status CheckFiles() { return Absorb(storage_.VerifyFiles(), {"", "", "file", 0, ""}); }

  VerifyReport TakeReport() { return std::move(report_); }

 private:
  Status CheckProfile(const std::string& store, const StoredProfile& profile);
  // The schema a flatbuffers store's payloads are checked against: the registered one. nullptr
  // for other codecs, for a store only ever opened at the byte level, and when the registered
  // schema fails its own checks (damage of the manifest, reported here).
  std::shared_ptr<const FlatbufferSchema> PayloadSchema(const StoreEntry& store);
  // A payload of a data or version record against the store's schema (when it has one).
  void CheckPayload(const std::string& store, const std::string& key, const char* record,
                    uint64_t version, std::string_view payload);
  Status CheckMessages(const std::string& store, const std::string& key);
  bool UnderRegisteredStore(std::string_view raw_key) const;

  void Damage(DamagedRecord damaged) { report_.damaged.push_back(std::move(damaged)); }
  // A failed read: Corruption (the storage's own checksums) is damage at `where` and the check
  // goes on; anything else stops it.
  Status Absorb(const Status& s, DamagedRecord where) {
    if (s.code() != StatusCode::kCorruption) return s;
    where.reason = s.message();
    Damage(std::move(where));
    return Status::Ok();
  }

  Storage& storage_;
  const VerifyProgress& progress_;
  std::set<std::string> registered_;
  std::set<std::string> missing_meta_;              // profiles (encoded keys) reported without meta
  std::shared_ptr<const FlatbufferSchema> schema_;  // of the store being checked, or nullptr
  VerifyReport report_;
};

Status Verifier::CheckManifest() {
  std::string bytes;
  Status s = storage_.Get(Family::kDefault, kManifestKey, &bytes);
  if (s.code() == StatusCode::kNotFound) {
    Damage({"", "", "manifest", 0, "missing"});
    return Status::Ok();
  }
  if (!s.ok()) return Absorb(s, {"", "", "manifest", 0, ""});
  ++report_.records;
  if (auto manifest = DecodeManifest(bytes); !manifest.ok()) {
    Damage({"", "", "manifest", 0, manifest.status().message()});
  }
  return Status::Ok();
}

Status Verifier::CheckStore(const StoreEntry& store) {
  ++report_.stores;
  schema_ = PayloadSchema(store);
  Status failed;
  Status s = ForEachProfile(storage_, store.name, std::nullopt, [&](StoredProfile& profile) {
    failed = CheckProfile(store.name, profile);
    return failed.ok();
  });
  if (!failed.ok()) return failed;
  return Absorb(s, {store.name, "", "file", 0, ""});
}

Status Verifier::CheckProfile(const std::string& store, const StoredProfile& profile) {
  ++report_.records;
  if (!profile.key_damage.empty()) {
    Damage({"", profile.key, "key", 0, "meta key: " + profile.key_damage});
    return Status::Ok();
  }
  ++report_.profiles;
  if (progress_) progress_(report_.profiles);
  if (!profile.meta.ok()) Damage({store, profile.key, "meta", 0, profile.meta.status().message()});
  const std::string profile_key = EncodeProfileKey(store, profile.key);

  // A profile whose creation was undone keeps its meta record and has no data record.
  std::string bytes;
  Status s = storage_.Get(Family::kData, profile_key, &bytes);
  if (s.ok()) {
    ++report_.records;
    if (auto record = DecodeProfileRecord(bytes); !record.ok()) {
      Damage({store, profile.key, "data", 0, record.status().message()});
    } else {
      CheckPayload(store, profile.key, "data", 0, record->payload);
    }
  } else if (s.code() != StatusCode::kNotFound) {
    if (Status r = Absorb(s, {store, profile.key, "data", 0, ""}); !r.ok()) return r;
  }

  std::set<uint64_t> stored;
  s = storage_.Scan(Family::kVersions, ScanRange::Prefix(profile_key), ScanOrder::kForward,
                    [&](std::string_view key, std::string_view value) {
                      // A malformed key here is reported by CheckKeys.
                      if (key.size() != profile_key.size() + 8) return true;
                      const uint64_t version = ReadBigEndian64(key.data() + profile_key.size());
                      stored.insert(version);
                      ++report_.versions;
                      ++report_.records;
                      if (auto record = DecodeVersionAt(value, version); !record.ok()) {
                        Damage({store, profile.key, "version", version, record.status().message()});
                      } else {
                        CheckPayload(store, profile.key, "version", version, record->payload);
                      }
                      return true;
                    });
  if (Status r = Absorb(s, {store, profile.key, "version", 0, ""}); !r.ok()) return r;
  // After a failed scan the versions not seen are unreadable, not missing: the failure says so.
  if (s.ok() && profile.meta.ok()) {
    for (const VersionIndexEntry& entry : profile.meta->versions) {
      if (!stored.count(entry.version)) {
        Damage({store, profile.key, "version", entry.version,
                "missing: listed in the profile's history but not stored"});
      }
    }
  }
  return CheckMessages(store, profile.key);
}

std::shared_ptr<const FlatbufferSchema> Verifier::PayloadSchema(const StoreEntry& store) {
  if (!store.codec.starts_with(kFlatbufferCodecPrefix) || store.schema.empty()) return nullptr;
  auto schema = FlatbufferSchema::Parse(store.schema);
  if (!schema.ok()) {
    Damage({store.name, "", "manifest", 0,
            "the store's registered schema: " + schema.status().message()});
    return nullptr;
  }
  return std::move(*schema);
}

void Verifier::CheckPayload(const std::string& store, const std::string& key, const char* record,
                            uint64_t version, std::string_view payload) {
  if (schema_ == nullptr) return;
  const AlignedBytes buffer(payload);
  Status s = schema_->VerifyPayload(buffer.data(), buffer.size());
  // Intact bytes without the schema's file identifier (InvalidArgument) are a disagreement with
  // the game's code, which its store reports at the start; only a payload that fails the
  // verifier is damage.
  if (s.code() == StatusCode::kCorruption) {
    Damage({store, key, record, version, "payload: " + s.message()});
  }
}

Status Verifier::CheckMessages(const std::string& store, const std::string& key) {
  // The reader that delivers them, so a message is judged as its session would judge it.
  auto waiting =
      ReadWaitingMessages(storage_, {store, key}, /*after=*/0, std::numeric_limits<size_t>::max());
  if (!waiting.ok()) return Absorb(waiting.status(), {store, key, "message", 0, ""});
  const uint64_t checked = waiting->messages.size() + waiting->damaged.size();
  report_.messages += checked;
  report_.records += checked;
  for (const auto& [sequence, status] : waiting->damaged) {
    Damage({store, key, "message", sequence, status.message()});
  }
  return Status::Ok();
}

bool Verifier::UnderRegisteredStore(std::string_view raw_key) const {
  if (raw_key.empty()) return false;
  const size_t length = static_cast<unsigned char>(raw_key[0]);
  return raw_key.size() > length && registered_.count(std::string(raw_key.substr(1, length))) > 0;
}

Status Verifier::CheckKeys(Family family, const ScanRange& range) {
  const bool numbered = family == Family::kVersions || family == Family::kMessages;
  const std::string family_name(FamilyName(family));
  std::string last_profile;  // the profile whose meta record was looked up last
  Status failed;
  Status s = ScanInPages(
      storage_, family, range, /*with_values=*/false,
      [&](const std::string& raw_key, const std::string&) {
        if (family == Family::kMeta && UnderRegisteredStore(raw_key)) return true;
        auto key = DecodeKey(raw_key, numbered);
        if (!key.ok()) {
          Damage({"", raw_key, "key", 0, family_name + " key: " + key.status().message()});
          return true;
        }
        if (!registered_.count(key->store)) {
          Damage({key->store, key->key, "key", 0,
                  family_name + " record of store '" + key->store + "', which is not registered"});
          return true;
        }
        const std::string profile_key = EncodeProfileKey(key->store, key->key);
        if (family == Family::kMeta || profile_key == last_profile) return true;
        last_profile = profile_key;
        std::string ignored;
        Status meta = storage_.Get(Family::kMeta, profile_key, &ignored);
        if (meta.code() == StatusCode::kNotFound) {
          // Once per profile, from the first family that has records of it.
          if (missing_meta_.insert(profile_key).second) {
            Damage({key->store, key->key, "meta", 0,
                    "missing: the profile has " + family_name + " records but no meta record"});
          }
        } else if (!meta.ok()) {
          failed = Absorb(meta, {key->store, key->key, "meta", 0, ""});
          return failed.ok();
        }
        return true;
      });
  if (!failed.ok()) return failed;
  return Absorb(s, {"", "", "file", 0, ""});
}

}  // namespace

Result<VerifyReport> VerifyDatabase(Storage& storage, const std::vector<StoreEntry>& registered,
                                    const std::vector<StoreEntry>& stores, bool whole_database,
                                    const VerifyProgress& progress) {
  Verifier verifier(storage, registered, progress);
  if (Status s = verifier.CheckManifest(); !s.ok()) return s;
  for (const StoreEntry& store : stores) {
    if (Status s = verifier.CheckStore(store); !s.ok()) return s;
  }
  for (Family family : {Family::kMeta, Family::kData, Family::kVersions, Family::kMessages}) {
    if (whole_database) {
      if (Status s = verifier.CheckKeys(family, ScanRange{}); !s.ok()) return s;
      continue;
    }
    if (family == Family::kMeta) continue;  // CheckStore read every meta key of the store
    for (const StoreEntry& store : stores) {
      ScanRange range = ScanRange::Prefix(EncodeStorePrefix(store.name));
      if (Status s = verifier.CheckKeys(family, range); !s.ok()) return s;
    }
  }
  if (Status s = verifier.CheckFiles(); !s.ok()) return s;
  return verifier.TakeReport();
}

}  // namespace holdfast::internal
