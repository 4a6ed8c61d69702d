#include "postgres_storage.h"

#include <array>
#include <charconv>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "pg_connection.h"
#include "pg_membership.h"
#include "rocksdb_storage.h"

namespace holdfast::internal {
namespace {

// Serializes schema creation between engines opening a fresh database at once. An arbitrary
// constant.
constexpr const char* kSchemaLockSql = "SELECT pg_advisory_xact_lock(7523094288207667809)";
// Another engine's lease, by the database's clock: milliseconds left (negative: expired).
constexpr const char* kLeaseSql =
    "SELECT (extract(epoch FROM lease_expires - now()) * 1000)::bigint::text "
    "FROM holdfast_engines WHERE incarnation = $1::bigint";
constexpr const char* kNotifySql = "SELECT pg_notify($1, $2)";

// Rows fetched per round trip of a scan.
constexpr const char* kScanPage = "256";
constexpr int kScanPageRows = 256;

std::string TableName(Family f) { return "holdfast_" + std::string(FamilyName(f)); }

// The statements of one family, built once.
struct FamilySql {
  std::string get, lock, put, erase, scan_forward, scan_reverse;
  std::string get_name, lock_name, put_name, erase_name, forward_name, reverse_name;
};

const FamilySql& SqlFor(Family f) {
  static const std::array<FamilySql, kFamilyCount> all = [] {
    std::array<FamilySql, kFamilyCount> out;
    for (int i = 0; i < kFamilyCount; ++i) {
      const std::string t = TableName(static_cast<Family>(i));
      const std::string n(FamilyName(static_cast<Family>(i)));
      FamilySql& s = out[i];
      s.get = "SELECT v FROM " + t + " WHERE k = $1";
      // Locks the row (when there is one) and answers one byte: its result fits any pipeline.
      s.lock = "SELECT 1 FROM " + t + " WHERE k = $1 FOR UPDATE";
      s.put = "INSERT INTO " + t + " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v";
      s.erase = "DELETE FROM " + t + " WHERE k = $1";
      const std::string range =
          "SELECT k, v FROM " + t + " WHERE k >= $1 AND ($2::bytea IS NULL OR k < $2::bytea)";
      s.scan_forward = range + " ORDER BY k LIMIT $3";
      s.scan_reverse = range + " ORDER BY k DESC LIMIT $3";
      s.get_name = "get_" + n;
      s.lock_name = "lock_" + n;
      s.put_name = "put_" + n;
      s.erase_name = "erase_" + n;
      s.forward_name = "scan_forward_" + n;
      s.reverse_name = "scan_reverse_" + n;
    }
    return out;
  }();
  return all[static_cast<int>(f)];
}

Status GetOn(PgConnection& conn, Family f, std::string_view key, std::string* value) {
  const FamilySql& sql = SqlFor(f);
  PgResult rows;
  Status s = conn.Run(sql.get_name, sql.get.c_str(), {{key}}, &rows);
  if (!s.ok()) return s;
  if (rows.Rows() == 0) return Status::NotFound("no such key");
  if (value) value->assign(rows.Bytes(0, 0));
  return Status::Ok();
}

// The lease of the engine of `incarnation`, read on `conn` (in its transaction, if one is open).
// No row: not alive. Garbage in the answer is an IOError, never a crash.
Status LeaseOn(PgConnection& conn, uint64_t incarnation, PeerLease* lease) {
  *lease = PeerLease{};
  PgResult rows;
  Status s = conn.Run("lease", kLeaseSql, {{std::to_string(incarnation), false}}, &rows);
  if (!s.ok() || rows.Rows() != 1 || rows.IsNull(0, 0)) return s;
  const std::string_view text = rows.Bytes(0, 0);
  int64_t remaining = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), remaining);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Status::IOError(conn.target() + ": an engine's lease reads as '" + std::string(text) +
                           "', not a number of milliseconds");
  }
  lease->remaining_ms = remaining;
  lease->alive = remaining > 0;
  return Status::Ok();
}

