#include "pg_connection.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>

namespace holdfast::internal {

bool IsPostgresTarget(std::string_view target) {
  if (target.starts_with("postgresql://") || target.starts_with("postgres://")) return true;
  // A key=value connection string: the first word is a keyword directly followed by '='.
  size_t i = 0;
  while (i < target.size() && std::isspace(static_cast<unsigned char>(target[i]))) ++i;
  const size_t word = i;
  while (i < target.size() &&
         (std::islower(static_cast<unsigned char>(target[i])) || target[i] == '_')) {
    ++i;
  }
  if (i == word) return false;
  while (i < target.size() && target[i] == ' ') ++i;
  return i < target.size() && target[i] == '=';
}

std::string DescribePostgresTarget(std::string_view conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(std::string(conninfo).c_str(), &error);
  if (options == nullptr) {
    if (error) PQfreemem(error);
    return "a PostgreSQL database (the connection string could not be parsed)";
  }
  std::string out;
  for (const char* keyword : {"dbname", "host", "hostaddr", "port", "user"}) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) != keyword || o->val == nullptr || o->val[0] == '\0') {
        continue;
      }
      if (!out.empty()) out += ' ';
      out += keyword;
      out += '=';
      out += o->val;
    }
  }
  PQconninfoFree(options);
  return out.empty() ? "PostgreSQL (libpq defaults)" : "PostgreSQL " + out;
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

int PgResult::Rows() const { return r_ ? PQntuples(r_) : 0; }

bool PgResult::IsNull(int row, int column) const { return PQgetisnull(r_, row, column) != 0; }

std::string_view PgResult::Bytes(int row, int column) const {
  return {PQgetvalue(r_, row, column), static_cast<size_t>(PQgetlength(r_, row, column))};
}

namespace {

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && std::isspace(static_cast<unsigned char>(m.back()))) m.pop_back();
  return m;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo,
                                                            bool synchronous_commit) {
  // Defaults first: values the connection string gives override them (expand_dbname).
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "holdfast", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  std::string target = DescribePostgresTarget(conninfo);
  if (conn == nullptr) return Status::IOError("cannot connect to " + target + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::IOError("cannot connect to " + target + ": " + why);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  std::unique_ptr<PgConnection> c(new PgConnection(conn, std::move(target)));
  if (!synchronous_commit) {
    if (Status s = c->Exec("SET synchronous_commit = off"); !s.ok()) return s;
  }
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::Healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

int PgConnection::Socket() const { return Healthy() ? PQsocket(conn_) : -1; }

Status PgConnection::TakeNotifications(std::vector<std::string>* payloads) {
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return Status::IOError("connection lost: " + target_ + ": " + Trimmed(PQerrorMessage(conn_)));
  }
  while (PGnotify* n = PQnotifies(conn_)) {
    payloads->emplace_back(n->extra ? n->extra : "");
    PQfreemem(n);
  }
  return Status::Ok();
}

Status PgConnection::Check(PGresult* result, std::string_view what, PgResult* out) {
  PgResult owned(result);
  const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    if (out) *out = std::move(owned);
    return Status::Ok();
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string message = Trimmed(result ? PQresultErrorMessage(result) : nullptr);
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  std::string m = target_ + ": " + std::string(what) + ": " + message;
  if (PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") ||
      sqlstate.starts_with("57P")) {
    broken_ = true;
    return Status::IOError("connection lost: " + m);
  }
  // Another transaction wrote first (or a deadlock was broken): safe to retry from the start.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "23505" || sqlstate == "55P03") {
    return Status::Busy(m);
  }
  if (sqlstate == "53100") return Status::ResourceExhausted(m);  // disk full
  return Status::IOError(m);
}

Status PgConnection::Exec(std::string_view sql, PgResult* out) {
  return Check(PQexec(conn_, std::string(sql).c_str()), sql, out);
}

