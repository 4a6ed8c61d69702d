// libpq connections for the PostgreSQL backend (postgres_storage.cc): one connection with its
// prepared statements and error mapping, and a pool of them.
//
// libpq rather than libpqxx: the backend needs SQLSTATEs to tell a serialization conflict (Busy)
// from a lost connection (IOError), binary bytea parameters and results without escaping, and
// later the connection's socket for LISTEN/NOTIFY; libpq gives all of that directly, libpqxx 6.4
// (Debian's) adds exceptions and a second dependency around the same calls.
//
// Nothing here ever prints the connection string: it may hold a password. Errors describe the
// target with DescribePostgresTarget (user, host, port, database — never the password).
#ifndef HOLDFAST_SRC_PG_CONNECTION_H_
#define HOLDFAST_SRC_PG_CONNECTION_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace holdfast::internal {

// True when `target` names a PostgreSQL database rather than a directory: a postgresql:// or
// postgres:// URI, or a libpq key=value connection string (its first word is `keyword=`).
bool IsPostgresTarget(std::string_view target);

// The target for messages: "postgresql://user@host:port/dbname" without any password. A string
// libpq cannot parse is described as such, without repeating it.
std::string DescribePostgresTarget(std::string_view conninfo);

// One query's result; owns the PGresult.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int Rows() const;
  bool IsNull(int row, int column) const;
  std::string_view Bytes(int row, int column) const;  // a binary-format column

 private:
  PGresult* r_ = nullptr;
};

// A parameter of a query; `binary` sends the bytes as they are (bytea), else as text.
struct PgParam {
  std::string_view bytes;
  bool binary = true;
  bool null = false;
};

class PgConnection {
 public:
  // Connects; IOError (naming the target, never the password) when it cannot.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo,
                                                       bool synchronous_commit);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (text, no parameters). Busy for a serialization conflict, a deadlock or a unique
  // violation (another transaction wrote first); IOError for a lost connection or any other error.
  Status Exec(std::string_view sql, PgResult* out = nullptr);
  // Runs the statement `sql`, prepared on this connection under `name` on first use; results in
  // binary format.
  Status Run(const std::string& name, const char* sql, const std::vector<PgParam>& params,
             PgResult* out = nullptr);

  // One statement of a pipeline: prepared on first use under `name`, as Run.
  struct Statement {
    const std::string* name;
    const char* sql;
    std::vector<PgParam> params;
  };
  // Sends the statements, then waits once for all their results (libpq's pipeline mode): one
  // round trip instead of one each (one per 256 statements). Results are not kept, so only for
  // statements whose answer is their status (writes, row locks) and small (it is read after
  // everything is sent). The first failure is returned, mapped as Run maps it; the server skips
  // the statements after it, and inside a transaction block leaves the transaction failed (the
  // caller rolls back). No statements: OK.
  Status RunPipelined(const std::vector<Statement>& statements);

  // False once the connection broke; the pool then drops it.
  bool Healthy() const;

  // LISTEN/NOTIFY. The socket to wait on for notifications; -1 when broken.
  int Socket() const;
  // Reads what the server sent and appends the payloads of the notifications received (on
  // channels this connection LISTENs to) to `payloads`. IOError when the connection broke.
  Status TakeNotifications(std::vector<std::string>* payloads);
  const std::string& target() const { return target_; }

 private:
  PgConnection(PGconn* conn, std::string target) : conn_(conn), target_(std::move(target)) {}
  Status Check(PGresult* result, std::string_view what, PgResult* out);
  Status Prepare(const std::string& name, const char* sql, size_t param_count);
  Status RunChunk(const std::vector<Statement>& statements, size_t from, size_t to);
  Status Lost(std::string_view what);

  PGconn* conn_;
  std::string target_;
  std::vector<std::string> prepared_;  // names, in the order prepared (few: a linear scan)
  bool broken_ = false;
};

// Connections kept for reuse. Acquire never blocks: when none is idle a new one is opened, so a
// thread that holds one and needs another cannot deadlock; at most `max_idle` are kept.
class PgPool {
 public:
  PgPool(std::string conninfo, bool synchronous_commit, size_t max_idle)
      : conninfo_(std::move(conninfo)), synchronous_commit_(synchronous_commit),
        max_idle_(max_idle) {}
  ~PgPool() { CloseIdle(); }

  Result<std::unique_ptr<PgConnection>> Acquire();
  // Keeps a healthy connection for reuse (closes it past max_idle or once the pool closed).
  void Release(std::unique_ptr<PgConnection> conn);
  // Closes the idle connections; later Releases close theirs.
  void CloseIdle();
  // Connections Acquire has opened (not counting those it reused).
  uint64_t Opened() const { return opened_.load(std::memory_order_relaxed); }

 private:
  const std::string conninfo_;
  const bool synchronous_commit_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  bool closed_ = false;
  std::atomic<uint64_t> opened_{0};
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PG_CONNECTION_H_
