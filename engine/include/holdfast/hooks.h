// Fault hooks: test seams inside the engine's commits. A hook can pause a commit (block in
// BeforeCommit until the test releases it), fail it with an injected status, or observe every
// successful commit. Production code leaves EngineOptions::fault_hooks null.
//
// Hooks run on the thread doing the commit, with no engine lock held.
#ifndef HOLDFAST_HOOKS_H_
#define HOLDFAST_HOOKS_H_

#include <cstdint>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast {

enum class CommitKind : uint8_t {
  kAcquire,   // StartSession taking the lock (also a steal or an orphan takeover)
  kSave,      // a save that keeps the lock (Save(), auto-save)
  kRelease,   // the final save that releases the lock (EndSession, handoff, shutdown)
  kAbandon,   // giving back a lock that a superseded or cancelled start had just taken
  kRollback,  // Store::Rollback: takes a new epoch, restores an old payload, leaves the lock free
  kMessage,   // Store::Message: appends a message for the profile (not fenced: any time)
  kRemove,    // Store::Remove: erases the profile (data, versions, messages, meta)
  kTrade,     // Engine::SaveTogether: one point per profile, all in one transaction
  // Admin::Edit (a new payload) or Admin::Release of a lock its holder cannot release (no
  // payload): like kRollback, a new epoch that leaves the lock free
  kAdminWrite,
};

struct CommitPoint {
  CommitKind kind;
  std::string_view store;
  std::string_view key;
  // The epoch the commit is fenced on (for kAcquire, kRollback, kAdminWrite: the new epoch it
  // writes).
  uint64_t epoch;
  uint64_t session_id;  // 0 for kRollback and kAdminWrite
};

class FaultHooks {
 public:
  virtual ~FaultHooks() = default;
  // Called after the transaction's reads and fence check, just before commit. A non-OK status
  // aborts the transaction (nothing is written) and is handled as if storage had returned it.
  virtual Status BeforeCommit(const CommitPoint& point) { return Status::Ok(); }
  // Called after a commit succeeded, with the version it wrote (0 when it wrote no payload).
  virtual void AfterCommit(const CommitPoint& point, uint64_t version) {}
};

}  // namespace holdfast

#endif  // HOLDFAST_HOOKS_H_