namespace {

// libpq's arrays for the parameters of one statement.
struct ParamArrays {
  explicit ParamArrays(const std::vector<PgParam>& params)
      : values(params.size()), lengths(params.size()), formats(params.size()),
        text(params.size()) {
    for (size_t i = 0; i < params.size(); ++i) {
      const PgParam& p = params[i];
      formats[i] = p.binary ? 1 : 0;
      lengths[i] = static_cast<int>(p.bytes.size());
      if (p.null) {
        values[i] = nullptr;
      } else if (p.binary) {
        values[i] = p.bytes.data() ? p.bytes.data() : "";
      } else {
        text[i].assign(p.bytes);
        values[i] = text[i].c_str();
      }
    }
  }
  int count() const { return static_cast<int>(values.size()); }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  std::vector<std::string> text;  // text parameters need a terminating NUL
};

}  // namespace

Status PgConnection::Prepare(const std::string& name, const char* sql, size_t param_count) {
  if (std::find(prepared_.begin(), prepared_.end(), name) != prepared_.end()) return Status::Ok();
  Status s = Check(PQprepare(conn_, name.c_str(), sql, static_cast<int>(param_count), nullptr),
                   "prepare " + name, nullptr);
  if (s.ok()) prepared_.push_back(name);
  return s;
}

Status PgConnection::Lost(std::string_view what) {
  broken_ = true;
  return Status::IOError("connection lost: " + target_ + ": " + std::string(what) + ": " +
                         Trimmed(PQerrorMessage(conn_)));
}

Status PgConnection::Run(const std::string& name, const char* sql,
                         const std::vector<PgParam>& params, PgResult* out) {
  if (Status s = Prepare(name, sql, params.size()); !s.ok()) return s;
  ParamArrays p(params);
  return Check(PQexecPrepared(conn_, name.c_str(), p.count(), p.values.data(), p.lengths.data(),
                              p.formats.data(), /*resultFormat=*/1),
               name, out);
}

Status PgConnection::RunPipelined(const std::vector<Statement>& statements) {
  if (statements.size() == 1) {
    const Statement& only = statements.front();
    return Run(*only.name, only.sql, only.params);
  }
  for (const Statement& st : statements) {
    if (Status s = Prepare(*st.name, st.sql, st.params.size()); !s.ok()) return s;
  }
  // The server answers while this side still sends, and a blocking send waits for the server
  // to read: answers piling up unread could stop both. A chunk's answers (a few dozen bytes a
  // statement) stay far below a socket's buffer.
  constexpr size_t kChunk = 256;
  for (size_t from = 0; from < statements.size(); from += kChunk) {
    const size_t to = std::min(statements.size(), from + kChunk);
    if (Status s = RunChunk(statements, from, to); !s.ok()) return s;
  }
  return Status::Ok();
}

Status PgConnection::RunChunk(const std::vector<Statement>& statements, size_t from, size_t to) {
  if (PQenterPipelineMode(conn_) != 1) return Lost("enter pipeline mode");
  for (size_t i = from; i < to; ++i) {
    const Statement& st = statements[i];
    ParamArrays p(st.params);
    if (PQsendQueryPrepared(conn_, st.name->c_str(), p.count(), p.values.data(),
                            p.lengths.data(), p.formats.data(), /*resultFormat=*/1) != 1) {
      return Lost("send " + *st.name);
    }
  }
  if (PQpipelineSync(conn_) != 1) return Lost("pipeline sync");
  // Each statement's result is followed by a null; the sync point ends the pipeline.
  Status first;
  for (size_t i = from; i < to; ++i) {
    const std::string& name = *statements[i].name;
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) return Lost("result of " + name);
    if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
      PQclear(r);  // skipped after an earlier failure
    } else if (Status s = Check(r, name, nullptr); !s.ok() && first.ok()) {
      first = s;
    }
    if (!Healthy()) return first;
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync) PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) return first.ok() ? Lost("pipeline end") : first;
  return first;
}

Result<std::unique_ptr<PgConnection>> PgPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Closed("storage is closed");
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->Healthy()) return conn;
    }
  }
  auto conn = PgConnection::Connect(conninfo_, synchronous_commit_);
  if (conn.ok()) opened_.fetch_add(1, std::memory_order_relaxed);
  return conn;
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  if (!conn || !conn->Healthy()) return;
  std::lock_guard lock(mu_);
  if (!closed_ && idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

void PgPool::CloseIdle() {
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    closing.swap(idle_);
  }
}

}  // namespace holdfast::internal
