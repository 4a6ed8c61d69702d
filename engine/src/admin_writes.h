// Admin writes over a profile's session lock — Store::Rollback, Admin::Edit and Admin::Release.
// Each claims the key in the store's session registry (a live holder of this engine makes its
// final save first; one that does not within the handoff timeout is fenced), then commits one
// CommitAdminWrite: a new epoch, so the old holder can never write again, and the profile left
// free. Everything that can refuse the write is checked before the claim, so a refusal changes
// nothing.
//
// Thread safety: thread-safe (the registry serializes claims of one key).
#ifndef HOLDFAST_SRC_ADMIN_WRITES_H_
#define HOLDFAST_SRC_ADMIN_WRITES_H_

#include <cstdint>
#include <string_view>

#include "holdfast/admin.h"
#include "holdfast/session.h"
#include "profile_transactions.h"
#include "session_registry.h"

namespace holdfast::internal {

// Claims `key` of `store` (a live holder ends with `end_reason` through its final save) and
// commits `request`. A holder fenced instead ends as kStolen, told whether it leaves changes
// unsaved; `what` names the write in its end detail ("a rollback"). Statuses as RawStore::Rollback
// after its checks: NotFound (no profile), InvalidArgument (a bad key), Aborted / TimedOut /
// Closed (the claim), IOError and the like (the commit; nothing written).
Result<AdminWriteResult> ClaimAndWrite(SessionRegistry& store, std::string_view key,
                                       EndReason end_reason, const AdminWriteRequest& request,
                                       std::string_view what);

// Admin::Edit on an open store: checks `payload` (size limit, the store's check), then writes it
// as a kAdmin version under a new epoch. InvalidArgument when refused (nothing changed).
Result<uint64_t> EditProfile(SessionRegistry& store, std::string_view key,
                             std::string_view payload);

// Admin::Release on an open store: see holdfast/admin.h.
Result<ReleaseOutcome> ReleaseProfile(SessionRegistry& store, std::string_view key);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ADMIN_WRITES_H_
