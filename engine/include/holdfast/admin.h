// Admin: inspection and maintenance of a whole database — its stores, profiles, held locks,
// verification, checkpoints and compaction — and the admin's writes by store name: rollback,
// edit, release, message, erase. The admin CLI is built on it; a game server may call the same
// functions on its own engine. AdminService is what both Admin (an engine of this process) and
// AdminClient (a running engine's admin socket, holdfast/admin_client.h) offer.
//
// Reads take no lock and see each record as committed when it is read (no snapshot across a
// listing: a profile saved meanwhile shows its old or its new state). Every record read is
// verified: a damaged one is reported in the result, never used and never a crash.
//
// Thread safety: thread-safe; an Admin is a view of its Engine, which must outlive it. Every call
// returns Closed once the engine is closing.
#ifndef HOLDFAST_ADMIN_H_
#define HOLDFAST_ADMIN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/engine.h"
#include "holdfast/raw_store.h"
#include "holdfast/stats.h"
#include "holdfast/status.h"
#include "holdfast/versions.h"

namespace holdfast {

// One registered store and what its profiles' meta records say.
struct StoreSummary {
  std::string name;
  std::string codec;  // the codec name it was registered with ("bytes", ...)
  int64_t created_unix_ms = 0;
  uint64_t profiles = 0;  // profiles with a meta record (damaged ones included)
  uint64_t locked = 0;    // profiles whose lock is held (by a live session or a crashed engine)
  uint64_t versions = 0;  // retained versions of all its profiles
  uint64_t damaged = 0;   // meta records that failed verification (not in locked or versions)
};

// Selects profiles of a store, in storage order: shorter keys first, then bytewise.
struct ProfileQuery {
  // Only keys that start with these bytes. The keys of a store are not stored in prefix order,
  // so a prefix still reads the whole store.
  std::string prefix;
  // At most this many (0 = no limit). Default 100.
  size_t limit = 100;
  // Continuation: only profiles after this key (pass the last key of the previous page).
  std::optional<std::string> after_key;
};

struct ProfileSummary {
  std::string key;
  uint64_t version = 0;  // the current data's version
  int64_t updated_unix_ms = 0;
  uint64_t payload_bytes = 0;
  bool locked = false;
  // Non-empty when the profile's meta or data record failed verification: what failed. The
  // fields above are then those that could be read (0 / false otherwise).
  std::string damage;
};

struct ProfileList {
  std::vector<ProfileSummary> profiles;
  bool more = false;  // the limit cut the list; continue with after_key = the last key
};

// A profile's lock as stored, and where.
struct HeldLock {
  std::string store;
  std::string key;
  LockHolder holder;  // owner, since, epoch, session id, incarnation (holdfast/raw_store.h)
  // Taken by another engine open than the caller's: in a database opened offline, a lock left
  // by a process that is gone; the next StartSession of the profile takes it over.
  bool orphaned = false;
};

// Everything stored about one profile (or one of its versions).
struct ProfileDetails {
  std::string codec;  // the store's codec: how to render view.payload
  RawProfileView view;
  std::optional<HeldLock> lock;  // view.lock, with where and whether it is an orphan
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  int64_t first_session_unix_ms = 0;
  uint64_t last_version = 0;  // the newest version number ever written
};

// A record that failed verification, or an inconsistency between records.
struct DamagedRecord {
  std::string store;  // "" when the stored key itself is malformed
  std::string key;    // the profile key; for a malformed key, its raw bytes
  // "manifest", "meta", "data", "version", "message", "key" (a stored key that is malformed or
  // names no registered store) or "file" (the storage's own checksums, or a read that failed
  // on them).
  std::string record;
  uint64_t version = 0;  // the version for "version", the sequence for "message"
  std::string reason;
};

struct VerifyReport {
  uint64_t stores = 0;
  uint64_t profiles = 0;
  uint64_t versions = 0;  // version records checked
  uint64_t messages = 0;  // waiting message records checked
  uint64_t records = 0;   // records decoded and checked (manifest, meta, data, versions, messages)
  std::vector<DamagedRecord> damaged;
  bool ok() const { return damaged.empty(); }
};

// Told the number of profiles checked so far, after each one (Admin::Verify). Runs on the
// calling thread, inside the check: keep it short.
using VerifyProgress = std::function<void(uint64_t profiles_checked)>;

// What Admin::Release did.
enum class ReleaseOutcome : uint8_t {
  // A live session of this engine made its final save and ended (EndReason::kAdmin).
  kEnded,
  // A stored lock was cleared under a new epoch: one left by an engine that is gone, or a
  // holder of this engine fenced because its final save did not come within handoff_timeout
  // (it ends as kStolen). Whoever held it can never write again.
  kCleared,
};

// One profile as Admin::Import writes it (what `holdfast export` writes per line): the current
// data and what the profile's meta says about its owner. History, locks, load counts and
// waiting messages are not part of it.
struct ImportedProfile {
  std::string key;
  std::string payload;
  uint32_t schema_version = 0;  // the store schema version the payload is in (its migrations)
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
};

struct ImportOptions {
  // Default false: a profile whose lock is held (a live session of this engine, or a lock left
  // by an engine that is gone) refuses the whole import with Locked. True: the import goes
  // through the session lock: a live session of this engine makes its final save and ends
  // first (EndReason::kAdmin), and the import's own transaction takes a new epoch for every
  // profile it writes, so any holder can never write again.
  bool through_lock = false;
};

struct ImportSummary {
  uint64_t created = 0;   // profiles that did not exist
  uint64_t replaced = 0;  // profiles that existed: the imported data is their next version
  uint64_t released = 0;  // live sessions of this engine ended first (through_lock)
};

// The admin operations, whether the database is open in this process (Admin) or held by a running
// engine reached through its admin socket (AdminClient). The statuses are Admin's; a client adds
// its own (see holdfast/admin_client.h). Default arguments are the same in every implementation.
class AdminService {
 public:
  virtual ~AdminService() = default;

