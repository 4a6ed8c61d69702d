// The membership of engines sharing one PostgreSQL database (storage.h, EngineMembership).
//
// Each engine has a row in holdfast_engines: its incarnation, owner and lease_expires, set by the
// database's clock (now() + lease), never by the hosts' clocks. One thread per engine, on its own
// connection, renews the lease every third of it and LISTENs on the engine's channel
// (holdfast_<incarnation>) for notifications from other engines (a release request, a released
// lock, a message).
//
// Stopping before expiry: the engine counts its lease as valid until the moment it *sent* its
// last successful renewal plus 9/10 of the lease, by its own monotonic clock. The database set the
// expiry at or after that moment, so, with clocks that run at about the same rate, the engine
// stops writing (WritesAllowed fails) before another engine can take its locks over. A renewal
// that finds the lease already expired, or that cannot reach the database in time, loses the lease
// for good: the engine ends its sessions and must be reopened (a new incarnation).
//
// Thread safety: Join and Leave from one thread (the engine's open and close); WritesAllowed from
// any thread.
#ifndef HOLDFAST_SRC_PG_MEMBERSHIP_H_
#define HOLDFAST_SRC_PG_MEMBERSHIP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "holdfast/status.h"
#include "pg_connection.h"
#include "storage.h"

namespace holdfast::internal {

// The channel an engine LISTENs on.
std::string PeerChannel(uint64_t incarnation);

class PgMembership final : public EngineMembership {
 public:
  PgMembership(std::string conninfo, bool synchronous_commit)
      : conninfo_(std::move(conninfo)), synchronous_commit_(synchronous_commit) {}
  ~PgMembership() override { Leave(); }
  PgMembership(const PgMembership&) = delete;
  PgMembership& operator=(const PgMembership&) = delete;

  Status Join(uint64_t incarnation, const std::string& owner, std::chrono::milliseconds lease,
              MembershipHandlers handlers) override;
  void Leave() override;

  // OK before Join and while the lease is valid; LockLost once it was lost or may have expired.
  Status WritesAllowed() const;

 private:
  using SteadyClock = std::chrono::steady_clock;
  // The membership thread: renewals, notifications, reconnections.
  void Run();
  // A new connection that LISTENs on this engine's channel.
  Result<std::unique_ptr<PgConnection>> Listen();
  // Extends the lease by one period; LockLost when it had already expired (or the row is gone).
  // The statement timeout of a renewal: a quarter of the lease (at least 10 ms).
  int64_t RenewalWaitMs() const;
  // Renews the lease on `conn`, waiting at most `timeout_ms` (the connection's statement
  // timeout, set again when it differs).
  Status Renew(PgConnection& conn, int64_t timeout_ms);
  void Lose(const Status& why);
  void Wake();

  const std::string conninfo_;
  const bool synchronous_commit_;
  uint64_t incarnation_ = 0;
  std::chrono::milliseconds lease_{0};
  MembershipHandlers handlers_;
  std::unique_ptr<PgConnection> conn_;  // the membership thread's, once started
  int64_t statement_timeout_ms_ = 0;    // conn_'s, as last set
  std::thread thread_;
  int wake_fd_ = -1;  // an eventfd that stops poll() for Leave
  std::atomic<bool> stop_{false};
  std::atomic<bool> joined_{false};
  std::atomic<bool> lost_{false};
  std::atomic<int64_t> valid_until_ns_{0};  // SteadyClock, since its epoch
  std::mutex leave_mu_;
  bool left_ = false;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PG_MEMBERSHIP_H_
