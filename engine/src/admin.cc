// Admin: the public admin API. Listings read the meta family through profile_scan; one profile's
// reads reuse profile_reads (the same code as RawStore::Get and Versions); every write goes
// through the store's session registry (RawStore, admin_writes); Verify is database_verify;
// checkpoints and compaction are the storage's.
#include "holdfast/admin.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "admin_writes.h"
#include "database_verify.h"
#include "engine_impl.h"
#include "impl_access.h"
#include "key_codec.h"
#include "profile_reads.h"
#include "profile_scan.h"
#include "session_registry.h"

namespace holdfast {
namespace {

using internal::Family;
using internal::StoreEntry;

// Runs `fn` admitted by the engine's gate (Closed once the engine is closing).
template <typename Fn>
auto Gated(Engine::Impl& engine, Fn&& fn) -> decltype(fn()) {
  internal::GatePass pass(engine.context().gate());
  if (!pass.admitted()) return Status::Closed("engine is closing");
  return fn();
}

// The registration of `name`; NotFound naming the registered stores.
Result<StoreEntry> FindStore(Engine::Impl& engine, std::string_view name) {
  const std::vector<StoreEntry> stores = engine.stores().Registered();
  std::string known;
  for (const StoreEntry& store : stores) {
    if (store.name == name) return store;
    known += (known.empty() ? "" : ", ") + store.name;
  }
  return Status::NotFound("no store '" + std::string(name) +
                          "' in this database (stores: " + (known.empty() ? "none" : known) + ")");
}

// The registered stores that `name` selects: that one, or all when empty.
Result<std::vector<StoreEntry>> SelectStores(Engine::Impl& engine, std::string_view name) {
  if (name.empty()) return engine.stores().Registered();
  auto store = FindStore(engine, name);
  if (!store.ok()) return store.status();
  return std::vector<StoreEntry>{*store};
}

// Tells whether a lock's engine is gone, so the lock is an orphan: any incarnation but this
// engine's where one process writes the database (RocksDB); on a database engines share, one
// whose lease is no longer live. Remembers each incarnation's answer for one report.
class OrphanJudge {
 public:
  explicit OrphanJudge(Engine::Impl& engine) : engine_(engine) {}
  Result<bool> Gone(uint64_t incarnation) {
    if (incarnation == engine_.context().incarnation()) return false;
    if (!engine_.storage().Shared()) return true;
    if (auto it = known_.find(incarnation); it != known_.end()) return it->second;
    auto lease = engine_.storage().Lease(incarnation);
    if (!lease.ok()) return lease.status();
    known_[incarnation] = !lease->alive;
    return !lease->alive;
  }

 private:
  Engine::Impl& engine_;
  std::map<uint64_t, bool> known_;
};

Result<HeldLock> LockOf(OrphanJudge& judge, const std::string& store, const std::string& key,
                        const LockHolder& holder) {
  auto gone = judge.Gone(holder.incarnation);
  if (!gone.ok()) return gone.status();
  return HeldLock{store, key, holder, *gone};
}

// Fills the data-record fields of `summary` (version, time, size), or notes its damage.
Status ReadDataSummary(internal::Storage& storage, const std::string& store,
                       ProfileSummary& summary) {
  std::string bytes;
  Status s = storage.Get(Family::kData, internal::EncodeProfileKey(store, summary.key), &bytes);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();  // its creation was undone
  if (s.code() == StatusCode::kCorruption) {
    summary.damage = "data: " + s.message();
    return Status::Ok();
  }
  if (!s.ok()) return s;
  auto record = internal::DecodeProfileRecord(bytes);
  if (!record.ok()) {
    summary.damage = "data: " + record.status().message();
    return Status::Ok();
  }
  summary.version = record->version;
  summary.updated_unix_ms = record->updated_unix_ms;
  summary.payload_bytes = record->payload.size();
  return Status::Ok();
}

// The store an admin writes through: the one open in this engine, or an open that prunes nothing.
Result<RawStore> AdminStore(Engine::Impl& engine, std::string_view name) {
  internal::GatePass pass(engine.context().gate());
  if (!pass.admitted()) return Status::Closed("engine is closing");
  auto entry = FindStore(engine, name);
  if (!entry.ok()) return entry.status();
  auto open_here = [&]() -> std::optional<RawStore> {
    for (const auto& open : engine.stores().OpenStores()) {
      if (open->config().name == entry->name) return ImplAccess::Wrap(open);
    }
    return std::nullopt;
  };
  if (auto open = open_here()) return *open;
  StoreSettings settings;
  settings.autosave = false;
  settings.retention.keep_newest = std::numeric_limits<uint32_t>::max();
  auto store = engine.OpenStore(entry->name, entry->codec, settings, "", nullptr, "");
  if (store.ok() || store.status().code() != StatusCode::kInvalidArgument) return store;
  // The game opened the store meanwhile with its own settings: write through that one.
  if (auto open = open_here()) return *open;
  return store.status();
}

}  // namespace

Result<EngineInfo> Admin::Info() {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<EngineInfo> { return engine.Info(); });
}

