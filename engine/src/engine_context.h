// EngineContext: what every part of an open engine shares — the storage, the options, the clock,
// the incarnation, and the engine-wide services (statistics, critical state, the gate that closes
// the engine to new operations, the worker pool, the auto-save scheduler, session ids). It owns
// the services but knows nothing of stores or sessions, so it is the bottom of every arrow: store
// and session objects hold it (by shared_ptr, so handles that outlive the Engine still find it;
// after Close its gate refuses everything and sessions are all ended, so storage is never
// touched again).
//
// Thread safety: constant after construction; each service is thread-safe on its own.
#ifndef HOLDFAST_SRC_ENGINE_CONTEXT_H_
#define HOLDFAST_SRC_ENGINE_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "autosave_scheduler.h"
#include "critical_state.h"
#include "engine_counters.h"
#include "executor.h"
#include "holdfast/options.h"
#include "operation_gate.h"
#include "profile_transactions.h"
#include "storage.h"

namespace holdfast::internal {

class EngineContext {
 public:
  EngineContext(Storage* storage, EngineOptions options, std::shared_ptr<Clock> clock,
                uint64_t incarnation);
  ~EngineContext();
  EngineContext(const EngineContext&) = delete;
  EngineContext& operator=(const EngineContext&) = delete;

  Storage& storage() const { return *storage_; }
  const EngineOptions& options() const { return options_; }
  Clock& clock() const { return *clock_; }
  uint64_t incarnation() const { return incarnation_; }

  EngineCounters& counters() { return counters_; }
  CriticalState& critical_state() { return critical_state_; }
  OperationGate& gate() { return gate_; }
  Executor& workers() { return workers_; }
  AutosaveScheduler& autosaves() { return autosaves_; }

  // A context for one profile transaction, stamped with the current wall time.
  TransactionContext Transaction();
  uint64_t NextSessionId() { return next_session_id_.fetch_add(1) + 1; }
  // Tells the game (EngineOptions::on_orphan_takeover, or stderr) that a lock left by a crashed
  // engine was taken over.
  void ReportOrphan(const OrphanTakeover& orphan);
  // Tells the game (EngineOptions::on_error) that an operation failed.
  void ReportError(const ErrorEvent& event);
  // Counts and reports an exception that game code threw while the engine ran `doing` (e.g.
  // "OnSave"); `outcome` says what became of the operation. Call from inside a catch block.
  void ReportException(std::string_view store, std::string_view key, std::string_view doing,
                       Status outcome);

 private:
  Storage* const storage_;  // owned by the engine facade; closed after every session ended
  const EngineOptions options_;
  const std::shared_ptr<Clock> clock_;
  const uint64_t incarnation_;
  std::atomic<uint64_t> next_session_id_{0};

  // Declared in dependency order: the scheduler hands work to the workers.
  EngineCounters counters_;
  CriticalState critical_state_;
  OperationGate gate_;
  Executor workers_;
  AutosaveScheduler autosaves_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ENGINE_CONTEXT_H_