// Visits the range in pages of kScanPageRows: each page is read whole before the visitor sees
// it, so the visitor may use the same connection. Within a transaction the pages see its writes.
Status ScanOn(PgConnection& conn, Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) {
  const FamilySql& sql = SqlFor(f);
  std::string lower = range.lower;
  std::string upper = range.upper;
  bool bounded = !upper.empty();
  while (true) {
    PgResult rows;
    const std::vector<PgParam> params = {
        {lower}, {upper, true, !bounded}, {kScanPage, /*binary=*/false}};
    Status s = order == ScanOrder::kForward
                   ? conn.Run(sql.forward_name, sql.scan_forward.c_str(), params, &rows)
                   : conn.Run(sql.reverse_name, sql.scan_reverse.c_str(), params, &rows);
    if (!s.ok()) return s;
    const int n = rows.Rows();
    for (int i = 0; i < n; ++i) {
      if (!visit(rows.Bytes(i, 0), rows.Bytes(i, 1))) return Status::Ok();
    }
    if (n < kScanPageRows) return Status::Ok();
    if (order == ScanOrder::kForward) {
      // The smallest key after the last one seen.
      lower.assign(rows.Bytes(n - 1, 0));
      lower.push_back('\0');
    } else {
      upper.assign(rows.Bytes(n - 1, 0));
      bounded = true;
    }
  }
}

Status ReadOnlyRefusal(const char* what) {
  return Status::InvalidArgument(std::string(what) + ": the database was opened read-only");
}

class PostgresStorage;

// Writes of one family made by a transaction and not yet sent: key -> value (nullopt: deleted).
using PendingWrites = std::map<std::string, std::optional<std::string>, std::less<>>;

// A transaction with RocksDB's optimistic behaviour on PostgreSQL: reads run at once in a
// REPEATABLE READ snapshot; writes are kept here and sent at Commit, so a transaction holds no
// row lock until it commits (a transaction parked before its commit blocks nobody). At Commit the
// keys read with GetForUpdate are locked first: a key another transaction changed since this
// one's snapshot fails with a serialization error (Busy), as RocksDB's conflict check does; a
// key absent then and inserted since fails the insert (a serialization error or a unique
// violation, Busy). Exactly the keys read for update are checked, as on RocksDB: SERIALIZABLE
// would add predicate-lock conflicts between saves of different profiles (measured: 18% of saves
// retried at 16 threads, each thread saving its own profile).
class PgTransaction final : public StorageTransaction {
 public:
  PgTransaction(PostgresStorage* storage, std::unique_ptr<PgConnection> conn)
      : storage_(storage), conn_(std::move(conn)) {}
  ~PgTransaction() override;

  Status Get(Family f, std::string_view key, std::string* value) override {
    if (!failed_.ok()) return failed_;
    if (const auto* pending = Pending(f, key)) {
      if (!*pending) return Status::NotFound("deleted in this transaction");
      if (value) *value = **pending;
      return Status::Ok();
    }
    return Step(GetOn(*conn_, f, key, value));
  }
  Status GetForUpdate(Family f, std::string_view key, std::string* value) override {
    if (!failed_.ok()) return failed_;
    read_for_update_[static_cast<int>(f)].emplace(key);
    return Get(f, key, value);
  }
  Status Put(Family f, std::string_view key, std::string_view value) override {
    if (!failed_.ok()) return failed_;
    writes_[static_cast<int>(f)].insert_or_assign(std::string(key), std::string(value));
    return Status::Ok();
  }
  Status Delete(Family f, std::string_view key) override {
    if (!failed_.ok()) return failed_;
    writes_[static_cast<int>(f)].insert_or_assign(std::string(key), std::nullopt);
    return Status::Ok();
  }
  Status Scan(Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) override;
  Status Commit() override;

  Result<PeerLease> Lease(uint64_t incarnation) override {
    if (!failed_.ok()) return failed_;
    PeerLease lease;
    if (Status s = Step(LeaseOn(*conn_, incarnation, &lease)); !s.ok()) return s;
    return lease;
  }
  void Notify(uint64_t incarnation, std::string_view message) override {
    notifications_.emplace_back(PeerChannel(incarnation), std::string(message));
  }

 private:
  const std::optional<std::string>* Pending(Family f, std::string_view key) const {
    const PendingWrites& w = writes_[static_cast<int>(f)];
    auto it = w.find(key);
    return it == w.end() ? nullptr : &it->second;
  }
  // PostgreSQL aborts a transaction at its first error: remember it, so every later call (and
  // the commit) fails with it too. NotFound is an answer, not an error. A connection lost before
  // COMMIT was sent wrote nothing: Busy, so RunTransaction starts over on a new connection (a
  // bounded number of times; with the server down, Begin then fails with IOError).
  Status Step(Status s) {
    if (s.code() == StatusCode::kIOError && !conn_->Healthy()) {
      s = Status::Busy("the connection was lost before the commit was sent; nothing was "
                       "written: " + s.message());
    }
    if (!s.ok() && s.code() != StatusCode::kNotFound) failed_ = s;
    return s;
  }

