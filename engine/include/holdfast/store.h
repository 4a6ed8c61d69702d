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
    auto raw = raw_.StartSession(
        key, options, [&](std::string_view payload) -> Result<std::shared_ptr<SessionData>> {
          auto data = Codec::Decode(payload);
          if (!data.ok()) return data.status();
          slot = std::make_shared<Slot>(std::move(*data), template_value_, validate_);
          return std::shared_ptr<SessionData>(slot);
        });
    if (!raw.ok()) return raw.status();
    return Profile<Codec>(std::move(*raw), std::move(slot));
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
    auto data = Codec::Decode(raw->payload);
    if (!data.ok()) {
      return data.status().code() == StatusCode::kCorruption
                 ? Status::Corruption(which + " is damaged: " + data.status().ToString())
                 : Status::InvalidArgument(which + " does not decode with codec '" +
                                           std::string(Codec::kName) +
                                           "': " + data.status().ToString());
    }
    if (validate_) {
      if (Status valid = validate_(*data); !valid.ok()) {
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
  Store(RawStore raw, Value template_value, std::function<Status(const Value&)> validate)
      : raw_(std::move(raw)),
        template_value_(std::move(template_value)),
        validate_(std::move(validate)) {}

  RawStore raw_;
  Value template_value_;
  std::function<Status(const Value&)> validate_;
};

}  // namespace holdfast

#endif  // HOLDFAST_STORE_H_
