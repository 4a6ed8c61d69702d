#include "checker.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>

#include "holdfast/holdfast.h"
#include "raw_database.h"

namespace holdfast::crash {
namespace {

using namespace std::chrono_literals;

// The version history agrees with the data record: every indexed version has its record, and the
// current payload is an indexed, non-quarantined version with the same bytes. A profile with an
// empty index has no history to check (none written yet).
//
// Version numbers across kills: last_version never goes back, and a version number seen stored
// after one kill holds the same payload after every later one (numbers are never reused, also
// when a start that created the profile is undone or a version is pruned).
void CheckVersionHistory(test::RawDatabase& raw, const std::string& key,
                         const internal::ProfileMeta& meta, const internal::ProfileRecord& data,
                         ProfileModel& p, Violations& v) {
  const std::string at = "'" + key + "' history: ";
  if (meta.last_version < p.last_version) {
    v.Add(at + "last_version went back from " + std::to_string(p.last_version) + " to " +
          std::to_string(meta.last_version));
  }
  p.last_version = std::max(p.last_version, meta.last_version);
  if (meta.versions.empty()) return;
  bool found = false;
  for (const internal::VersionIndexEntry& e : meta.versions) {
    auto record = raw.Version(kStore, key, e.version);
    if (!record.ok()) {
      v.Add(at + record.status().ToString());
      continue;
    }
    if (!*record) {
      v.Add(at + "version " + std::to_string(e.version) + " is indexed but has no record");
      continue;
    }
    if (e.version > meta.last_version) {
      v.Add(at + "version " + std::to_string(e.version) + " is above last_version " +
            std::to_string(meta.last_version));
    }
    const size_t digest = std::hash<std::string>{}((*record)->payload);
    auto [seen, first_time] = p.version_payloads.emplace(e.version, digest);
    if (!first_time && seen->second != digest) {
      v.Add(at + "version " + std::to_string(e.version) +
            " now names another payload than after an earlier kill (a reused number)");
    }
    if (e.version != data.version) continue;
    found = true;
    if (e.reason == static_cast<uint8_t>(internal::RecordReason::kQuarantine)) {
      v.Add(at + "the current data is a quarantined version");
    }
    if ((*record)->payload != data.payload) {
      v.Add(at + "version " + std::to_string(e.version) + " differs from the data record");
    }
  }
  if (!found) {
    v.Add(at + "the data record's version " + std::to_string(data.version) +
          " is not in the history");
  }
}

}  // namespace

void Checker::VerifyStored() {
  stored_payloads_.clear();
  // The first worker died in its first open, before RocksDB created the database: nothing to
  // check, as long as nothing was ever acknowledged.
  if (!std::filesystem::exists(dir_ + "/CURRENT") && model_.last_incarnation() == 0 &&
      model_.acknowledged() == 0) {
    return;
  }
  auto raw = test::RawDatabase::Open(dir_, nullptr);
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
  for (const auto& [store, key] : names) {
    if (store != kStore || !model_.profiles().count(key)) {
      v_.Add("a record of unknown profile '" + store + "/" + key + "'");
    }
  }

  for (auto& [key, p] : model_.profiles()) {
    const std::string at = "'" + key + "' as stored: ";
    auto meta = (*raw)->Meta(kStore, key);
    auto data = (*raw)->Data(kStore, key);
    if (!meta.ok() || !data.ok()) {
      v_.Add(at + (meta.ok() ? data.status() : meta.status()).ToString());
      continue;
    }
    std::optional<Tag> stored;
    if (*meta) {
      const internal::ProfileMeta& m = **meta;
      if (m.epoch < p.max_epoch) {
        v_.Add(at + "epoch " + std::to_string(m.epoch) + " is below the acknowledged " +
               std::to_string(p.max_epoch));
      }
      if (m.lock && m.lock->epoch != m.epoch) v_.Add(at + "the lock does not carry the epoch");
    } else if (p.max_epoch > 0) {
      v_.Add(at + "the meta record of an acknowledged profile is gone");
    }
    if (!*data) {
      if (p.exists) v_.Add(at + "the data of an acknowledged profile is gone");
    } else {
      const internal::ProfileRecord& r = **data;
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
      if (*meta) {
        if (r.version > (*meta)->last_version) {
          v_.Add(at + "data version " + std::to_string(r.version) + " above the last version");
        }
        CheckVersionHistory(**raw, key, **meta, r, p, v_);
      }
      stored_payloads_[key] = r.payload;
    }
    // The next run starts from what is stored.
    p.floor = stored;
    p.exists = data->has_value();
    if (*meta) {
      p.max_epoch = std::max(p.max_epoch, (*meta)->epoch);
      p.orphan.reset();
      if ((*meta)->lock) {
        p.orphan = ProfileModel::Lock{(*meta)->lock->incarnation, (*meta)->lock->session_id};
      }
    }
  }
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
  auto engine = Engine::Open(dir_, options);
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
    no_wait.timeout = 0ms;  // an orphan is taken over at once, or the start fails TimedOut
    auto profile = players->StartSession(key, no_wait);
    if (!profile.ok()) {
      v_.Add(at + profile.status().ToString());
      continue;
    }
    if (profile->Data() != stored_payloads_[key]) v_.Add(at + "loaded other data than stored");
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
  if (Status s = (*engine)->Close(); !s.ok()) v_.Add("close: " + s.ToString());
}

}  // namespace holdfast::crash
