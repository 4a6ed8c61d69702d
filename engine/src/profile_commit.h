// The building blocks every profile transaction shares (profile_transactions.cc for the lock
// holder's commits, profile_admin_transactions.cc for everyone else's): the transaction context,
// the lock identity a commit is fenced on, reading meta for update, the epoch fence, keeping the
// user-id index in step, and running the transaction with its fault hook points.
#ifndef HOLDFAST_SRC_PROFILE_COMMIT_H_
#define HOLDFAST_SRC_PROFILE_COMMIT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/hooks.h"
#include "holdfast/status.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

// Who holds a lock: the engine incarnation, the session, and the epoch it acquired.
struct LockIdentity {
  uint64_t incarnation = 0;
  uint64_t session_id = 0;
  uint64_t epoch = 0;
};

struct TransactionContext {
  Storage* storage = nullptr;
  FaultHooks* hooks = nullptr;                 // may be null
  std::atomic<uint64_t>* conflicts = nullptr;  // restarted transactions are added (may be null)
  std::atomic<uint64_t>* commits = nullptr;    // committed transactions are counted (may be null)
  int64_t now_unix_ms = 0;
  uint64_t incarnation = 0;  // the engine's: whose locks are its own, who sends notifications
};

// Reads and decodes meta for update; an absent record gives a fresh ProfileMeta and `*exists`
// false. Corruption when the record fails verification.
Status ReadMetaForUpdate(StorageTransaction& txn, const std::string& key, ProfileMeta* meta,
                         bool* exists);
// The same from meta bytes already read for update (nullopt: absent).
Status DecodeMetaRead(const std::optional<std::string>& bytes, ProfileMeta* meta, bool* exists);

// Makes the user-id index hold exactly `after` for the profile, where it held `before` (both
// sorted and unique).
Status UpdateUserIdIndex(StorageTransaction& txn, const std::string& profile_key,
                         const std::vector<int64_t>& before, const std::vector<int64_t>& after);

// Called by a commit that frees the profile's lock: a starter of another engine that asked for
// it (meta's release request) is notified when the commit lands.
void NotifyReleased(const TransactionContext& ctx, StorageTransaction& txn,
                    const std::string& profile_key, const ProfileMeta& meta);

// LockLost unless `meta`'s lock is exactly `me` (incarnation, session and epoch).
Status CheckFence(const ProfileMeta& meta, const LockIdentity& me);

// One commit point a transaction's body stages (for the fault hooks) and the payload version it
// writes there (0: none). A transaction over several profiles stages one per profile.
struct StagedCommit {
  CommitPoint point{};
  uint64_t version = 0;
};

// Runs one profile transaction (restarts counted as conflicts). `body` stages the writes and
// appends its points to `*staged`; the fault hooks see each point just before the commit (the
// first refusal aborts it) and, once it committed, each point with the version written. Every
// write to meta, data and versions goes through here.
Status RunProfileCommit(
    const TransactionContext& ctx,
    const std::function<Status(StorageTransaction&, std::vector<StagedCommit>*)>& body);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PROFILE_COMMIT_H_
