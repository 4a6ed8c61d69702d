// The transactions that touch a profile's lock: acquire, save (optionally releasing), abandon,
// save-together (profile_transactions.cc) and an admin's write (rollback, edit, release),
// message, removal (profile_admin_transactions.cc). This is the one module that writes `meta`, `data` and
// `versions`.
// Each re-reads `meta` with GetForUpdate and commits only if the lock still carries the caller's
// identity and epoch — "the record still carries my epoch", never "nobody else holds it" — so a
// session that was ended, stolen from or superseded can never write again.
#ifndef HOLDFAST_SRC_PROFILE_TRANSACTIONS_H_
#define HOLDFAST_SRC_PROFILE_TRANSACTIONS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/hooks.h"
#include "holdfast/status.h"
#include "holdfast/versions.h"
#include "profile_commit.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

struct ProfileAddress {
  std::string_view store;
  std::string_view key;
};


// Judges a payload: OK; Corruption when it is damaged; any other status when it is intact but the
// running code refuses it (a disagreement: the codec cannot decode it, validate refuses it).
// Internal means no verdict (the game's code threw): the operation fails and writes nothing.
// Must be pure: a transaction may run it more than once.
// `schema_version` is the store schema version the payload was written in (its migrations).
using PayloadCheck = std::function<Status(std::string_view payload, uint32_t schema_version)>;

// How the history is kept and how a corrupt payload is handled; set per store.
struct HistoryPolicy {
  VersionRetention retention;
  CorruptionPolicy corruption = CorruptionPolicy::kRestoreNewestValid;
  PayloadCheck check;  // null: every payload that passes the record checksums is valid
  // A disagreement is repaired like damage (true) or fails the start, changing nothing (false).
  bool repair_disagreement = false;
  // The schema version this server writes (StoreSettings::schema_version). A current payload of a
  // newer one fails an acquisition with InvalidArgument, writing nothing; repairs skip versions
  // of a newer one.
  uint32_t schema_version = 0;
};

struct AcquireRequest {
  uint64_t incarnation = 0;
  uint64_t session_id = 0;
  std::string owner;
  std::string codec;
  // Payload written (as the first version) when the profile does not exist yet, and the fallback
  // when a corrupt profile has no valid version to restore.
  const std::string* template_payload = nullptr;
  const HistoryPolicy* history = nullptr;
  // User ids the profile gains with this start (SessionOptions::user_ids); null: none.
  const std::vector<int64_t>* add_user_ids = nullptr;
  // A live session of another engine (one sharing the database, PostgreSQL) holds the profile:
  // take it anyway (a steal: its writes are fenced out by the epoch) rather than report it.
  bool take_from_peer = false;
  // When the profile is held by another engine's live session and not taken: record a release
  // request (this incarnation and session) in its meta record and notify the holder's engine.
  bool request_release = false;
  // Asked (inside the transaction, so possibly more than once) before a corrupt payload is
  // repaired, with why it is corrupt: a non-OK status fails the acquisition with it, writing
  // nothing. Null: repairs are always allowed.
  std::function<Status(const std::string& why)> before_repair;
};

// What an acquisition did about a corrupt payload.
struct CorruptionRepair {
  std::string reason;
  uint64_t quarantined_version = 0;
  uint64_t restored_from = 0;  // 0: the template
  uint64_t restored_as = 0;
};

// A profile held by a live session of another engine.
struct PeerHold {
  SessionLock lock;
  int64_t lease_remaining_ms = 0;  // the holder's engine's lease, by the database's clock
};