Result<StoreRegistration> Admin::Registration(std::string_view store) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<StoreRegistration> { return engine_->Registration(store); });
}

Result<std::vector<StoreSummary>> Admin::Stores() {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<std::vector<StoreSummary>> {
    std::vector<StoreSummary> out;
    for (const StoreEntry& entry : engine.stores().Registered()) {
      StoreSummary summary{entry.name, entry.codec, entry.created_unix_ms};
      Status s = internal::ForEachProfile(
          engine.storage(), entry.name, std::nullopt, [&](internal::StoredProfile& profile) {
            ++summary.profiles;
            if (!profile.key_damage.empty() || !profile.meta.ok()) {
              ++summary.damaged;
            } else {
              summary.locked += profile.meta->lock.has_value() ? 1 : 0;
              summary.versions += profile.meta->versions.size();
            }
            return true;
          });
      if (!s.ok()) return s.WithContext("reading store '" + entry.name + "'");
      out.push_back(std::move(summary));
    }
    return out;
  });
}

Result<ProfileList> Admin::Profiles(std::string_view store, const ProfileQuery& query) {
  if (query.after_key) {
    if (Status s = ValidateProfileKey(*query.after_key); !s.ok()) return s;
  }
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<ProfileList> {
    auto entry = FindStore(engine, store);
    if (!entry.ok()) return entry.status();
    ProfileList out;
    Status failed;
    Status s = internal::ForEachProfile(
        engine.storage(), entry->name, query.after_key, [&](internal::StoredProfile& profile) {
          if (!profile.key.starts_with(query.prefix)) return true;
          if (query.limit != 0 && out.profiles.size() >= query.limit) {
            out.more = true;
            return false;
          }
          ProfileSummary summary;
          summary.key = profile.key;
          if (!profile.key_damage.empty()) {
            summary.damage = "key: " + profile.key_damage;
          } else if (!profile.meta.ok()) {
            summary.damage = "meta: " + profile.meta.status().message();
          } else {
            summary.locked = profile.meta->lock.has_value();
          }
          if (profile.key_damage.empty()) {
            failed = ReadDataSummary(engine.storage(), entry->name, summary);
          }
          out.profiles.push_back(std::move(summary));
          return failed.ok();
        });
    if (!failed.ok()) return failed;
    if (!s.ok()) return s;
    return out;
  });
}

Result<std::vector<HeldLock>> Admin::Locks(std::string_view store) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<std::vector<HeldLock>> {
    auto stores = SelectStores(engine, store);
    if (!stores.ok()) return stores.status();
    OrphanJudge judge(engine);
    std::vector<HeldLock> out;
    for (const StoreEntry& entry : *stores) {
      Status judged;
      Status s = internal::ForEachProfile(
          engine.storage(), entry.name, std::nullopt, [&](internal::StoredProfile& profile) {
            if (profile.key_damage.empty() && profile.meta.ok() && profile.meta->lock) {
              const internal::SessionLock& l = *profile.meta->lock;
              auto held =
                  LockOf(judge, entry.name, profile.key,
                         {l.owner, l.acquired_unix_ms, l.epoch, l.session_id, l.incarnation});
              if (!held.ok()) {
                judged = held.status();
                return false;
              }
              out.push_back(std::move(*held));
            }
            return true;
          });
      if (s.ok()) s = judged;
      if (!s.ok()) return s.WithContext("reading store '" + entry.name + "'");
    }
    return out;
  });
}

