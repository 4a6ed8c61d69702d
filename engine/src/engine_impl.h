// Engine::Impl: the facade behind a public Engine. It opens the storage and claims an
// incarnation, owns the storage, the engine context (shared services) and the store registry,
// and runs Close: it refuses new operations, ends every live session with a final save, stops
// the auto-saver and the workers, and closes the storage.
//
// Thread safety: thread-safe. close_mu_ guards only the close state and is never held while
// sessions save or the storage closes.
#ifndef HOLDFAST_SRC_ENGINE_IMPL_H_
#define HOLDFAST_SRC_ENGINE_IMPL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "admin_socket.h"
#include "engine_context.h"
#include "holdfast/engine.h"
#include "mutex.h"
#include "records.h"
#include "rocksdb_storage.h"
#include "storage.h"
#include "store_registry.h"

namespace holdfast {

class Engine::Impl {
 public:
  // Opens the storage and claims a new incarnation (see Engine::Open for the statuses).
  static Result<std::unique_ptr<Impl>> Open(const std::string& path, EngineOptions options);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Result<RawStore> OpenStore(std::string_view name, std::string_view codec,
                             const StoreSettings& settings, std::string template_payload,
                             PayloadValidator check, std::string_view schema);

  // Starts the admin socket (EngineOptions::admin_socket) serving `engine`, this Impl's handle,
  // through Admin. No-op when it is off or the database is in a memory volume. Called once, by
  // Engine::Open; IOError when the socket cannot be created.
  Status StartAdminSocket(Engine& engine);

  // See Engine::Close. Concurrent callers wait for the first one's result. The admin socket
  // stops first (a request in progress finishes), then the sessions end.
  Status Close();
  bool IsClosing() const { return context_->gate().closing(); }
  EngineInfo Info() const;
  EngineStats Stats() const;
  Result<StoreRegistration> Registration(std::string_view name) const;

  internal::Storage& storage() { return *storage_; }
  internal::EngineContext& context() { return *context_; }
  internal::StoreRegistry& stores() { return stores_; }

 private:
  Impl(std::string path, std::unique_ptr<internal::Storage> storage,
       std::shared_ptr<internal::EngineContext> context, internal::Manifest manifest);
  // Open with EngineOptions::read_only: a secondary instance, the manifest read, nothing written.
  static Result<std::unique_ptr<Impl>> OpenReadOnly(
      const std::string& path, const internal::RocksStorageOptions& storage_options,
      EngineOptions options, std::shared_ptr<Clock> clock);
  // Engine::Open of a PostgreSQL connection string (postgres_storage.h).
  static Result<std::unique_ptr<Impl>> OpenPostgres(const std::string& conninfo,
                                                    EngineOptions options,
                                                    std::shared_ptr<Clock> clock);
  // On open storage: claims the next incarnation (checking the format in the same transaction)
  // and builds the engine. `path` names the database in messages. Closes the storage on failure.
  static Result<std::unique_ptr<Impl>> Claim(const std::string& path,
                                             std::unique_ptr<internal::Storage> storage,
                                             EngineOptions options, std::shared_ptr<Clock> clock);
  // On read-only storage: reads the manifest and follows the holder's incarnation.
  static Result<std::unique_ptr<Impl>> Follow(const std::string& path,
                                              std::unique_ptr<internal::Storage> storage,
                                              EngineOptions options, std::shared_ptr<Clock> clock);
  // On a database shared by many engines (Storage::Membership): registers this engine's lease
  // and starts listening for other engines' notifications. No-op otherwise.
  Status JoinMembership();
  // The membership's handlers, on its thread.
  void OnPeerMessage(std::string_view text);
  void OnLeaseLost(const Status& why);
  // Closes the engine to new operations and ends every live session with a final save (in
  // parallel on the workers, so they share WAL syncs). Returns the first failure.
  Status EndAllSessions();

  const std::string path_;
  const std::unique_ptr<internal::Storage> storage_;
  const std::shared_ptr<internal::EngineContext> context_;
  internal::StoreRegistry stores_;
  // Set once by StartAdminSocket, before the engine is handed out; stopped by Close.
  std::unique_ptr<internal::AdminSocketServer> admin_socket_;

  internal::Mutex close_mu_{internal::LockLevel::kLeaf};
  std::condition_variable closed_;
  bool close_started_ GUARDED_BY(close_mu_) = false;
  std::optional<Status> close_status_ GUARDED_BY(close_mu_);
};

}  // namespace holdfast

#endif  // HOLDFAST_SRC_ENGINE_IMPL_H_
