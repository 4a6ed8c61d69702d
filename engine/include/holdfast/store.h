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
#include "holdfast/session.h"
#include "holdfast/versions.h"

namespace holdfast {

// A read-only view of a profile (its current data or one version), taken without the lock.
struct RawProfileView {
  std::string payload;
  VersionInfo version;
  uint64_t load_count = 0;
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool locked = false;  // a session holds the profile right now
};

template <typename Value>
struct ProfileView {
  Value data;
  VersionInfo version;
  uint64_t load_count = 0;
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool locked = false;
};

namespace internal {
class StoreCore;
// Non-template entry points used by Store<Codec>; defined in engine/src/store_core.cc.
Result<RawSession> StartRawSession(StoreCore& store, std::string_view key,
                                   const SessionOptions& options,
                                   const std::string& template_bytes);
Status AbandonRawSession(RawSession& session, const Status& why);
const std::string& StoreName(const StoreCore& store);
Result<std::vector<VersionInfo>> ListVersions(StoreCore& store, std::string_view key,
                                              const VersionQuery& query);
Result<RawProfileView> GetView(StoreCore& store, std::string_view key,
                               std::optional<uint64_t> version);
Result<uint64_t> RollbackProfile(StoreCore& store, std::string_view key, uint64_t version);
Result<uint64_t> RollbackProfileTo(StoreCore& store, std::string_view key, int64_t unix_ms);
}  // namespace internal

// Options of a store that do not depend on its data type.
struct StoreSettings : SessionTiming {
  // Which versions of each profile are kept (holdfast/versions.h).
  VersionRetention retention;
  // What a start does with a corrupt payload. Default: restore the newest valid version.
  CorruptionPolicy corruption_policy = CorruptionPolicy::kRestoreNewestValid;
  // Called after a start replaced a corrupt payload, on the starting thread. Default: none.
  std::function<void(const CorruptionEvent&)> on_corruption;
};

// Judges stored payload bytes: OK, or why they are corrupt.
using PayloadValidator = std::function<Status(std::string_view payload)>;

template <typename Value>
struct StoreOptions : StoreSettings {
  // The data of a profile that was never saved.
  Value template_value{};
  // Extra check of loaded data; a non-OK status makes the payload corrupt. Default: none.
  std::function<Status(const Value&)> validate;
};

template <typename Codec>
class Store {
 public:
  using Value = typename Codec::Value;

  // Starts a session on `key`: acquires the lock (handing off from or stealing from a live
  // session of this engine, taking over a lock left by a crashed engine), loads the data (the
  // template when the profile is new), bumps the load count.
  // Returns:
  //   InvalidArgument  the key is empty or longer than kMaxProfileKeyBytes;
  //   Locked           options.fail_if_held and a live session holds the profile (nothing
  //                    changed; the holder was not asked to hand off);
  //   Aborted          a newer StartSession for the same key superseded this one;
  //   Cancelled        options.cancel or options.cancel_token said so;
  //   TimedOut         options.timeout (or the store's start_timeout) passed;
  //   Closed           the engine is closing;
  //   Corruption       the stored record failed verification or decoding (nothing changed);
  //   IOError / ResourceExhausted / Busy  storage trouble (nothing changed).
  // A start that fails takes no lock and changes no stored data. One exception: a steal
  // (options.steal, or a handoff that timed out) has already fenced the holder before its
  // acquisition runs; if that acquisition fails, the holder stays ended (OnSessionEnd kStolen)
  // and its lock stays stored, to be taken by the next start of this engine.
  Result<Profile<Codec>> StartSession(std::string_view key, const SessionOptions& options = {}) {
    auto raw = internal::StartRawSession(*core_, key, options, *template_bytes_);
    if (!raw.ok()) return raw.status();
    auto data = Codec::Decode(raw->LastSavedBytes());
    if (!data.ok()) {
      Status why = data.status().code() == StatusCode::kCorruption
                       ? data.status()
                       : Status::Corruption(data.status().ToString());
      (void)internal::AbandonRawSession(*raw, why);
      return why.WithContext("decoding profile with codec '" + std::string(Codec::kName) + "'");
    }
    auto slot = std::make_shared<typename Profile<Codec>::Slot>(std::move(*data), template_value_);
    raw->AttachSlot(slot);
    return Profile<Codec>(std::move(*raw), std::move(slot));
  }

  // The profile's versions, newest first, filtered by `query` (time range, limit, continuation).
  // NotFound when the profile does not exist; InvalidArgument for a bad key.
  Result<std::vector<VersionInfo>> Versions(std::string_view key, const VersionQuery& query = {}) {
    return internal::ListVersions(*core_, key, query);
  }

  // A read-only view of the current data (no version) or of one version, without taking the
  // lock; works while a session is active. NotFound when the profile or version does not exist
  // (never written, or pruned); Corruption when the stored bytes are damaged or do not decode.
  Result<ProfileView<Value>> Get(std::string_view key,
                                 std::optional<uint64_t> version = std::nullopt) {
    auto raw = internal::GetView(*core_, key, version);
    if (!raw.ok()) return raw.status();
    auto data = Codec::Decode(raw->payload);
    if (!data.ok()) {
      return Status::Corruption("version " + std::to_string(raw->version.version) +
                                " does not decode: " + data.status().ToString());
    }
    return ProfileView<Value>{std::move(*data),         raw->version,
                              raw->load_count,          std::move(raw->user_ids),
                              std::move(raw->metadata), raw->locked};
  }

  // Makes `version`'s payload the profile's data again, as a new version whose reason is
  // kRollback and whose source_version is `version`. A live session of the profile is ended
  // first (its final save becomes a version; OnSessionEnd reports kRollback) and the epoch is
  // bumped, so that session can never write again. Returns the new version number.
  //   NotFound         no such profile, or the version was never written or was pruned;
  //   InvalidArgument  the version is quarantined (corrupt bytes), or a bad key;
  //   Corruption       the version's record is damaged;
  //   Aborted / TimedOut / Closed  as for StartSession.
  // The version is checked before anything is claimed, so NotFound, InvalidArgument and
  // Corruption change nothing. Errors after the claim (a storage error in the rollback's own
  // transaction) leave the live session ended by its final save (a version), the rollback
  // itself unwritten.
  Result<uint64_t> Rollback(std::string_view key, uint64_t version) {
    return internal::RollbackProfile(*core_, key, version);
  }
  // Rolls back to the newest version written at or before `unix_ms` (NotFound if none).
  Result<uint64_t> RollbackTo(std::string_view key, int64_t unix_ms) {
    return internal::RollbackProfileTo(*core_, key, unix_ms);
  }

  const std::string& name() const { return internal::StoreName(*core_); }

 private:
  friend class Engine;
  Store(std::shared_ptr<internal::StoreCore> core, Value template_value,
        std::shared_ptr<const std::string> template_bytes)
      : core_(std::move(core)),
        template_value_(std::move(template_value)),
        template_bytes_(std::move(template_bytes)) {}

  std::shared_ptr<internal::StoreCore> core_;
  Value template_value_;
  std::shared_ptr<const std::string> template_bytes_;
};

}  // namespace holdfast

#endif  // HOLDFAST_STORE_H_
