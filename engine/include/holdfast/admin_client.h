// AdminClient: the admin API (AdminService, holdfast/admin.h) of an engine running in another
// process, through that engine's admin socket (EngineOptions::admin_socket). The `holdfast` CLI
// uses it for a database a running server holds; a tool of your own may too. Each call is one
// request and its answer, run on the server as the same Admin call, so writes go through the
// session lock there.
//
// Besides Admin's statuses, every call may return:
//   IOError          the connection failed or the server closed it before answering (the
//                    request may or may not have run: check before repeating a write);
//   TimedOut         no answer within AdminClientOptions::timeout (same caveat);
//   InvalidArgument  the server refused this peer (only its own user and root are served) or
//                    the request (too large, or a frame it could not read), or its answer was
//                    not a valid frame;
//   ResourceExhausted the answer would be larger than the server's frame limit (ask for less),
//                    or the server serves its maximum of connections.
//
// Thread safety: one call at a time (a client is one connection); use one client per thread.
#ifndef HOLDFAST_ADMIN_CLIENT_H_
#define HOLDFAST_ADMIN_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "holdfast/admin.h"
#include "holdfast/status.h"

namespace holdfast {

struct AdminClientOptions {
  // How long one call may take, its answer included. Default 10 minutes: a verify or compact of
  // a large database takes a while.
  std::chrono::milliseconds timeout{600'000};
  // Largest answer accepted. Default 256 MiB, above any server's frame limit.
  size_t max_frame_bytes = size_t{256} << 20;
};

class AdminClient final : public AdminService {
 public:
  // Connects to the admin socket of the engine that holds the database at `db_path`
  // (`<db_path>/holdfast.sock`).
  //   NotFound  nothing answers there: no socket (no engine holds the database, or it runs
  //             without the socket), or one left by a process that is gone; or `db_path` is
  //             a PostgreSQL connection string (engines sharing a database serve no socket);
  //   IOError   the socket cannot be reached (e.g. permission denied).
  static Result<std::unique_ptr<AdminClient>> Connect(const std::string& db_path,
                                                      AdminClientOptions options = {});
  ~AdminClient() override;
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  Result<EngineInfo> Info() override;
  Result<StoreRegistration> Registration(std::string_view store) override;
  // The server's Engine::Stats (InvalidArgument from a server of a build without them).
  Result<EngineStats> Stats() override;
  Result<std::vector<StoreSummary>> Stores() override;
  Result<ProfileList> Profiles(std::string_view store, const ProfileQuery& query = {}) override;
  Result<std::vector<HeldLock>> Locks(std::string_view store = {}) override;
  Result<ProfileDetails> Inspect(std::string_view store, std::string_view key,
                                 std::optional<uint64_t> version = std::nullopt) override;
  Result<std::vector<VersionInfo>> Versions(std::string_view store, std::string_view key,
                                            const VersionQuery& query = {}) override;
  Result<std::vector<ProfileLocation>> FindByUserId(int64_t user_id) override;
  Result<VerifyReport> Verify(std::string_view store = {}) override;
  // `dir` is written by the server's process: give an absolute path it can write.
  Status Checkpoint(const std::string& dir) override;
  Status Compact() override;
  Result<uint64_t> Rollback(std::string_view store, std::string_view key,
                            uint64_t version) override;
  Result<uint64_t> RollbackTo(std::string_view store, std::string_view key,
                              int64_t unix_ms) override;
  Result<uint64_t> Edit(std::string_view store, std::string_view key,
                        std::string_view payload) override;
  Result<ReleaseOutcome> Release(std::string_view store, std::string_view key) override;
  Status Message(std::string_view store, std::string_view key, std::string_view payload) override;
  Status Erase(std::string_view store, std::string_view key) override;
  Result<std::vector<ProfileLocation>> EraseUser(int64_t user_id) override;

  class Impl;  // the connection, defined inside the engine

 private:
  explicit AdminClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace holdfast

#endif  // HOLDFAST_ADMIN_CLIENT_H_
