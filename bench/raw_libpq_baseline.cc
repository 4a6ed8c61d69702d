#include "raw_libpq_baseline.h"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>

#include "bench_util.h"

namespace holdfast::bench {
namespace {

constexpr const char* kEpoch = "1";

// Holdfast's default retention keeps the newest 50 versions (kHistoryKept).
constexpr uint64_t kKept = kHistoryKept;

// A result that is freed when it goes out of scope.
using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;
ResultPtr Wrap(PGresult* r) { return ResultPtr(r, PQclear); }

bool CommandOk(PGresult* r) {
  const ExecStatusType status = PQresultStatus(r);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

// Connects and sets the durability; nullptr (with *error) on failure.
PGconn* ConnectWith(const std::string& conninfo, bool sync, std::string* error) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("connecting: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return nullptr;
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);  // DROP ... IF EXISTS notices
  auto set =
      Wrap(PQexec(conn, sync ? "SET synchronous_commit = on" : "SET synchronous_commit = off"));
  if (!CommandOk(set.get())) {
    *error = std::string("SET synchronous_commit: ") + PQerrorMessage(conn);
    PQfinish(conn);
    return nullptr;
  }
  return conn;
}

bool Exec(PGconn* conn, const std::string& sql, std::string* error) {
  auto r = Wrap(PQexec(conn, sql.c_str()));
  if (CommandOk(r.get())) return true;
  *error = sql.substr(0, 60) + ": " + PQerrorMessage(conn);
  return false;
}

bool Prepare(PGconn* conn, const char* name, const std::string& sql, std::string* error) {
  auto r = Wrap(PQprepare(conn, name, sql.c_str(), 0, nullptr));
  if (CommandOk(r.get())) return true;
  *error = std::string("preparing ") + name + ": " + PQerrorMessage(conn);
  return false;
}

}  // namespace

RawLibpqBaseline::Connection::~Connection() { PQfinish(conn_); }

// Runs the prepared statement `what`; parameters marked by a length of -1 are text, the others
// binary (bytea). `expect_one_row`: the statement must have changed exactly one row.
bool RawLibpqBaseline::Connection::Command(const char* what, int parameters,
                                           const char* const* values, const int* lengths,
                                           bool expect_one_row) {
  int formats[8];
  for (int i = 0; i < parameters; ++i) formats[i] = lengths[i] < 0 ? 0 : 1;
  auto r = Wrap(PQexecPrepared(conn_, what, parameters, values, lengths, formats, 1));
  bool ok = CommandOk(r.get());
  if (ok && expect_one_row) ok = std::atoi(PQcmdTuples(r.get())) == 1;
  if (!ok && !reported_ && PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    reported_ = true;
    std::fprintf(stderr, "bench: raw libpq %s: %s", what, PQerrorMessage(conn_));
  }
  return ok;
}

bool RawLibpqBaseline::Connection::Save(size_t row) {
  Row& r = owner_->rows_[row];
  const uint64_t version = r.version + 1;
  StampCounter(&r.data, version);
  StampCounter(&r.meta, version);
  StampCounter(&r.history, version);
  const std::string version_text = std::to_string(version);
  auto simple = [&](const char* sql) { return CommandOk(Wrap(PQexec(conn_, sql)).get()); };
  if (!simple("BEGIN")) return false;
  const int key_length = static_cast<int>(r.key.size());
  const int data_length = static_cast<int>(r.data.size());
  bool ok;
  if (owner_->work_ == Work::kCasUpdate) {
    const char* values[] = {r.key.data(), r.data.data(), kEpoch};
    const int lengths[] = {key_length, data_length, -1};
    ok = Command("update", 3, values, lengths, /*expect_one_row=*/true);
  } else {
    const char* update[] = {r.key.data(), r.data.data(), r.meta.data(), version_text.c_str(),
                            kEpoch};
    const int update_lengths[] = {key_length, data_length, static_cast<int>(r.meta.size()), -1, -1};
    const char* append[] = {r.key.data(), version_text.c_str(), r.history.data()};
    const int append_lengths[] = {key_length, -1, static_cast<int>(r.history.size())};
    ok = Command("update", 5, update, update_lengths, /*expect_one_row=*/true) &&
         Command("append", 3, append, append_lengths, /*expect_one_row=*/true);
    if (ok && version > kKept) {
      const std::string pruned = std::to_string(version - kKept);
      const char* prune[] = {r.key.data(), pruned.c_str()};
      const int prune_lengths[] = {key_length, -1};
      ok = Command("prune", 2, prune, prune_lengths, /*expect_one_row=*/true);
    }
  }
  if (!ok) {
    (void)simple("ROLLBACK");
    return false;
  }
  if (!simple("COMMIT")) return false;
  r.version = version;
  return true;
}

std::unique_ptr<RawLibpqBaseline> RawLibpqBaseline::Create(const std::string& conninfo,
                                                           const std::string& prefix, Work work,
                                                           size_t rows, const RecordSizes& sizes,
                                                           bool sync, std::string* error) {
  std::unique_ptr<RawLibpqBaseline> baseline(new RawLibpqBaseline());
  baseline->conninfo_ = conninfo;
  baseline->prefix_ = prefix;
  baseline->work_ = work;
  baseline->sync_ = sync;
  PGconn* setup = ConnectWith(conninfo, sync, error);
  if (setup == nullptr) return nullptr;
  std::unique_ptr<PGconn, void (*)(PGconn*)> closer(setup, PQfinish);
  const std::string profiles = prefix + "_profiles";
  const std::string history = prefix + "_history";
  if (!Exec(setup, "DROP TABLE IF EXISTS " + profiles + ", " + history, error) ||
      !Exec(setup,
            "CREATE TABLE " + profiles +
                " (k bytea PRIMARY KEY, epoch bigint NOT NULL, version bigint NOT NULL, "
                "data bytea NOT NULL, meta bytea NOT NULL)",
            error) ||
      !Exec(setup,
            "CREATE TABLE " + history +
                " (k bytea NOT NULL, version bigint NOT NULL, v bytea NOT NULL, "
                "PRIMARY KEY (k, version))",
            error) ||
      !Prepare(setup, "insert", "INSERT INTO " + profiles + " VALUES ($1, $2::bigint, 0, $3, $4)",
               error)) {
    return nullptr;
  }
  for (size_t i = 0; i < rows; ++i) {
    Row r{ProfileKey(i), 0, {}, {}, {}};
    FillRandomBytes(&r.data, sizes.data, 5 * i + 1);
    FillRandomBytes(&r.meta, sizes.meta, 5 * i + 2);
    FillRandomBytes(&r.history, sizes.history, 5 * i + 3);
    const char* values[] = {r.key.data(), kEpoch, r.data.data(), r.meta.data()};
    const int lengths[] = {static_cast<int>(r.key.size()), 0, static_cast<int>(r.data.size()),
                           static_cast<int>(r.meta.size())};
    const int formats[] = {1, 0, 1, 1};
    auto inserted = Wrap(PQexecPrepared(setup, "insert", 4, values, lengths, formats, 1));
    if (!CommandOk(inserted.get())) {
      *error = std::string("inserting a row: ") + PQerrorMessage(setup);
      return nullptr;
    }
    baseline->rows_.push_back(std::move(r));
  }
  return baseline;
}

std::unique_ptr<RawLibpqBaseline::Connection> RawLibpqBaseline::Connect(std::string* error) {
  std::unique_ptr<Connection> c(new Connection());
  c->owner_ = this;
  c->conn_ = ConnectWith(conninfo_, sync_, error);
  if (c->conn_ == nullptr) return nullptr;
  const std::string profiles = prefix_ + "_profiles";
  const std::string history = prefix_ + "_history";
  const bool prepared =
      work_ == Work::kCasUpdate
          ? Prepare(c->conn_, "update",
                    "UPDATE " + profiles + " SET data = $2 WHERE k = $1 AND epoch = $3::bigint",
                    error)
          : Prepare(c->conn_, "update",
                    "UPDATE " + profiles +
                        " SET data = $2, meta = $3, version = $4::bigint "
                        "WHERE k = $1 AND epoch = $5::bigint",
                    error) &&
                Prepare(c->conn_, "append",
                        "INSERT INTO " + history + " (k, version, v) VALUES ($1, $2::bigint, $3)",
                        error) &&
                Prepare(c->conn_, "prune",
                        "DELETE FROM " + history + " WHERE k = $1 AND version = $2::bigint", error);
  if (!prepared) return nullptr;
  return c;
}

std::string QueryOneValue(const std::string& conninfo, const std::string& sql, std::string* error) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::unique_ptr<PGconn, void (*)(PGconn*)> closer(conn, PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("connecting: ") + PQerrorMessage(conn);
    return "";
  }
  auto r = Wrap(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1) {
    *error = sql + ": " + PQerrorMessage(conn);
    return "";
  }
  return PQgetvalue(r.get(), 0, 0);
}

std::unique_ptr<PgWriteCounter> PgWriteCounter::Connect(const std::string& conninfo,
                                                        std::string* error) {
  std::unique_ptr<PgWriteCounter> counter(new PgWriteCounter());
  counter->conn_ = ConnectWith(conninfo, /*sync=*/true, error);
  if (counter->conn_ == nullptr) return nullptr;
  return counter;
}

PgWriteCounter::~PgWriteCounter() { PQfinish(conn_); }

std::optional<uint64_t> PgWriteCounter::Mark() {
  auto r = Wrap(PQexec(conn_, "SELECT pg_current_xact_id()::text"));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1) return std::nullopt;
  return std::strtoull(PQgetvalue(r.get(), 0, 0), nullptr, 10);
}

std::string LibpqVersion() {
  const int version = PQlibVersion();  // major * 10000 + minor since PostgreSQL 10
  return std::to_string(version / 10000) + "." + std::to_string(version % 10000);
}

}  // namespace holdfast::bench