  virtual Result<EngineInfo> Info() = 0;
  virtual Result<StoreRegistration> Registration(std::string_view store) = 0;
  virtual Result<std::vector<StoreSummary>> Stores() = 0;
  virtual Result<ProfileList> Profiles(std::string_view store, const ProfileQuery& query = {}) = 0;
  virtual Result<std::vector<HeldLock>> Locks(std::string_view store = {}) = 0;
  virtual Result<ProfileDetails> Inspect(std::string_view store, std::string_view key,
                                         std::optional<uint64_t> version = std::nullopt) = 0;
  virtual Result<std::vector<VersionInfo>> Versions(std::string_view store, std::string_view key,
                                                    const VersionQuery& query = {}) = 0;
  virtual Result<std::vector<ProfileLocation>> FindByUserId(int64_t user_id) = 0;
  virtual Result<VerifyReport> Verify(std::string_view store = {}) = 0;
  virtual Result<EngineStats> Stats() = 0;
  virtual Status Checkpoint(const std::string& dir) = 0;
  virtual Status Compact() = 0;

  virtual Result<uint64_t> Rollback(std::string_view store, std::string_view key,
                                    uint64_t version) = 0;
  virtual Result<uint64_t> RollbackTo(std::string_view store, std::string_view key,
                                      int64_t unix_ms) = 0;
  virtual Result<uint64_t> Edit(std::string_view store, std::string_view key,
                                std::string_view payload) = 0;
  virtual Result<ReleaseOutcome> Release(std::string_view store, std::string_view key) = 0;
  virtual Status Message(std::string_view store, std::string_view key,
                         std::string_view payload) = 0;
  virtual Status Erase(std::string_view store, std::string_view key) = 0;
  virtual Result<std::vector<ProfileLocation>> EraseUser(int64_t user_id) = 0;
};

class Admin final : public AdminService {
 public:
  explicit Admin(Engine& engine) : engine_(&engine) {}