  PostgresStorage* storage_;
  std::unique_ptr<PgConnection> conn_;
  std::array<PendingWrites, kFamilyCount> writes_;
  std::array<std::set<std::string, std::less<>>, kFamilyCount> read_for_update_;
  std::vector<std::pair<std::string, std::string>> notifications_;  // channel, payload
  Status failed_;
  bool finished_ = false;
};

Status PgTransaction::Scan(Family f, const ScanRange& range, ScanOrder order,
                           const ScanVisitor& visit) {
  if (!failed_.ok()) return failed_;
  const PendingWrites& w = writes_[static_cast<int>(f)];
  auto first = w.lower_bound(range.lower);
  auto last = range.upper.empty() ? w.end() : w.lower_bound(range.upper);
  if (first == last) return Step(ScanOn(*conn_, f, range, order, visit));
  // Merge the stored keys with this transaction's pending writes of the range, in order.
  const bool forward = order == ScanOrder::kForward;
  auto next = forward ? first : last;  // reverse: the element before `next` is the next one
  auto has_pending = [&] { return forward ? next != last : next != first; };
  auto pending = [&]() -> PendingWrites::const_iterator { return forward ? next : std::prev(next); };
  auto advance = [&] { forward ? ++next : --next; };
  auto before = [&](std::string_view a, std::string_view b) { return forward ? a < b : a > b; };
  bool stopped = false;
  // Emits pending writes that come before `key` (all of them when key is null).
  auto emit_pending_until = [&](const std::string_view* key) {
    while (!stopped && has_pending() && (key == nullptr || before(pending()->first, *key))) {
      auto it = pending();
      advance();
      if (it->second && !visit(it->first, *it->second)) stopped = true;
    }
  };
  Status s = ScanOn(*conn_, f, range, order, [&](std::string_view key, std::string_view value) {
    emit_pending_until(&key);
    if (stopped) return false;
    if (has_pending() && pending()->first == key) {
      auto it = pending();
      advance();
      if (it->second && !visit(key, *it->second)) stopped = true;
      return !stopped;
    }
    if (!visit(key, value)) stopped = true;
    return !stopped;
  });
  if (!s.ok()) return Step(s);
  emit_pending_until(nullptr);
  return Status::Ok();
}

Status PgTransaction::Commit() {
  if (!failed_.ok()) return failed_;
  finished_ = true;
  Status s;
  // The locks of the keys read for update first, then the writes, then the notifications (sent
  // by the server when, and only if, the transaction commits): one pipeline, so one round trip,
  // that stops at the first failure. COMMIT goes on its own after them: a connection lost before
  // it was sent wrote nothing (Busy, retried, as for every step before).
  {
    static const std::string kNotifyName = "notify";
    std::vector<PgConnection::Statement> statements;
    for (int i = 0; i < kFamilyCount; ++i) {
      const FamilySql& sql = SqlFor(static_cast<Family>(i));
      for (const std::string& key : read_for_update_[i]) {
        statements.push_back({&sql.lock_name, sql.lock.c_str(), {{key}}});
      }
    }
    for (int i = 0; i < kFamilyCount; ++i) {
      const FamilySql& sql = SqlFor(static_cast<Family>(i));
      for (const auto& [key, value] : writes_[i]) {
        if (value) {
          statements.push_back({&sql.put_name, sql.put.c_str(), {{key}, {*value}}});
        } else {
          statements.push_back({&sql.erase_name, sql.erase.c_str(), {{key}}});
        }
      }
    }
    for (const auto& [channel, payload] : notifications_) {
      statements.push_back({&kNotifyName, kNotifySql, {{channel, false}, {payload, false}}});
    }
    s = Step(conn_->RunPipelined(statements));
  }
  // COMMIT can itself fail with a conflict (Busy). A connection
  // lost during COMMIT leaves the outcome unknown: IOError, never retried.
  if (s.ok()) return conn_->Exec("COMMIT");
  if (conn_->Healthy()) (void)conn_->Exec("ROLLBACK");
  return s;
}

class PostgresStorage final : public Storage {
 public:
  explicit PostgresStorage(const PostgresStorageOptions& options)
      : options_(options),
        pool_(options.conninfo, options.sync, options.max_idle_connections) {
    if (!options.read_only) membership_ = std::make_unique<PgMembership>(options.conninfo, options.sync);
  }
  ~PostgresStorage() override { (void)Close(); }

  // Connects, checks (and, when allowed, creates) the schema.
  Status Open() {
    auto conn = pool_.Acquire();
    if (!conn.ok()) return conn.status();
    Status s = PrepareSchema(**conn);
    pool_.Release(std::move(*conn));
    return s;
  }