struct AcquireResult {
  uint64_t epoch = 0;
  ProfileMeta meta;                          // as committed
  std::string payload;                       // the loaded (or template) payload
  uint64_t version = 0;                      // its version number
  uint32_t schema_version = 0;               // the schema version it is in
  bool created = false;                      // the profile did not exist before
  std::optional<SessionLock> previous_lock;  // the lock this acquisition replaced, if any
  std::optional<ProfileMeta> previous_meta;  // meta before the acquisition (nullopt: none)
  std::optional<CorruptionRepair> repair;    // set when a corrupt payload was replaced
  // Set when another engine's live session holds the profile and it was not taken: nothing was
  // acquired and no other field is set (a requested release was recorded).
  std::optional<PeerHold> held_by_peer;
  // The replaced lock belonged to another engine whose lease was live: a steal, not an orphan.
  bool previous_holder_alive = false;
};

// Takes the lock whatever its state (the caller decided that it may: free, an orphan, a stale
// lock of this engine, or a steal), bumping the epoch and the load count. A corrupt payload is
// repaired by the history policy. Nothing is written when it fails: Corruption when meta fails
// verification or the policy (or before_repair) refuses a repair; InvalidArgument for a
// disagreement the policy does not repair.
Result<AcquireResult> AcquireProfile(const TransactionContext& ctx, ProfileAddress at,
                                     const AcquireRequest& request);

// A start of the same engine waiting for a handoff, to which a final save hands the lock straight
// over in its own commit (the whole handoff is one transaction).
struct HandOverTo {
  uint64_t incarnation = 0;
  uint64_t session_id = 0;
  std::string owner;
  std::vector<int64_t> add_user_ids;  // SessionOptions::user_ids of the start
};

struct SaveRequest {
  LockIdentity lock;
  CommitKind kind = CommitKind::kSave;          // kSave keeps the lock; kRelease / kAbandon drop it
  VersionReason reason = VersionReason::kSave;  // recorded with a new payload's version
  const HistoryPolicy* history = nullptr;
  // New payload to write as the next version; null writes none (a pure release or meta change).
  const std::string* payload = nullptr;
  std::string codec;
  uint32_t schema_version = 0;  // of `payload`
  const std::vector<int64_t>* user_ids = nullptr;                // replace when non-null
  const std::map<std::string, std::string>* metadata = nullptr;  // replace when non-null
  // Messages the session processed: removed in the same transaction (those already gone are
  // skipped). Null: none.
  const std::vector<uint64_t>* processed_messages = nullptr;
  // kAbandon only: undo the acquisition. Meta goes back to `previous_meta` (absent: a fresh
  // record) keeping the new epoch and version counter, which never go back; when the acquisition
  // created the profile, its template record is deleted.
  const AcquireResult* undo = nullptr;
  // kTrade: the other profiles of the commit, recorded with the version (null: none).
  const std::vector<ProfileLocation>* partners = nullptr;
  // kRelease only: the lock goes to this start (a new epoch, its session, the load count, its
  // user ids) instead of being freed. Skipped (a plain release) when the start's user ids would
  // pass the limit: that start then acquires on its own and is refused there.
  const HandOverTo* hand_to = nullptr;
};

struct SaveResult {
  uint64_t version = 0;  // version of the stored payload after the commit
  int64_t updated_unix_ms = 0;
  uint64_t messages_removed = 0;  // processed messages that this commit removed
  // With hand_to, when the lock was handed over: the start's acquisition as committed, except
  // `payload` and `schema_version`, which the saving session knows (what it just stored, or
  // what it had stored). `previous_meta` is meta as the release alone would have left it (what
  // undoing the start restores).
  std::optional<AcquireResult> granted;
};

// LockLost when the lock is no longer `request.lock` (nothing written).
Result<SaveResult> CommitSave(const TransactionContext& ctx, ProfileAddress at,
                              const SaveRequest& request);

// One profile of a CommitSaveTogether: where it is and what to store (kind kTrade keeps the lock).
struct TogetherPart {
  ProfileAddress at;
  SaveRequest request;
};

// Engine::SaveTogether: stores every part in ONE transaction, each fenced on its own lock — all
// or nothing. On failure `*failed` is the index of the part that failed (LockLost: its lock is
// no longer request.lock; Corruption: its meta is damaged), or parts.size() when the failure is
// no one part's (storage, a fault hook).
Result<std::vector<SaveResult>> CommitSaveTogether(const TransactionContext& ctx,
                                                   const std::vector<TogetherPart>& parts,
                                                   size_t* failed);