  // The engine's path, format version, incarnation and registered stores (Engine::Info).
  Result<EngineInfo> Info() override;

  // See Engine::Registration: a store's codec and, for a flatbuffers store, its registered
  // schema (what tools render its payloads through).
  Result<StoreRegistration> Registration(std::string_view store) override;

  // The registered stores, by name, with counts from one read of each store's meta records.
  // IOError on storage failure.
  Result<std::vector<StoreSummary>> Stores() override;

  // Profiles of `store` selected by `query`. NotFound for a store that is not registered;
  // InvalidArgument for a bad after_key.
  Result<ProfileList> Profiles(std::string_view store, const ProfileQuery& query = {}) override;

  // Locks held in `store` (every store when empty), in storage order. NotFound for a store that
  // is not registered.
  Result<std::vector<HeldLock>> Locks(std::string_view store = {}) override;

  // The current data (no version) or one version of a profile, with its lock and history facts.
  // NotFound when the store, profile or version does not exist (never written, or pruned);
  // Corruption when a record needed fails verification; InvalidArgument for a bad key.
  Result<ProfileDetails> Inspect(std::string_view store, std::string_view key,
                                 std::optional<uint64_t> version = std::nullopt) override;

  // See RawStore::Versions; NotFound also for a store that is not registered.
  Result<std::vector<VersionInfo>> Versions(std::string_view store, std::string_view key,
                                            const VersionQuery& query = {}) override;

  // See Engine::FindByUserId.
  Result<std::vector<ProfileLocation>> FindByUserId(int64_t user_id) override;

  // See RawStore::Rollback and RollbackTo (same statuses; NotFound also for a store that is not
  // registered). A store open in this engine is rolled back through that open store (its
  // sessions, retention and check). Otherwise the store is opened with its registered codec,
  // auto-save off, no check, and a retention that prunes nothing, so a rollback never deletes
  // history the game's own retention would keep; a later Engine::OpenStore of that store with
  // other settings then fails with InvalidArgument, so a server opens its stores first. The
  // writes below open a store the same way.
  Result<uint64_t> Rollback(std::string_view store, std::string_view key,
                            uint64_t version) override;
  Result<uint64_t> RollbackTo(std::string_view store, std::string_view key,
                              int64_t unix_ms) override;

  // Writes `payload` as the profile's data, through the session lock: a live session of the
  // profile in this engine is ended first with its final save (a version; OnSessionEnd reports
  // EndReason::kAdmin), then one transaction bumps the epoch — so that session, or a lock left
  // by a crashed engine, can never write again — and writes `payload` as a new version with
  // reason kAdmin, leaving the profile free. Returns the new version number.
  //   NotFound         no such store or profile (an edit never creates a profile);
  //   InvalidArgument  a bad key; the payload is larger than max_payload_bytes or the store's
  //                    check (its codec and validate, when the game opened the store) refuses it;
  //   Internal         the store's check threw (no verdict);
  //   Aborted / TimedOut / Closed  as for Rollback.
  // The payload is checked before anything is claimed: a refusal changes nothing, the live
  // session included. A store this engine has not opened has no check but the codec's name.
  Result<uint64_t> Edit(std::string_view store, std::string_view key,
                        std::string_view payload) override;

  // Ends whoever holds the profile, leaving it free: a live session of this engine through its
  // final save (kEnded: a version, OnSessionEnd reporting EndReason::kAdmin); otherwise a stored
  // lock is cleared under a new epoch (kCleared). NotFound when no such store or profile, or
  // nothing holds it; InvalidArgument for a bad key; Aborted / TimedOut / Closed as for Rollback.
  Result<ReleaseOutcome> Release(std::string_view store, std::string_view key) override;

