// Store<Codec>: a named collection of profiles whose data is encoded by Codec. Get one from
// Engine::OpenStore<Codec>(name, options). Copies share one store. Thread-safe.
#ifndef HOLDFAST_STORE_H_
#define HOLDFAST_STORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/codec.h"
#include "holdfast/migration.h"
#include "holdfast/profile.h"
#include "holdfast/raw_store.h"
#include "holdfast/session.h"
#include "holdfast/versions.h"

namespace holdfast {

template <typename Value>
struct ProfileView {
  Value data;
  VersionInfo version;
  uint64_t load_count = 0;
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool locked = false;
  std::optional<LockHolder> lock;  // who holds the profile, when locked
};

template <typename Value>
struct StoreOptions : StoreSettings {
  // The data of a profile that was never saved.
  Value template_value{};
  // The game's check of its data, run before every save (a refusal fails the save with
  // InvalidArgument naming the check; nothing is written and the session keeps its data) and
  // on data a start loads (a refusal there is a disagreement: see
  // StoreSettings::repair_disagreement). Default: none.
  std::function<Status(const Value&)> validate;
  // The store's schema migrations, oldest first (holdfast/migration.h). Their number is the
  // schema version this server writes (StoreSettings::schema_version is set from it). Data a
  // start loads in an older version goes through the missing steps and is stored at once;
  // `validate` judges the migrated data. Data in a newer version is refused (InvalidArgument),
  // changing nothing.
  std::vector<Migration<Value>> migrations;
};

template <typename Codec>
class Store {
 public:
  using Value = typename Codec::Value;

  // Starts a session on `key` and decodes its data; see RawStore::StartSession for the
  // contract. A payload that is damaged is repaired (corruption policy) or Corruption; one
  // that is intact but does not decode or fails `validate` is InvalidArgument.
  Result<Profile<Codec>> StartSession(std::string_view key, const SessionOptions& options = {}) {
    using Slot = typename Profile<Codec>::Slot;
    std::shared_ptr<Slot> slot;
    bool migrated = false;
    auto raw = raw_.StartSession(
        key, options,
        [&](std::string_view payload, uint32_t schema_version)
            -> Result<std::shared_ptr<SessionData>> {
          auto data = Codec::Decode(payload);
          // The store's check passed these bytes: a decode failure now is no disagreement.
          if (!data.ok()) return Status::Corruption(data.status().ToString());
          if (Status m = MigrateValue(*data, schema_version, migrations_); !m.ok()) return m;
          migrated = schema_version < migrations_.size();
          slot = std::make_shared<Slot>(std::move(*data), template_value_, validate_);
          return std::shared_ptr<SessionData>(slot);
        });
    if (!raw.ok()) return raw.status();
    Profile<Codec> profile(std::move(*raw), std::move(slot));
    // Store migrated data at once, so that no step runs again on the stored payload after a
    // crash. A failure is reported (EngineOptions::on_error) and the auto-save retries it.
    if (migrated) (void)profile.Save();
    return profile;
  }

  // See RawStore::Message.
  Status Message(std::string_view key, std::string_view payload) {
    return raw_.Message(key, payload);
  }

  // See RawStore::Versions.
  Result<std::vector<VersionInfo>> Versions(std::string_view key, const VersionQuery& query = {}) {
    return raw_.Versions(key, query);
  }

  // See RawStore::Get. The store's checks apply: Corruption when the codec finds the payload
  // damaged; InvalidArgument when it is intact but does not decode or fails `validate`.
  Result<ProfileView<Value>> Get(std::string_view key,
                                 std::optional<uint64_t> version = std::nullopt) {
    auto raw = raw_.Get(key, version);
    if (!raw.ok()) return raw.status();
    const std::string which = "version " + std::to_string(raw->version.version);
    if (raw->version.schema_version > migrations_.size()) {
      return Status::InvalidArgument(which + " is in schema version " +
                                     std::to_string(raw->version.schema_version) +
                                     ", newer than this server's migrations reach (" +
                                     std::to_string(migrations_.size()) + ")");
    }
    auto data = Codec::Decode(raw->payload);
    if (!data.ok()) {
      return data.status().code() == StatusCode::kCorruption
                 ? Status::Corruption(which + " is damaged: " + data.status().ToString())
                 : Status::InvalidArgument(which + " does not decode with codec '" +
                                           std::string(Codec::kName) +
                                           "': " + data.status().ToString());
    }
    if (Status m = MigrateValue(*data, raw->version.schema_version, migrations_); !m.ok()) {
      return m.WithContext(which);
    }
    if (*validate_) {
      if (Status valid = (*validate_)(*data); !valid.ok()) {
        return Status::InvalidArgument(which + " fails validate: " + valid.ToString());
      }
    }
    return ProfileView<Value>{std::move(*data),         raw->version,
                              raw->load_count,          std::move(raw->user_ids),
                              std::move(raw->metadata), raw->locked,
                              std::move(raw->lock)};
  }

  // See RawStore::Remove.
  Status Remove(std::string_view key) { return raw_.Remove(key); }

  // See RawStore::Rollback and RollbackTo.
  Result<uint64_t> Rollback(std::string_view key, uint64_t version) {
    return raw_.Rollback(key, version);
  }
  Result<uint64_t> RollbackTo(std::string_view key, int64_t unix_ms) {
    return raw_.RollbackTo(key, unix_ms);
  }

  const std::string& name() const { return raw_.name(); }
  // The byte-level store this one wraps.
  const RawStore& raw() const { return raw_; }

 private:
  friend class Engine;
  Store(RawStore raw, Value template_value, std::function<Status(const Value&)> validate,
        std::vector<Migration<Value>> migrations)
      : raw_(std::move(raw)),
        template_value_(std::make_shared<const Value>(std::move(template_value))),
        validate_(std::make_shared<const std::function<Status(const Value&)>>(
            std::move(validate))),
        migrations_(std::move(migrations)) {}

  RawStore raw_;
  // Shared with every session's data slot (Profile::Slot), never copied per session.
  std::shared_ptr<const Value> template_value_;
  std::shared_ptr<const std::function<Status(const Value&)>> validate_;
  std::vector<Migration<Value>> migrations_;
};

}  // namespace holdfast

#endif  // HOLDFAST_STORE_H_