  Result<std::unique_ptr<StorageTransaction>> Begin() override {
    if (options_.read_only) return ReadOnlyRefusal("a transaction");
    // An engine whose lease is lost (or may have run out) writes nothing more.
    if (Status allowed = membership_->WritesAllowed(); !allowed.ok()) return allowed;
    Status begun;
    auto conn = WithConnection([&](PgConnection& c) {
      return begun = c.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
    }, /*keep=*/true);
    if (!conn.ok()) return conn.status();
    return std::unique_ptr<StorageTransaction>(new PgTransaction(this, std::move(*conn)));
  }

  Status Get(Family f, std::string_view key, std::string* value) override {
    Status found;
    auto conn = WithConnection([&](PgConnection& c) {
      found = GetOn(c, f, key, value);
      return found.code() == StatusCode::kNotFound ? Status::Ok() : found;
    });
    return conn.ok() ? found : conn.status();
  }

  // One snapshot for the whole scan, as a RocksDB iterator has, though it is read in pages.
  Status Scan(Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) override {
    // Only the BEGIN is retried on a new connection: the visitor may have seen rows by the
    // time a later page fails.
    auto conn = WithConnection([&](PgConnection& c) {
      return c.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    }, /*keep=*/true);
    if (!conn.ok()) return conn.status();
    Status s = ScanOn(**conn, f, range, order, visit);
    Status end = (*conn)->Exec(s.ok() ? "COMMIT" : "ROLLBACK");
    if (s.ok()) s = end;
    pool_.Release(std::move(*conn));
    return s;
  }

  Status Close() override {
    std::lock_guard lock(close_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    if (membership_) membership_->Leave();
    pool_.CloseIdle();
    return Status::Ok();
  }

  uint64_t Reopens() const override { return 0; }
  uint64_t ConnectionsOpened() const override { return pool_.Opened(); }

  // Deleted rows leave the table's pages when VACUUM reclaims them; the server's write-ahead
  // log, replicas and backups keep them until they are recycled (docs/scale-out.md).
  Status CompactRange(Family f, const ScanRange& /*range*/) override {
    if (options_.read_only) return ReadOnlyRefusal("compaction");
    auto conn = pool_.Acquire();
    if (!conn.ok()) return conn.status();
    Status s = (*conn)->Exec("VACUUM " + TableName(f));
    pool_.Release(std::move(*conn));
    return s;
  }

  // A consistent copy of every family, read in one snapshot, written as an embedded (RocksDB)
  // database in `dir`: it opens with Engine::Open(dir) and the CLI like any other.
  Status Checkpoint(const std::string& dir) override;

  // PostgreSQL checks its own pages (data checksums, when the cluster has them); what can be
  // checked from here is that the tables answer.
  Status VerifyFiles() override {
    auto conn = pool_.Acquire();
    if (!conn.ok()) return conn.status();
    Status s;
    for (int i = 0; i < kFamilyCount && s.ok(); ++i) {
      s = (*conn)->Exec("SELECT 1 FROM " + TableName(static_cast<Family>(i)) + " LIMIT 1");
    }
    pool_.Release(std::move(*conn));
    return s;
  }

  EngineMembership* Membership() override { return membership_.get(); }
  bool Shared() const override { return true; }
  Result<PeerLease> Lease(uint64_t incarnation) override {
    PeerLease lease;
    auto conn = WithConnection([&](PgConnection& c) { return LeaseOn(c, incarnation, &lease); });
    if (!conn.ok()) return conn.status();
    return lease;
  }

  // Runs `step` on a pooled connection. A pooled connection can have died while idle (the server
  // restarted, an administrator or a proxy ended it) without libpq knowing until it is used: when
  // `step` fails because the connection broke, it runs once more on a new one. With `keep` the
  // connection is returned (for a transaction to go on); otherwise it goes back to the pool.
  template <typename Step>
  Result<std::unique_ptr<PgConnection>> WithConnection(Step step, bool keep = false) {
    Status s;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto conn = pool_.Acquire();
      if (!conn.ok()) return conn.status();
      s = step(**conn);
      if (s.ok()) {
        if (keep) return std::move(*conn);
        pool_.Release(std::move(*conn));
        return std::unique_ptr<PgConnection>();
      }
      if ((*conn)->Healthy()) break;  // a real error, not a dead connection
    }
    return s;
  }

  PgPool& pool() { return pool_; }

 private:
  Status PrepareSchema(PgConnection& conn);

  const PostgresStorageOptions options_;
  PgPool pool_;
  std::unique_ptr<PgMembership> membership_;  // null when read-only
  std::mutex close_mu_;
  bool closed_ = false;
};

