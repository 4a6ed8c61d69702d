// RawStore: a named collection of profiles at the byte level — sessions, version history, read-only
// views and rollback — with no codec of its own. Store<Codec> wraps it; tools that handle
// payloads as bytes (the admin CLI, tests) may use it directly through Engine::OpenRawStore.
// Copies share one store. Thread-safe.
#ifndef HOLDFAST_RAW_STORE_H_
#define HOLDFAST_RAW_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/session.h"
#include "holdfast/status.h"
#include "holdfast/versions.h"

namespace holdfast {

// Who holds a profile's session lock, as stored.
struct LockHolder {
  std::string owner;          // the holder's engine (EngineOptions::owner_description)
  int64_t since_unix_ms = 0;  // when it took the lock (wall clock)
  uint64_t epoch = 0;         // the holder's fencing epoch
  uint64_t session_id = 0;
  uint64_t incarnation = 0;  // the holding engine's incarnation (an older one: a crashed engine's)
};

// A read-only view of a profile (its current data or one version), taken without the lock.
struct RawProfileView {
  std::string payload;
  VersionInfo version;
  uint64_t load_count = 0;
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool locked = false;  // a session holds the profile right now
  std::optional<LockHolder> lock;  // who, when locked
};

// Options of a store that do not depend on its data type.
struct StoreSettings : SessionTiming {
  // Which versions of each profile are kept (holdfast/versions.h).
  VersionRetention retention;
  // What a start does with a corrupt payload. Default: restore the newest valid version.
  CorruptionPolicy corruption_policy = CorruptionPolicy::kRestoreNewestValid;
  // Called after a start replaced a corrupt payload, on the starting thread. Default: none.
  std::function<void(const CorruptionEvent&)> on_corruption;
  // Intact stored bytes that the store's check refuses (the codec cannot decode them, validate
  // fails) are a disagreement between the data and the running code — a bad deploy, a stricter
  // validate — not damage. Default false: such a start fails with InvalidArgument and nothing
  // is changed or restored. True: they are handled like damage (corruption_policy).
  bool repair_disagreement = false;
  // Limits mass repairs (holdfast/versions.h).
  RepairBreaker repair_breaker;
  // Messages waiting for one profile, and the size of one message: past them Store::Message
  // returns ResourceExhausted (nothing is ever dropped to make room).
  uint32_t max_pending_messages = 1'000;
  uint32_t max_message_bytes = 64 * 1024;
  // The store schema version this server's code writes: how many migration steps it knows
  // (OpenStore sets it from StoreOptions::migrations). Stored with every payload. A start or a
  // Get of a payload written in a newer schema version fails with InvalidArgument and changes
  // nothing — during a rolling deploy an older server must not overwrite newer data.
  uint32_t schema_version = 0;
};

// Judges stored payload bytes: OK; Corruption when they are damaged (repaired by the corruption
// policy); any other status when they are intact but this code refuses them (a disagreement,
// see StoreSettings::repair_disagreement); Internal when it cannot decide (nothing changes).
// `schema_version` is the store schema version the payload was written in (see
// StoreSettings::schema_version): a typed store migrates it before it judges it.
using PayloadValidator = std::function<Status(std::string_view payload, uint32_t schema_version)>;

class RawStore {
 public:
  class Impl;  // the store's session registry, defined inside the engine

  RawStore() = default;  // an empty handle: every call returns InvalidArgument

