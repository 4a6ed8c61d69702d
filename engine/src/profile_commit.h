// The building blocks every profile transaction shares (profile_transactions.cc for the lock
// holder's commits, profile_admin_transactions.cc for everyone else's): reading meta for update,
// the epoch fence, keeping the user-id index in step, and running the transaction with its fault
// hook points.
#ifndef HOLDFAST_SRC_PROFILE_COMMIT_H_
#define HOLDFAST_SRC_PROFILE_COMMIT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "holdfast/hooks.h"
#include "holdfast/status.h"
#include "profile_transactions.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

// Reads and decodes meta for update; an absent record gives a fresh ProfileMeta and `*exists`
// false. Corruption when the record fails verification.
Status ReadMetaForUpdate(StorageTransaction& txn, const std::string& key, ProfileMeta* meta,
                         bool* exists);

// Makes the user-id index hold exactly `after` for the profile, where it held `before` (both
// sorted and unique).
Status UpdateUserIdIndex(StorageTransaction& txn, const std::string& profile_key,
                         const std::vector<int64_t>& before, const std::vector<int64_t>& after);

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
