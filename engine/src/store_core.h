// StoreCore: one named store's sessions inside an engine. It decides, per profile key, who may
// acquire: a free key is acquired at once; a key held by a live session of this engine is handed
// off (the holder is asked to make its final save and release) or stolen (after handoff_timeout,
// or at once with SessionOptions::steal); of several waiting starters the newest wins.
//
// Thread safety: all methods are thread-safe. Lock order: StoreCore::mu_ -> SessionCore::mu_
// -> SessionRuntime::mu_. User code (cancel predicates) is never called with mu_ held.
#ifndef HOLDFAST_SRC_STORE_CORE_H_
#define HOLDFAST_SRC_STORE_CORE_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/clock.h"
#include "holdfast/session.h"
#include "holdfast/store.h"
#include "profile_transactions.h"

namespace holdfast::internal {

class SessionCore;
class SessionRuntime;

class StoreCore : public std::enable_shared_from_this<StoreCore> {
 public:
  StoreCore(std::shared_ptr<SessionRuntime> runtime, std::string name, std::string codec,
            StoreSettings settings, PayloadValidator check);

  const std::string& name() const { return name_; }
  const std::string& codec() const { return codec_; }
  const SessionTiming& timing() const { return settings_; }
  const HistoryPolicy& history() const { return history_; }
  SessionRuntime& runtime() const { return *runtime_; }

  // See Store::StartSession for the contract.
  Result<RawSession> Start(std::string_view key, const SessionOptions& options,
                           const std::string& template_payload);

  // Store-level operations (store_operations.cc); see Store for the contracts.
  Result<std::vector<VersionInfo>> Versions(std::string_view key, const VersionQuery& query);
  Result<RawProfileView> Get(std::string_view key, std::optional<uint64_t> version) const;
  Result<uint64_t> Rollback(std::string_view key, uint64_t version);
  Result<uint64_t> RollbackTo(std::string_view key, int64_t unix_ms);

  // A session ended: forget it as the key's holder and wake waiting starters.
  void SessionEnded(const std::string& key, const SessionCore* session);
  // Wakes every waiting starter (engine closing).
  void WakeAll();

 private:
  struct KeyEntry {
    std::shared_ptr<SessionCore> holder;  // the live session of this engine, if any
    bool acquiring = false;               // a starter is running the acquire transaction
    uint64_t newest_start = 0;            // generation of the newest starter
    int starters = 0;                     // starters currently inside Start for this key
  };

  // Runs the acquire transaction and, if the start is still wanted, registers the session.
  // Called without mu_; `victim` is the session being stolen from, if any.
  Result<std::shared_ptr<SessionCore>> Acquire(const std::string& key,
                                               const std::string& template_payload,
                                               const std::shared_ptr<SessionCore>& victim,
                                               const SessionOptions& options);
  static bool Cancelled(const SessionOptions& options);
  // The version a rollback would restore, checked without claiming the key: NotFound (absent or
  // pruned), InvalidArgument (quarantined, or fails the store's check), Corruption (damaged).
  Result<VersionRecord> RollbackSource(std::string_view key, uint64_t version) const;

  // With mu_ held by `lock`: waits until this caller (generation `me`) may act on the key alone —
  // no acquisition in flight and no live holder (handed off with `release_reason`, or fenced
  // for a steal and returned in `*victim`) — then marks the entry acquiring. Closed, Aborted,
  // Cancelled or TimedOut otherwise.
  Status Claim(std::unique_lock<std::mutex>& lock, KeyEntry& entry, uint64_t me,
               const SessionOptions& options, Clock::Duration deadline, EndReason release_reason,
               std::shared_ptr<SessionCore>* victim);
  // mu_ held: registers a caller of the key as its newest (generation in *generation).
  KeyEntry& EnterEntry(const std::string& key, uint64_t* generation);
  void Unclaim(KeyEntry& entry);                             // mu_ held
  void LeaveEntry(const std::string& key, KeyEntry& entry);  // mu_ held

  // Runs `fn` with the key claimed (no session of this engine holds it; a stuck holder is fenced
  // and passed as the victim). For admin transactions such as rollback.
  Status Exclusive(std::string_view key, EndReason release_reason,
                   const std::function<Status(const std::string& key,
                                              const std::shared_ptr<SessionCore>& victim)>& fn);

  // Constant after construction.
  const std::shared_ptr<SessionRuntime> runtime_;
  const std::string name_;
  const std::string codec_;
  const StoreSettings settings_;
  const HistoryPolicy history_;

  std::mutex mu_;
  std::condition_variable cv_;               // any entry changed
  std::map<std::string, KeyEntry> entries_;  // guarded by mu_
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_STORE_CORE_H_
