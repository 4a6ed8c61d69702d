// EngineCore: the state behind a public Engine — the storage, the clock, the incarnation and the
// store registry. Sessions, stores and the admin surface are built on it.
//
// Thread safety: all methods are thread-safe.
// Members: constant after construction, or guarded by mu_.
#ifndef HOLDFAST_SRC_ENGINE_CORE_H_
#define HOLDFAST_SRC_ENGINE_CORE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/engine.h"
#include "holdfast/options.h"
#include "holdfast/session.h"
#include "holdfast/store.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

class SessionRuntime;
class StoreCore;

class EngineCore {
 public:
  // Opens the storage and claims a new incarnation (see Engine::Open for the statuses).
  static Result<std::unique_ptr<EngineCore>> Open(const std::string& path, EngineOptions options);
  ~EngineCore();

  Storage& storage() { return *storage_; }
  const EngineOptions& options() const { return options_; }
  Clock& clock() const { return *clock_; }
  uint64_t incarnation() const { return incarnation_; }
  const std::string& path() const { return path_; }

  // Registers `name` with `codec` in the manifest, or checks that an existing registration uses
  // the same codec. InvalidArgument for a bad name or a codec mismatch; Closed after Close().
  Status RegisterStore(std::string_view name, std::string_view codec, std::string_view schema);
  // The registered stores, by name.
  std::vector<StoreEntry> Stores() const;

  // The session machinery (stores, sessions, auto-saver, stats).
  SessionRuntime& runtime() { return *runtime_; }
  // Registers the store in the manifest and returns its in-memory core.
  Result<std::shared_ptr<StoreCore>> OpenStore(std::string_view name, std::string_view codec,
                                               const StoreSettings& settings,
                                               PayloadValidator check);

  // Ends every session (final saves), then closes the storage. Idempotent.
  Status Close();
  bool IsClosing() const { return closing_.load(); }
  EngineInfo Info() const;

 private:
  EngineCore(std::string path, EngineOptions options, std::shared_ptr<Clock> clock,
             std::unique_ptr<Storage> storage, Manifest manifest);

  // Constant after construction.
  const std::string path_;
  const EngineOptions options_;
  const std::shared_ptr<Clock> clock_;
  const std::unique_ptr<Storage> storage_;
  const uint64_t incarnation_;
  const std::shared_ptr<SessionRuntime> runtime_;

  std::atomic<bool> closing_{false};

  mutable std::mutex mu_;
  Manifest manifest_;                   // guarded by mu_
  std::optional<Status> close_status_;  // guarded by mu_
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ENGINE_CORE_H_