  // See RawStore::Message (NotFound also for a store that is not registered).
  Status Message(std::string_view store, std::string_view key, std::string_view payload) override;

  // See RawStore::Remove (NotFound also for a store that is not registered): the profile is
  // erased for good, a live session of this engine fenced without a final save (kRemoved).
  Status Erase(std::string_view store, std::string_view key) override;

  // Erases every profile that FindByUserId(user_id) lists, one Remove each, in (store, key)
  // order; returns them. NotFound when none carries the id. A failure stops there and names how
  // many were erased before it (those stay erased).
  Result<std::vector<ProfileLocation>> EraseUser(int64_t user_id) override;

  // Reads and checks every record of `store` (every store when empty): the manifest, each
  // profile's meta and data records, every version record (stored or indexed) and waiting
  // message (through the reader that delivers them), that every key
  // decodes and belongs to a registered store and a profile with a meta record, and the storage's
  // own file checksums. A flatbuffers store's registered schema is checked as an open checks it
  // (damage of its "manifest" record, store set, key empty), and the payload of each of its data
  // and version records against that schema: one that fails the verifier is damage (a payload
  // without the schema's file identifier is a disagreement the game's store reports, not
  // damage). Damage goes into the report; the call fails only when it cannot read on:
  // NotFound for a store that is not registered, IOError on storage failure.
  Result<VerifyReport> Verify(std::string_view store = {}) override;
  // The same, reporting its progress (a progress bar's): not part of AdminService, as a check
  // through the admin socket is one request with one answer.
  Result<VerifyReport> Verify(std::string_view store, const VerifyProgress& progress);

  // The engine's live counters and latencies (Engine::Stats). Through an AdminClient: the
  // running server's. Closed once the engine is closing.
  Result<EngineStats> Stats() override;

  // Writes a consistent copy of the database into `dir`, which must not exist yet (give an
  // absolute path); the copy opens with Engine::Open as a database of its own, with any locks
  // held now (they are orphans there). Files are hard-linked when on the same file system.
  // InvalidArgument when `dir` exists; IOError on storage failure.
  Status Checkpoint(const std::string& dir) override;

  // Rewrites the database's files in full, dropping deleted and overwritten records. Changes no
  // record. IOError on storage failure.
  Status Compact() override;

  // Writes `profiles` into `store`, registering it as `registration` says (its codec and, for
  // a flatbuffers store, its schema: Engine::OpenStore's rules — the same codec, a schema that
  // is the registered one or a compatible evolution of it; registration.name is not used).
  // All or nothing: every profile is checked first — a valid key, no key twice, the size limit,
  // a JSON store's payload a JSON document, a flatbuffers store's payload verified against the
  // schema, and the store's check and schema version when this engine has the store open —
  // then the registration and every profile are written in ONE transaction. Each profile's
  // payload becomes its next version (reason kAdmin, a new epoch, the lock left free) with the
  // given user ids and metadata; a profile that does not exist is created.
  //   InvalidArgument  a refused registration or profile (the message names the profile by its
  //                    index in `profiles` and its key);
  //   Locked           a profile's lock is held and options.through_lock is false;
  //   Corruption       a profile's meta record fails verification (erase it first);
  //   Aborted / TimedOut / Closed  ending a live session (through_lock);
  //   IOError          storage failure.
  // On any failure nothing of the import is written: the database's records are as before
  // (with through_lock, the live sessions already ended stay ended, their final saves kept).
  // Not part of AdminService: an import is one transaction in the process that holds the
  // database, so `holdfast import` needs the server stopped (README, "Operating a live server").
  Result<ImportSummary> Import(std::string_view store, const StoreRegistration& registration,
                               const std::vector<ImportedProfile>& profiles,
                               const ImportOptions& options = {});

 private:
  Engine* engine_;
};

}  // namespace holdfast

#endif  // HOLDFAST_ADMIN_H_
