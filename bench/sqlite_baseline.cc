#include "sqlite_baseline.h"

#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include "bench_util.h"

namespace holdfast::bench {
namespace {

constexpr uint64_t kEpoch = 1;

// Retry a busy write lock at once (yielding the processor) instead of SQLite's default sleeps of
// one or more milliseconds, which would make the baseline slower than it needs to be.
int YieldWhenBusy(void* /*unused*/, int attempts) {
  constexpr int kMaxAttempts = 1'000'000;
  if (attempts >= kMaxAttempts) return 0;
  std::this_thread::yield();
  return 1;
}

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  *error = std::string(sql) + ": " + (message ? message : "?");
  sqlite3_free(message);
  return false;
}

// Opens `path` in WAL mode with the durability `sync` asks for and the busy handler above.
sqlite3* OpenDatabase(const std::string& path, bool sync, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    *error = std::string("open: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_handler(db, YieldWhenBusy, nullptr);
  const char* synchronous = sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  if (!Exec(db, "PRAGMA journal_mode=WAL", error) || !Exec(db, synchronous, error)) {
    sqlite3_close(db);
    return nullptr;
  }
  return db;
}

}  // namespace

SqliteBaseline::Connection::~Connection() {
  sqlite3_finalize(update_);
  sqlite3_close(db_);
}

bool SqliteBaseline::Connection::Save(size_t row) {
  Row& r = owner_->rows_[row];
  const uint64_t version = r.version + 1;
  StampCounter(&r.data, version);
  StampCounter(&r.meta, version);
  sqlite3_reset(update_);
  sqlite3_bind_blob(update_, 1, r.data.data(), static_cast<int>(r.data.size()), SQLITE_STATIC);
  sqlite3_bind_blob(update_, 2, r.meta.data(), static_cast<int>(r.meta.size()), SQLITE_STATIC);
  sqlite3_bind_text(update_, 3, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(update_, 4, static_cast<sqlite3_int64>(kEpoch));
  if (sqlite3_step(update_) != SQLITE_DONE || sqlite3_changes(db_) != 1) return false;
  r.version = version;
  return true;
}

std::unique_ptr<SqliteBaseline> SqliteBaseline::Create(const std::string& path, size_t rows,
                                                       const RecordSizes& sizes, bool sync,
                                                       std::string* error) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::unique_ptr<SqliteBaseline> baseline(new SqliteBaseline());
  baseline->path_ = path;
  baseline->sync_ = sync;
  sqlite3* setup = OpenDatabase(path, sync, error);
  if (setup == nullptr) return nullptr;
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(setup, sqlite3_close);
  if (!Exec(setup,
            "CREATE TABLE profiles(key TEXT PRIMARY KEY, epoch INTEGER NOT NULL, "
            "version INTEGER NOT NULL, data BLOB NOT NULL, meta BLOB NOT NULL)",
            error) ||
      !Exec(setup, "BEGIN", error)) {
    return nullptr;
  }
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(setup, "INSERT INTO profiles VALUES(?, ?, 0, ?, ?)", -1, &insert, nullptr);
  for (size_t i = 0; i < rows; ++i) {
    Row r{ProfileKey(i), 0, {}, {}};
    FillRandomBytes(&r.data, sizes.data, 3 * i + 1);
    FillRandomBytes(&r.meta, sizes.meta, 3 * i + 2);
    sqlite3_reset(insert);
    sqlite3_bind_text(insert, 1, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(kEpoch));
    sqlite3_bind_blob(insert, 3, r.data.data(), static_cast<int>(r.data.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert, 4, r.meta.data(), static_cast<int>(r.meta.size()), SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      *error = std::string("insert: ") + sqlite3_errmsg(setup);
      sqlite3_finalize(insert);
      return nullptr;
    }
    baseline->rows_.push_back(std::move(r));
  }
  sqlite3_finalize(insert);
  if (!Exec(setup, "COMMIT", error)) return nullptr;
  return baseline;
}

std::unique_ptr<SqliteBaseline::Connection> SqliteBaseline::Connect(std::string* error) {
  std::unique_ptr<Connection> c(new Connection());
  c->owner_ = this;
  c->db_ = OpenDatabase(path_, sync_, error);
  if (c->db_ == nullptr) return nullptr;
  if (sqlite3_prepare_v2(c->db_,
                         "UPDATE profiles SET data=?1, meta=?2, version=version+1 "
                         "WHERE key=?3 AND epoch=?4",
                         -1, &c->update_, nullptr) != SQLITE_OK) {
    *error = std::string("prepare: ") + sqlite3_errmsg(c->db_);
    return nullptr;
  }
  return c;
}

}  // namespace holdfast::bench
