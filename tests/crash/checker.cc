#include "checker.h"

#include <chrono>
#include <filesystem>
#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "holdfast/holdfast.h"
#include "pg_records.h"
#include "raw_database.h"
#include "stored_profile.h"

namespace holdfast::crash {
namespace {

using namespace std::chrono_literals;

// StoreOptions::retention.keep_newest as the worker runs it (the default).
constexpr size_t kKeepNewest = 50;

// One profile's records as stored, for the shared oracle's checks (tests/support/
// stored_profile.h). Only the stored-record half of that oracle applies here: the commit log
// (history_oracle.h) would have to run inside the worker, another process that the kills end,
// so the history is rebuilt from the worker's messages instead (model.h).
Result<test::StoredProfile> ReadStored(test::RecordReader& raw, const std::string& key) {
  test::StoredProfile stored;
  auto meta = raw.Meta(kStore, key);
  if (!meta.ok()) return meta.status();
  auto data = raw.Data(kStore, key);
  if (!data.ok()) return data.status();
  stored.meta = std::move(*meta);
  stored.data = std::move(*data);
  if (!stored.meta) return stored;
  for (const internal::VersionIndexEntry& e : stored.meta->versions) {
    auto version = raw.Version(kStore, key, e.version);
    if (!version.ok()) return version.status();
    if (*version) stored.versions.emplace(e.version, std::move(**version));
  }
  return stored;
}

// The next run starts from the stored epoch, and from its lock as an orphan to take over.
void RestartFromMeta(const internal::ProfileMeta& meta, ProfileModel& p) {
  p.max_epoch = std::max(p.max_epoch, meta.epoch);
  p.orphan.reset();
  if (meta.lock) p.orphan = ProfileModel::Lock{meta.lock->incarnation, meta.lock->session_id};
}

}  // namespace

Result<std::unique_ptr<test::RecordReader>> Checker::OpenReader() {
  if (target_.postgres) {
    auto pg = test::PgRecords::Open(target_.database);
    if (!pg.ok()) return pg.status();
    return std::unique_ptr<test::RecordReader>(std::move(*pg));
  }
  // The first worker died in its first open, before RocksDB created the database.
  if (!std::filesystem::exists(target_.database + "/CURRENT")) {
    return Status::NotFound("no database yet");
  }
  auto raw = test::RawDatabase::Open(target_.database, nullptr);
  if (!raw.ok()) return raw.status();
  return std::unique_ptr<test::RecordReader>(std::move(*raw));
}

bool Checker::Others(const std::string& key) const {
  for (const std::string& prefix : target_.other_prefixes) {
    if (key.starts_with(prefix)) return true;
  }
  return false;
}

void Checker::VerifyStored() {
  stored_payloads_.clear();
  auto raw = OpenReader();
  // No database yet (the first workers died in their first open): nothing to check, as long as
  // nothing was ever acknowledged.
  if (!raw.ok() && raw.status().code() == StatusCode::kNotFound &&
      model_.last_incarnation() == 0 && model_.acknowledged() == 0) {
    return;
  }
  if (!raw.ok()) return v_.Add("read-only open after the kill: " + raw.status().ToString());
  if (Status s = (*raw)->VerifyChecksums(); !s.ok()) v_.Add(s.ToString());

  auto manifest = (*raw)->Manifest();
  if (manifest.ok()) {
    if (manifest->last_incarnation < model_.last_incarnation()) {
      v_.Add("the manifest's incarnation went back to " +
             std::to_string(manifest->last_incarnation));
    }
    model_.set_last_incarnation(manifest->last_incarnation);
  } else if (model_.last_incarnation() > 0) {
    v_.Add("manifest: " + manifest.status().ToString());
  }
  auto listed = (*raw)->Profiles();
  std::vector<std::pair<std::string, std::string>> names;
  if (listed.ok()) {
    names = *listed;
  } else {
    v_.Add("listing profiles: " + listed.status().ToString());
  }
  CheckConservation("stored", [&](const std::string& key) -> std::optional<int64_t> {
    auto data = (*raw)->Data(kVault, key);
    if (!data.ok()) {
      v_.Add("vault account '" + key + "': " + data.status().ToString());
      return std::nullopt;
    }
    if (!*data) return kItemsPerAccount;  // never started: the template
    auto n = ParseItems((*data)->payload);
    if (!n) v_.Add("vault account '" + key + "' holds '" + (*data)->payload + "'");
    return n;
  });
  model_.mail().Check(**raw, v_);
  for (const auto& [store, key] : names) {
    if (store == kVault || store == kMail) continue;  // checked above
    if (store == kStore && Others(key)) continue;     // another worker slot's
    if (store != kStore || !model_.profiles().count(key)) {
      v_.Add("a record of unknown profile '" + store + "/" + key + "'");
    }
  }

  for (auto& [key, p] : model_.profiles()) {
    const std::string at = "'" + key + "' as stored: ";
    if (p.damage && StillDamaged(**raw, key, (*raw)->Meta(kStore, key), p)) continue;
    auto records = ReadStored(**raw, key);
    if (!records.ok()) {
      v_.Add(at + records.status().ToString());
      continue;
    }
    const std::optional<internal::ProfileMeta>& meta = records->meta;
    const std::optional<internal::ProfileRecord>& data = records->data;
    if (p.damage) {
      if (meta) VerifyRepair(**raw, key, *meta, p);
      p.damage.reset();
    }
    // Epoch at least every acknowledged one, the lock carrying it, the data record the newest
    // version and agreeing with the history; an acknowledged profile still there.
    test::ExpectedProfile expected;
    expected.min_epoch = p.max_epoch;
    if (p.max_epoch > 0) expected.has_meta = true;
    if (p.exists) expected.has_data = true;
    test::CheckStoredProfile(*records, expected, at, v_);
    p.versions.Observe(*records, at + "history: ", v_);
    std::optional<Tag> stored;
    if (data) {
      const internal::ProfileRecord& r = *data;
      stored = ParsePayload(r.payload);
      if (!stored) {
        v_.Add(at + "the payload is torn or foreign (" + std::to_string(r.payload.size()) +
               " bytes)");
      } else {
        if (!stored->is_template() && stored->key != key) v_.Add(at + "another profile's data");
        const bool restored = p.RestoredBy(*stored, r.epoch);
        if (!restored && !stored->is_template() && r.epoch != stored->epoch) {
          v_.Add(at + stored->Text() + " was committed under epoch " + std::to_string(r.epoch) +
                 " (a stale write)");
        }
        if (r.epoch < p.rollback_epoch) {
          v_.Add(at + "written under epoch " + std::to_string(r.epoch) +
                 ", older than the acknowledged rollback at epoch " +
                 std::to_string(p.rollback_epoch) + " (a stale write, or the rollback was lost)");
        }
        if (p.floor && p.Earlier(*stored, *p.floor)) {
          v_.Add(at + stored->Text() + " is older than the acknowledged " + p.floor->Text() +
                 " (an acknowledged save was lost)");
        } else if (!p.Known(*stored)) {
          v_.Add(at + stored->Text() + " was never written");
        }
        for (const auto& [epoch, loaded] : p.loaded) {
          if (epoch > r.epoch && p.Earlier(loaded, *stored)) {
            v_.Add(at + stored->Text() + " was written after epoch " + std::to_string(epoch) +
                   " had loaded " + loaded.Text() + " (a stale write)");
          }
        }
      }
      stored_payloads_[key] = r.payload;
    }
    // The next run starts from what is stored.
    p.floor = stored;
    p.exists = data.has_value();
    if (meta) RestartFromMeta(*meta, p);
  }
}

bool Checker::StillDamaged(test::RecordReader& raw, const std::string& key,
                           const Result<std::optional<internal::ProfileMeta>>& meta,
                           ProfileModel& p) {
  auto bytes = raw.DataBytes(kStore, key);
  if (!bytes.ok() || !*bytes || **bytes != p.damage->bytes) return false;
  const std::string at = "'" + key + "' as stored: ";
  if (p.damage->started) {
    v_.Add(at + "a start returned, but the data record is still the one damaged after kill " +
           std::to_string(p.damage->kill) + " (no repair)");
  }
  // Untouched since the damage: the next run (or engine check) must repair it. What a start
  // loads then is the restored value.
  stored_payloads_[key] = p.damage->source_payload;
  if (meta.ok() && *meta) {
    RestartFromMeta(**meta, p);
  } else if (!meta.ok()) {
    v_.Add(at + meta.status().ToString());
  }
  return true;
}

void Checker::VerifyRepair(test::RecordReader& raw, const std::string& key,
                           const internal::ProfileMeta& meta, ProfileModel& p) {
  const ProfileModel::Damage& d = *p.damage;
  const std::string at = "'" + key + "' repair of the record damaged after kill " +
                         std::to_string(d.kill) + ": ";
  // Whatever else is wrong, a recovery version rewrote the restored value under its own epoch,
  // as a rollback does: later checks order it there.
  for (const internal::VersionIndexEntry& e : meta.versions) {
    if (e.version <= d.last_version ||
        e.reason != static_cast<uint8_t>(VersionReason::kCorruptionRecovery)) {
      continue;
    }
    if (auto r = raw.Version(kStore, key, e.version); r.ok() && *r) {
      p.restored_at[d.restores.Text()] = (*r)->epoch;
    }
    break;
  }
  const auto quarantine = static_cast<uint8_t>(VersionReason::kQuarantine);
  const internal::VersionIndexEntry* q = nullptr;
  size_t newer = 0;  // versions after the quarantine
  for (const internal::VersionIndexEntry& e : meta.versions) {
    if (q) ++newer;
    if (!q && e.version > d.last_version && e.reason == quarantine) q = &e;
  }
  if (!q) {
    return v_.Add(at + "no kQuarantine version after version " + std::to_string(d.last_version) +
                  " (the damaged bytes were discarded" + (d.rollback ? " by a rollback" : "") +
                  ")");
  }
  ++repairs_verified_;
  auto record = raw.Version(kStore, key, q->version);
  if (!record.ok() || !*record) {
    return v_.Add(at + "quarantine version " + std::to_string(q->version) + " has no record");
  }
  if ((*record)->payload != d.bytes) {
    v_.Add(at + "quarantine version " + std::to_string(q->version) +
           " does not hold the damaged bytes");
  }
  const uint64_t recovery = q->version + 1;
  const internal::VersionIndexEntry* r = nullptr;
  for (const internal::VersionIndexEntry& e : meta.versions) {
    if (e.version == recovery) r = &e;
  }
  if (!r) {
    // Retention may have pruned it under the newest versions written since; the quarantine
    // version itself stays.
    if (newer < kKeepNewest) {
      v_.Add(at + "no version " + std::to_string(recovery) + " after the quarantine version");
    }
    return;
  }
  // A rollback that ran before any start replaced the damaged record itself: it quarantines the
  // damaged bytes and writes its own version right after (no recovery version).
  if (d.rollback && r->reason == static_cast<uint8_t>(VersionReason::kRollback)) {
    ++damages_overwritten_by_rollback_;
    return;
  }
  auto restored = raw.Version(kStore, key, recovery);
  if (r->reason != static_cast<uint8_t>(VersionReason::kCorruptionRecovery) ||
      !restored.ok() || !*restored) {
    return v_.Add(at + "version " + std::to_string(recovery) +
                  " after the quarantine is not a kCorruptionRecovery version");
  }
  if ((*restored)->source_version != d.source_version) {
    v_.Add(at + "restored version " + std::to_string((*restored)->source_version) +
           ", not the newest valid version " + std::to_string(d.source_version));
  }
  if ((*restored)->payload != d.source_payload) {
    v_.Add(at + "the recovery version holds other bytes than version " +
           std::to_string(d.source_version));
  }
}

bool Checker::DamageOne(std::mt19937_64& rng, int kill) {
  if (target_.postgres) return false;  // RocksDB only (checker.h)
  std::vector<std::string> candidates;
  for (auto& [key, p] : model_.profiles()) {
    if (!p.damage && stored_payloads_.count(key)) candidates.push_back(key);
  }
  if (candidates.empty()) return false;
  const std::string key = candidates[rng() % candidates.size()];
  ProfileModel& p = model_.profiles()[key];
  const std::string at = "damaging '" + key + "': ";
  auto raw = test::RawDatabase::OpenForWriting(target_.database);
  if (!raw.ok()) {
    v_.Add(at + raw.status().ToString());
    return false;
  }
  auto bytes = (*raw)->DataBytes(kStore, key);
  auto meta = (*raw)->Meta(kStore, key);
  if (!bytes.ok() || !*bytes || !meta.ok() || !*meta) {
    v_.Add(at + "its records could not be read");
    return false;
  }
  auto record = internal::DecodeProfileRecord(**bytes);
  if (!record.ok()) {
    v_.Add(at + record.status().ToString());
    return false;
  }
  // What the engine will restore: the newest indexed version that is not quarantined and whose
  // record verifies (profile_transactions.cc NewestValidVersion); the template when none.
  ProfileModel::Damage d;
  d.kill = kill;
  d.last_version = (*meta)->last_version;
  d.source_payload = kTemplate;
  for (auto it = (*meta)->versions.rbegin(); it != (*meta)->versions.rend(); ++it) {
    if (it->reason == static_cast<uint8_t>(VersionReason::kQuarantine)) continue;
    auto version = (*raw)->Version(kStore, key, it->version);
    if (!version.ok() || !*version) continue;
    d.source_version = it->version;
    d.source_payload = (*version)->payload;
    break;
  }
  auto restores = ParsePayload(d.source_payload);
  if (!restores) {
    v_.Add(at + "its newest valid version holds no payload of this test");
    return false;
  }
  d.restores = *restores;
  // Flip one byte inside the payload: the record's checksum must catch it.
  const size_t offset = (*bytes)->find(record->payload);
  if (offset == std::string::npos || record->payload.empty()) return false;
  d.bytes = **bytes;
  for (int attempt = 0; attempt < 16; ++attempt) {
    d.bytes = **bytes;
    d.bytes[offset + rng() % record->payload.size()] ^= static_cast<char>(1 + rng() % 255);
    if (!internal::DecodeProfileRecord(d.bytes).ok()) break;
  }
  if (internal::DecodeProfileRecord(d.bytes).ok()) {
    v_.Add(at + "a record with a flipped payload byte still decodes");
    return false;
  }
  if (Status s = (*raw)->PutDataBytes(kStore, key, d.bytes); !s.ok()) {
    v_.Add(at + s.ToString());
    return false;
  }
  // The damage resets the value to the one the repair restores (normally the stored one).
  p.floor = d.restores;
  stored_payloads_[key] = d.source_payload;
  p.damage = std::move(d);
  ++damages_;
  return true;
}

void Checker::TakeOverWithEngine() {
  std::mutex mu;
  std::map<std::string, OrphanTakeover> reports;
  EngineOptions options;
  options.owner_description = "crash-parent";
  options.conflict_buckets = 4096;
  options.on_orphan_takeover = [&](const OrphanTakeover& o) {
    std::lock_guard lock(mu);
    reports[o.key] = o;
  };
  if (target_.postgres) options.lease_duration = target_.lease;
  auto engine = Engine::Open(target_.database, options);
  if (!engine.ok()) return v_.Add("engine open after the kill: " + engine.status().ToString());
  const uint64_t incarnation = (*engine)->Info().incarnation;
  if (incarnation <= model_.last_incarnation()) {
    v_.Add("engine incarnation " + std::to_string(incarnation) + " is not new");
  }
  model_.set_last_incarnation(incarnation);
  StoreOptions<std::string> store;
  store.template_value = kTemplate;
  store.autosave_period = 1h;
  auto players = (*engine)->OpenStore<BytesCodec>(kStore, store);
  if (!players.ok()) return v_.Add("open store: " + players.status().ToString());
  uint64_t orphans = 0;
  for (auto& [key, p] : model_.profiles()) {
    if (!p.exists) continue;
    const std::string at = "'" + key + "' takeover: ";
    SessionOptions no_wait;
    // An orphan is taken over at once, or the start fails TimedOut. On PostgreSQL a lock is an
    // orphan once its engine's lease ran out: the start waits for that (in the engine, woken
    // when the lease ends), never longer than a few leases.
    no_wait.timeout = target_.postgres ? target_.lease * 4 : 0ms;
    auto profile = players->StartSession(key, no_wait);
    if (!profile.ok()) {
      v_.Add(at + profile.status().ToString());
      continue;
    }
    if (profile->Data() != stored_payloads_[key]) {
      v_.Add(at + (p.damage ? "loaded other data than the version a repair restores"
                            : "loaded other data than stored"));
    }
    if (p.damage) p.damage->started = true;  // the repair is checked after the next kill
    const uint64_t epoch = profile->Info().epoch;
    if (epoch <= p.max_epoch) v_.Add(at + "epoch " + std::to_string(epoch) + " is not new");
    p.max_epoch = std::max(p.max_epoch, epoch);
    std::optional<OrphanTakeover> report;
    {
      std::lock_guard lock(mu);
      if (reports.count(key)) report = reports[key];
    }
    if (p.orphan) {
      ++orphans;
      if (!report) {
        v_.Add(at + "the orphaned lock was taken over without a report");
      } else if (report->previous_incarnation != p.orphan->incarnation ||
                 report->previous_session_id != p.orphan->session_id) {
        v_.Add(at + "the report names another holder than the stored lock");
      }
    } else if (report) {
      v_.Add(at + "a free profile was reported as an orphan");
    }
    p.orphan.reset();
    if (Status s = profile->EndSession(); !s.ok()) v_.Add(at + "end: " + s.ToString());
  }
  orphans_taken_over_ += orphans;
  if ((*engine)->Stats().orphans_taken_over != orphans) {
    v_.Add("orphans_taken_over is " + std::to_string((*engine)->Stats().orphans_taken_over) +
           ", " + std::to_string(orphans) + " orphaned locks were stored");
  }
  // On PostgreSQL the other workers hold the vault accounts: their stored sum is checked (in
  // VerifyStored's snapshot), not what this engine would load.
  if (target_.postgres) {
    if (Status s = (*engine)->Close(); !s.ok()) v_.Add("close: " + s.ToString());
    return;
  }
  // The vault accounts, as the engine loads them (orphaned locks of the killed worker included).
  StoreOptions<std::string> vault_options = store;
  vault_options.template_value = std::to_string(kItemsPerAccount);
  auto vault = (*engine)->OpenStore<BytesCodec>(kVault, vault_options);
  if (!vault.ok()) {
    v_.Add("open vault: " + vault.status().ToString());
  } else {
    std::vector<Profile<BytesCodec>> accounts;
    CheckConservation("loaded", [&](const std::string& key) -> std::optional<int64_t> {
      SessionOptions no_wait;
      no_wait.timeout = 0ms;
      auto account = vault->StartSession(key, no_wait);
      if (!account.ok()) {
        v_.Add("vault account '" + key + "' takeover: " + account.status().ToString());
        return std::nullopt;
      }
      auto n = ParseItems(account->Data());
      if (!n) v_.Add("vault account '" + key + "' loaded '" + account->Data() + "'");
      accounts.push_back(std::move(*account));
      return n;
    });
    for (auto& account : accounts) {
      if (Status s = account.EndSession(); !s.ok()) v_.Add("vault end: " + s.ToString());
    }
  }
  if (Status s = (*engine)->Close(); !s.ok()) v_.Add("close: " + s.ToString());
}

void Checker::CheckConservation(
    const std::string& where,
    const std::function<std::optional<int64_t>(const std::string&)>& items) {
  int64_t total = 0;
  for (int i = 0; i < kVaultAccounts; ++i) {
    auto n = items(VaultKey(i));
    if (!n) return;
    if (*n != kItemsPerAccount) trades_stored_ = true;
    total += *n;
  }
  if (total != int64_t{kVaultAccounts} * kItemsPerAccount) {
    v_.Add("items not conserved (" + where + "): the vault holds " + std::to_string(total) +
           ", " + std::to_string(kVaultAccounts * kItemsPerAccount) + " were there");
    return;
  }
  ++conservation_checks_;
}

}  // namespace holdfast::crash
