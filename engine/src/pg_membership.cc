#include "pg_membership.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace holdfast::internal {
namespace {

constexpr const char* kJoinSql =
    "INSERT INTO holdfast_engines (incarnation, owner, joined, lease_expires) "
    "VALUES ($1::bigint, $2, now(), now() + $3::bigint * interval '1 millisecond')";
// Only a lease that has not expired is extended: once expired, other engines may already have
// taken this engine's locks over, and it must never count itself alive again.
constexpr const char* kRenewSql =
    "UPDATE holdfast_engines SET lease_expires = now() + $2::bigint * interval '1 millisecond' "
    "WHERE incarnation = $1::bigint AND lease_expires > now() RETURNING 1";
constexpr const char* kLeaveSql = "DELETE FROM holdfast_engines WHERE incarnation = $1::bigint";
// Rows of engines that crashed (or lost their lease) and never left: an absent row counts as an
// expired lease, so they are only clutter; each joining engine removes those long expired.
constexpr const char* kSweepSql =
    "DELETE FROM holdfast_engines WHERE lease_expires < now() - interval '1 hour'";

int64_t NanosOf(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string PeerChannel(uint64_t incarnation) {
  return "holdfast_" + std::to_string(incarnation);
}

Status PgMembership::Join(uint64_t incarnation, const std::string& owner,
                          std::chrono::milliseconds lease, MembershipHandlers handlers) {
  if (lease.count() < 30) {
    return Status::InvalidArgument("the lease must be at least 30 ms (got " +
                                   std::to_string(lease.count()) + " ms)");
  }
  incarnation_ = incarnation;
  lease_ = lease;
  handlers_ = std::move(handlers);
  auto conn = Listen();
  if (!conn.ok()) return conn.status();
  const auto sent = SteadyClock::now();
  const std::string id = std::to_string(incarnation_);
  const std::string ms = std::to_string(lease_.count());
  if (Status s = (*conn)->Run("join", kJoinSql, {{id, false}, {owner, false}, {ms, false}});
      !s.ok()) {
    return s.WithContext("registering this engine's lease");
  }
  valid_until_ns_.store(NanosOf(sent + lease_ * 9 / 10));
  (void)(*conn)->Exec(kSweepSql);  // clutter only: a failure changes nothing
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return Status::IOError("eventfd failed for the lease thread");
  conn_ = std::move(*conn);
  joined_.store(true);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

Result<std::unique_ptr<PgConnection>> PgMembership::Listen() {
  auto conn = PgConnection::Connect(conninfo_, synchronous_commit_);
  if (!conn.ok()) return conn.status();
  if (Status s = (*conn)->Exec("LISTEN " + PeerChannel(incarnation_)); !s.ok()) return s;
  // A renewal that waits (a lock, a slow server) gives up in time for the next attempt.
  if (Status s = (*conn)->Exec("SET statement_timeout = " + std::to_string(RenewalWaitMs()));
      !s.ok()) {
    return s;
  }
  statement_timeout_ms_ = RenewalWaitMs();
  return conn;
}

int64_t PgMembership::RenewalWaitMs() const { return std::max<int64_t>(lease_.count() / 4, 10); }

Status PgMembership::Renew(PgConnection& conn, int64_t timeout_ms) {
  if (timeout_ms != statement_timeout_ms_) {
    if (Status s = conn.Exec("SET statement_timeout = " + std::to_string(timeout_ms)); !s.ok()) {
      return s;
    }
    statement_timeout_ms_ = timeout_ms;
  }
  PgResult rows;
  const std::string id = std::to_string(incarnation_);
  const std::string ms = std::to_string(lease_.count());
  if (Status s = conn.Run("renew", kRenewSql, {{id, false}, {ms, false}}, &rows); !s.ok()) {
    return s;
  }
  if (rows.Rows() == 0) {
    return Status::LockLost("this engine's lease (incarnation " + id +
                            ") had already expired when it was renewed: other engines may have "
                            "taken its locks over");
  }
  return Status::Ok();
}

void PgMembership::Lose(const Status& why) {
  if (lost_.exchange(true)) return;
  if (handlers_.on_lease_lost) handlers_.on_lease_lost(why);
}

Status PgMembership::WritesAllowed() const {
  if (!joined_.load()) return Status::Ok();
  if (lost_.load() || NanosOf(SteadyClock::now()) >= valid_until_ns_.load()) {
    return Status::LockLost("this engine's lease on the database is lost (it could not be "
                            "renewed in time); it writes nothing more: reopen the engine");
  }
  return Status::Ok();
}

void PgMembership::Run() {
  const auto period = lease_ / 3;
  // How long to wait before trying again after a failed renewal or connection.
  const auto retry = std::max<std::chrono::milliseconds>(lease_ / 10, std::chrono::milliseconds(5));
  auto next_renew = SteadyClock::now() + period;
  Status last_failure;
  std::vector<std::string> messages;
  while (!stop_.load()) {
    auto now = SteadyClock::now();
    if (now >= next_renew) {
      if (!conn_ || !conn_->Healthy()) {
        auto conn = Listen();
        if (conn.ok()) {
          conn_ = std::move(*conn);
        } else {
          conn_.reset();
          last_failure = conn.status();
        }
      }
      // A renewal waits no longer than the lease is still valid here: one that started late and
      // waited its full time told the game only after other engines could take its locks over.
      const auto sent = SteadyClock::now();
      const int64_t valid_ms = (valid_until_ns_.load() - NanosOf(sent)) / 1'000'000;
      if (conn_ && valid_ms >= 1) {
        Status renewed = Renew(*conn_, std::min(RenewalWaitMs(), valid_ms));
        if (renewed.ok()) {
          valid_until_ns_.store(NanosOf(sent + lease_ * 9 / 10));
          next_renew = sent + period;
        } else if (renewed.code() == StatusCode::kLockLost) {
          Lose(renewed);
          return;
        } else {
          last_failure = renewed;
        }
      }
      if (now >= next_renew) next_renew = SteadyClock::now() + retry;
    }
    now = SteadyClock::now();
    if (NanosOf(now) >= valid_until_ns_.load()) {
      Lose(Status::LockLost("this engine's lease could not be renewed in time: " +
                            last_failure.ToString()));
      return;
    }
    const auto valid_until = SteadyClock::time_point(std::chrono::nanoseconds(valid_until_ns_.load()));
    const auto until = std::min(next_renew, valid_until);
    const int timeout_ms = static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {conn_ ? conn_->Socket() : -1, POLLIN, 0}};
    (void)poll(fds, 2, timeout_ms);
    if (stop_.load()) return;
    if (conn_ && (fds[1].revents & (POLLIN | POLLERR | POLLHUP))) {
      messages.clear();
      Status got = conn_->TakeNotifications(&messages);
      for (const std::string& m : messages) {
        if (handlers_.on_message) handlers_.on_message(m);
      }
      if (!got.ok()) {
        last_failure = got;
        conn_.reset();
        next_renew = SteadyClock::now();  // reconnect (and renew) at once
      }
    }
  }
}

void PgMembership::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void PgMembership::Leave() {
  std::lock_guard lock(leave_mu_);
  if (left_ || !joined_.load()) return;
  left_ = true;
  stop_.store(true);
  Wake();
  if (thread_.joinable()) thread_.join();
  // Remove the registration so that what this engine still holds is an orphan at once. When the
  // database cannot be reached, the lease simply runs out.
  if (!lost_.load()) {
    if (!conn_ || !conn_->Healthy()) {
      auto conn = PgConnection::Connect(conninfo_, synchronous_commit_);
      if (conn.ok()) conn_ = std::move(*conn);
    }
    if (conn_) (void)conn_->Run("leave", kLeaveSql, {{std::to_string(incarnation_), false}});
  }
  lost_.store(true);  // writes are refused from now on
  conn_.reset();
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = -1;
}

}  // namespace holdfast::internal