PgTransaction::~PgTransaction() {
  if (!finished_ && conn_->Healthy()) (void)conn_->Exec("ROLLBACK");
  storage_->pool().Release(std::move(conn_));
}

Status PostgresStorage::PrepareSchema(PgConnection& conn) {
  const std::string target = conn.target();
  PgResult present;
  if (Status s = conn.Exec("SELECT to_regclass('holdfast_schema') IS NOT NULL", &present); !s.ok())
    return s;
  const bool exists = present.Rows() == 1 && present.Bytes(0, 0) == "t";
  if (!exists && (!options_.create_if_missing || options_.read_only)) {
    return Status::InvalidArgument(target +
                                   " holds no Holdfast database (no holdfast_schema table) and "
                                   "it may not be created here; nothing was changed");
  }
  Status s = conn.Exec("BEGIN");
  if (s.ok() && !options_.read_only) s = conn.Exec(kSchemaLockSql);
  if (s.ok() && !options_.read_only) {
    std::string ddl =
        "CREATE TABLE IF NOT EXISTS holdfast_schema (one boolean PRIMARY KEY DEFAULT true "
        "CHECK (one), version integer NOT NULL);";
    for (int i = 0; i < kFamilyCount; ++i) {
      ddl += "CREATE TABLE IF NOT EXISTS " + TableName(static_cast<Family>(i)) +
             " (k bytea PRIMARY KEY, v bytea NOT NULL);";
    }
    ddl +=
        "CREATE TABLE IF NOT EXISTS holdfast_engines (incarnation bigint PRIMARY KEY, "
        "owner text NOT NULL, joined timestamptz NOT NULL, lease_expires timestamptz NOT NULL);";
    ddl += "INSERT INTO holdfast_schema (version) VALUES (" +
           std::to_string(kPostgresSchemaVersion) + ") ON CONFLICT DO NOTHING";
    s = conn.Exec(ddl);
  }
  PgResult version;
  if (s.ok()) s = conn.Exec("SELECT version::text FROM holdfast_schema", &version);
  if (s.ok() && version.Rows() == 1) {
    const int stored = std::stoi(std::string(version.Bytes(0, 0)));
    if (stored > kPostgresSchemaVersion) {
      s = Status::InvalidArgument(target + " has Holdfast tables of layout " +
                                  std::to_string(stored) + ", newer than this build supports (" +
                                  std::to_string(kPostgresSchemaVersion) +
                                  "); upgrade Holdfast to open it. Nothing was changed.");
    }
  }
  Status end = conn.Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  return s.ok() ? end : s;
}

Status PostgresStorage::Checkpoint(const std::string& dir) {
  std::error_code error;
  if (std::filesystem::exists(dir, error)) {
    return Status::InvalidArgument("checkpoint directory '" + dir + "' already exists");
  }
  RocksStorageOptions copy_options;
  copy_options.path = dir;
  copy_options.create_parent_directories = true;
  auto copy = OpenRocksStorage(copy_options);
  if (!copy.ok()) return copy.status();
  auto conn = pool_.Acquire();
  if (!conn.ok()) return conn.status();
  Status s = (*conn)->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  // Written in batches, so the copy's transactions stay small.
  std::unique_ptr<StorageTransaction> batch;
  size_t in_batch = 0;
  auto flush = [&]() -> Status {
    if (!batch) return Status::Ok();
    Status c = batch->Commit();
    batch.reset();
    in_batch = 0;
    return c;
  };
  for (int i = 0; i < kFamilyCount && s.ok(); ++i) {
    const Family f = static_cast<Family>(i);
    Status write;
    s = ScanOn(**conn, f, ScanRange{}, ScanOrder::kForward,
               [&](std::string_view key, std::string_view value) {
                 if (!batch) {
                   auto begun = (*copy)->Begin();
                   if (!begun.ok()) {
                     write = begun.status();
                     return false;
                   }
                   batch = std::move(*begun);
                 }
                 write = batch->Put(f, key, value);
                 if (write.ok() && ++in_batch >= 1000) write = flush();
                 return write.ok();
               });
    if (s.ok()) s = write;
  }
  if (s.ok()) s = flush();
  batch.reset();
  (void)(*conn)->Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  pool_.Release(std::move(*conn));
  Status closed = (*copy)->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) std::filesystem::remove_all(dir, error);
  return s;
}

}  // namespace

Result<std::unique_ptr<Storage>> OpenPostgresStorage(const PostgresStorageOptions& options) {
  auto storage = std::make_unique<PostgresStorage>(options);
  if (Status s = storage->Open(); !s.ok()) return s;
  return std::unique_ptr<Storage>(std::move(storage));
}

}  // namespace holdfast::internal