Result<ProfileDetails> Admin::Inspect(std::string_view store, std::string_view key,
                                      std::optional<uint64_t> version) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<ProfileDetails> {
    auto entry = FindStore(engine, store);
    if (!entry.ok()) return entry.status();
    const internal::ProfileRef at{entry->name, key};
    auto meta = internal::ReadProfileMeta(engine.storage(), at);
    if (!meta.ok()) return meta.status();
    auto view = internal::ReadProfileView(engine.storage(), at, version);
    if (!view.ok()) return view.status();
    ProfileDetails details;
    details.codec = entry->codec;
    details.view = std::move(*view);
    if (details.view.lock) {
      OrphanJudge judge(engine);
      auto held = LockOf(judge, entry->name, std::string(key), *details.view.lock);
      if (!held.ok()) return held.status();
      details.lock = std::move(*held);
    }
    details.created_unix_ms = meta->created_unix_ms;
    details.updated_unix_ms = meta->updated_unix_ms;
    details.first_session_unix_ms = meta->first_session_unix_ms;
    details.last_version = meta->last_version;
    return details;
  });
}

Result<std::vector<VersionInfo>> Admin::Versions(std::string_view store, std::string_view key,
                                                 const VersionQuery& query) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<std::vector<VersionInfo>> {
    auto entry = FindStore(engine, store);
    if (!entry.ok()) return entry.status();
    return internal::ListVersions(engine.storage(), {entry->name, key}, query);
  });
}

Result<uint64_t> Admin::Rollback(std::string_view store, std::string_view key, uint64_t version) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return raw->Rollback(key, version);
}

Result<uint64_t> Admin::RollbackTo(std::string_view store, std::string_view key, int64_t unix_ms) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return raw->RollbackTo(key, unix_ms);
}

Result<uint64_t> Admin::Edit(std::string_view store, std::string_view key,
                             std::string_view payload) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return internal::EditProfile(*ImplAccess::Of(*raw), key, payload);
}

Result<ReleaseOutcome> Admin::Release(std::string_view store, std::string_view key) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return internal::ReleaseProfile(*ImplAccess::Of(*raw), key);
}

Status Admin::Message(std::string_view store, std::string_view key, std::string_view payload) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return raw->Message(key, payload);
}

Status Admin::Erase(std::string_view store, std::string_view key) {
  auto raw = AdminStore(ImplAccess::Of(*engine_), store);
  if (!raw.ok()) return raw.status();
  return raw->Remove(key);
}

Result<std::vector<ProfileLocation>> Admin::FindByUserId(int64_t user_id) {
  return engine_->FindByUserId(user_id);
}

Result<std::vector<ProfileLocation>> Admin::EraseUser(int64_t user_id) {
  auto found = FindByUserId(user_id);
  if (!found.ok()) return found.status();
  if (found->empty()) {
    return Status::NotFound("no profile carries user id " + std::to_string(user_id));
  }
  std::vector<ProfileLocation> erased;
  for (const ProfileLocation& at : *found) {
    Status s = Erase(at.store, at.key);
    // Erased meanwhile (a concurrent erasure): gone either way.
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      return s.WithContext("erasing " + at.store + "/" + at.key + " (" +
                           std::to_string(erased.size()) + " of " +
                           std::to_string(found->size()) + " profiles erased before it)");
    }
    erased.push_back(at);
  }
  return erased;
}

Result<VerifyReport> Admin::Verify(std::string_view store) { return Verify(store, nullptr); }

Result<VerifyReport> Admin::Verify(std::string_view store, const VerifyProgress& progress) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<VerifyReport> {
    auto stores = SelectStores(engine, store);
    if (!stores.ok()) return stores.status();
    return internal::VerifyDatabase(engine.storage(), engine.stores().Registered(), *stores,
                                    /*whole_database=*/store.empty(), progress);
  });
}

Result<EngineStats> Admin::Stats() {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Result<EngineStats> { return engine.Stats(); });
}

Status Admin::Checkpoint(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("checkpoint directory is empty");
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&] { return engine.storage().Checkpoint(dir); });
}

Status Admin::Compact() {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  return Gated(engine, [&]() -> Status {
    // Every family over its whole key range: the same compaction as an erasure's.
    for (int f = 0; f < internal::kFamilyCount; ++f) {
      Status s = engine.storage().CompactRange(static_cast<Family>(f), internal::ScanRange{});
      if (!s.ok()) return s;
    }
    return Status::Ok();
  });
}

}  // namespace holdfast