struct MessageRequest {
  std::string_view payload;
  uint32_t max_pending = 0;  // messages that may wait for one profile
  uint32_t max_bytes = 0;    // size of one payload
  // Set when the limits refused the message (a ResourceExhausted that is not the storage's).
  bool* over_limit = nullptr;
};

// Store::Message: appends `payload` as the profile's next message (by ProfileMeta's
// next_message_seq; a profile that never existed gets a meta record for the counter, which does
// not create it). Not fenced: it commits whoever holds the lock. Returns the sequence number;
// ResourceExhausted past the limits, with nothing written.
Result<uint64_t> CommitMessage(const TransactionContext& ctx, ProfileAddress at,
                               const MessageRequest& request);

struct RemoveResult {
  uint64_t versions = 0;  // version records erased
  uint64_t messages = 0;  // waiting messages erased
};

// Store::Remove: erases the profile's data, every version, every waiting message and its meta
// (lock included, whoever holds it: the caller fenced this engine's holder) in one transaction.
// A meta or data record that fails verification is erased too. NotFound when there is nothing.
Result<RemoveResult> CommitRemove(const TransactionContext& ctx, ProfileAddress at);

// For an admin write on a database that engines share: whether a live session of another engine
// holds the profile (nullopt: none does). With `request`, a held profile gets a release request
// from this engine (session 0: no session asks) and its engine a notification, in one commit.
Result<std::optional<PeerHold>> RequestPeerRelease(const TransactionContext& ctx,
                                                   ProfileAddress at, bool request);

// Rebuilds the user-id index from every profile's meta inside `txn` (an open of a database an
// older build wrote): deletes every entry, then adds one per (user id, profile). Meta records
// that fail verification are skipped (their profiles are repaired or removed on their own).
Status RebuildUserIdIndex(StorageTransaction& txn);

// An admin's write over a profile's lock, whoever holds it: Store::Rollback (an old payload),
// Admin::Edit (a new payload) and Admin::Release (no payload: only the lock of a stuck or crashed
// holder is cleared).
struct AdminWriteRequest {
  // Written as the next version and made the current data; null writes no payload.
  const std::string* payload = nullptr;
  std::string_view codec;
  VersionReason reason = VersionReason::kRollback;  // kRollback or kAdmin
  uint64_t source_version = 0;  // kRollback: the version copied (never pruned by this commit)
  // The schema version of `payload` (a rollback: the source's); unset: the current record's.
  std::optional<uint32_t> schema_version;
  CommitKind kind = CommitKind::kRollback;  // what the fault hooks see: kRollback or kAdminWrite
  const HistoryPolicy* history = nullptr;
  // With no payload (a release): when no lock is stored — its holder's final save cleared it —
  // write nothing at all.
  bool only_if_locked = false;
};

struct AdminWriteResult {
  uint64_t version = 0;  // the new version (0 when no payload was written)
  uint64_t epoch = 0;    // the epoch it took
  bool was_locked = false;  // a lock was stored (and is now cleared)
  // The profile as stored just before: what a fenced holder had saved.
  std::string previous_payload;
  std::vector<int64_t> previous_user_ids;
  std::map<std::string, std::string> previous_metadata;
};

// The admin transaction: bumps the epoch (so any session that held the profile, or a crashed
// engine's lock, can never write again), leaves the profile free, and writes the request's
// payload (if any) as a new version with its reason. A damaged data record replaced by a payload
// is kept as a kQuarantine version first. NotFound when the profile does not exist; nothing is
// written on any error.
Result<AdminWriteResult> CommitAdminWrite(const TransactionContext& ctx, ProfileAddress at,
                                          const AdminWriteRequest& request);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PROFILE_TRANSACTIONS_H_