  // Starts a session on `key`: acquires the lock (handing off from or stealing from a live
  // session of this engine, taking over a lock left by a crashed engine), loads the data (the
  // template when the profile is new), bumps the load count, and hands the loaded payload to
  // `make_data` (when set) before the session is visible to any other thread.
  // Returns:
  //   InvalidArgument  the key is empty or longer than kMaxProfileKeyBytes;
  //   Locked           options.fail_if_held and a live session holds the profile (nothing
  //                    changed; the holder was not asked to hand off);
  //   Aborted          a newer StartSession for the same key superseded this one;
  //   Cancelled        options.cancel or options.cancel_token said so;
  //   TimedOut         options.timeout (or the store's start_timeout) passed;
  //   Closed           the engine is closing;
  //   Corruption       the stored record failed verification and the corruption policy is
  //                    kFail, or the repair breaker refused to repair it, or `make_data`
  //                    refused the payload (nothing changed);
  //   InvalidArgument  the stored payload is intact but the store's check refuses it (a
  //                    disagreement; nothing changed or restored unless repair_disagreement);
  //   IOError / ResourceExhausted / Busy  storage trouble (nothing changed).
  // A start that fails takes no lock and changes no stored data, and withdraws the handoff it
  // asked for: the holder keeps its session unless its final save had already begun (that save
  // then completes and leaves the profile free). One exception: a steal
  // (options.steal, or a handoff that timed out) has already fenced the holder before its
  // acquisition runs; if that acquisition fails, the holder stays ended (OnSessionEnd kStolen)
  // and its lock stays stored, to be taken by the next start of this engine.
  Result<RawSession> StartSession(std::string_view key, const SessionOptions& options = {},
                                  const SessionDataFactory& make_data = nullptr);

  // Appends a message for the profile `key`, durably, whether or not a session holds it — also
  // to a profile that was never created. A session of this engine holding the profile receives
  // it at once (SessionOptions::on_message / SetMessageHandler); otherwise the profile's next
  // session does, in order with the others. Returns:
  //   InvalidArgument    a bad key;
  //   ResourceExhausted  the payload is larger than max_message_bytes, or max_pending_messages
  //                      are already waiting (nothing written);
  //   Closed / IOError   as for every write.
  Status Message(std::string_view key, std::string_view payload);

  // The profile's versions, newest first, filtered by `query` (time range, limit, continuation).
  // NotFound when the profile does not exist; InvalidArgument for a bad key.
  Result<std::vector<VersionInfo>> Versions(std::string_view key, const VersionQuery& query = {});

  // A read-only view of the current data (no version) or of one version, without taking the
  // lock; works while a session is active. NotFound when the profile or version does not exist
  // (never written, or pruned); Corruption when the stored bytes are damaged.
  Result<RawProfileView> Get(std::string_view key, std::optional<uint64_t> version = std::nullopt);

  // Makes `version`'s payload the profile's data again, as a new version whose reason is
  // kRollback and whose source_version is `version`. A live session of the profile is ended
  // first (its final save becomes a version; OnSessionEnd reports kRollback) and the epoch is
  // bumped, so that session can never write again. Returns the new version number.
  //   NotFound         no such profile, or the version was never written or was pruned;
  //   InvalidArgument  the version is quarantined (corrupt bytes) or fails the store's check,
  //                    or a bad key;
  //   Corruption       the version's record is damaged;
  //   Aborted / TimedOut / Closed  as for StartSession.
  // The version is checked before anything is claimed, so NotFound, InvalidArgument and
  // Corruption change nothing. Errors after the claim (a storage error in the rollback's own
  // transaction) leave the live session ended by its final save (a version), the rollback
  // itself unwritten.
  Result<uint64_t> Rollback(std::string_view key, uint64_t version);
  // Rolls back to the newest version written at or before `unix_ms` (NotFound if none).
  Result<uint64_t> RollbackTo(std::string_view key, int64_t unix_ms);

  // Erases the profile: its data, every version, every waiting message and its meta (lock, load
  // count, user ids, metadata), in one transaction, then compacts the erased key range so the
  // bytes no longer exist in the database's files (see README, "Erasure"). A live session of the
  // profile in this engine is fenced first, without a final save: its OnSessionEnd reports
  // kRemoved and its later writes return Removed. A later start creates the profile afresh.
  //   NotFound         nothing is stored for the key;
  //   InvalidArgument  a bad key;
  //   Aborted / TimedOut / Closed  as for StartSession (a start of the key is in progress);
  //   IOError          storage failed: nothing erased, or (with a message saying so) erased but
  //                    not yet compacted.
  Status Remove(std::string_view key);

  // The store's name and codec name ("" for an empty handle).
  const std::string& name() const;
  const std::string& codec() const;

 private:
  friend struct ImplAccess;
  explicit RawStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace holdfast

#endif  // HOLDFAST_RAW_STORE_H_
