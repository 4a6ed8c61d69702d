// The SQLite baseline: the save a user would hand-write on SQLite. One table
//   profiles(key TEXT PRIMARY KEY, epoch INTEGER, version INTEGER, data BLOB, meta BLOB)
// in WAL mode; a save is one prepared compare-and-swap statement
//   UPDATE profiles SET data=?, meta=?, version=version+1 WHERE key=? AND epoch=?
// that succeeds only when exactly one row changed. synchronous=FULL when the save must survive
// power loss (sync), NORMAL otherwise. It writes the data and meta records (Holdfast's sizes)
// but no history row: less work than Holdfast does, so a ratio against it flatters SQLite.
//
// Thread safety: one Connection per thread (as a server would keep one per worker); writers of
// different connections serialize on SQLite's WAL write lock. A busy writer yields and retries
// at once rather than sleeping SQLite's default milliseconds, the fastest a user can make it.
#ifndef HOLDFAST_BENCH_SQLITE_BASELINE_H_
#define HOLDFAST_BENCH_SQLITE_BASELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raw_rocksdb_baseline.h"

struct sqlite3;
struct sqlite3_stmt;

namespace holdfast::bench {

class SqliteBaseline {
 public:
  class Connection {
   public:
    ~Connection();
    // One compare-and-swap save of row `row`, whose data and meta bytes are stamped with the
    // next version first. False when no row changed (fenced out) or SQLite failed.
    bool Save(size_t row);

   private:
    friend class SqliteBaseline;
    Connection() = default;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* update_ = nullptr;
    SqliteBaseline* owner_ = nullptr;
  };

  // Creates `path` (removing an old one) with `rows` profiles ProfileKey(0..rows-1) at epoch 1,
  // each with data and meta of `sizes`. nullptr (with *error) on failure.
  static std::unique_ptr<SqliteBaseline> Create(const std::string& path, size_t rows,
                                                const RecordSizes& sizes, bool sync,
                                                std::string* error);

  // A connection for one thread. nullptr (with *error) on failure.
  std::unique_ptr<Connection> Connect(std::string* error);

 private:
  struct Row {
    std::string key;
    uint64_t version = 0;
    std::string data;
    std::string meta;
  };
  SqliteBaseline() = default;

  std::string path_;
  bool sync_ = true;
  std::vector<Row> rows_;  // each used by one thread at a time
};

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_SQLITE_BASELINE_H_
