// The raw libpq baseline: the save a user would hand-write on PostgreSQL without Holdfast, on the
// same server and database Holdfast uses in the same run. Two tables of its own, named from a
// prefix P:
//   P_profiles(k bytea PRIMARY KEY, epoch bigint, version bigint, data bytea, meta bytea)
//   P_history(k bytea, version bigint, v bytea, PRIMARY KEY (k, version))
// A save is one transaction (BEGIN ... COMMIT, PostgreSQL's default READ COMMITTED, which
// re-checks an UPDATE's WHERE on the newest row version, so the epoch compare-and-swap holds) of
// prepared statements, one connection per thread, parameters and results in binary:
//   - kCasUpdate: UPDATE P_profiles SET data=$2 WHERE k=$1 AND epoch=$3 — the least a fenced save
//     can be: one row, one statement, the fence in its WHERE.
//   - kSameRecords: the same UPDATE writing data and meta, INSERT of one history row, DELETE of
//     the history row that falls out of a keep-the-newest-50 window: the records a Holdfast save
//     writes, with the sizes Holdfast's records have (RecordSizes).
// Either fails (false) when the UPDATE changed no row: the writer was fenced out.
// synchronous_commit is set per connection: on when `sync`, off otherwise.
//
// Thread safety: one Connection per thread; each row is saved by one thread at a time.
#ifndef HOLDFAST_BENCH_RAW_LIBPQ_BASELINE_H_
#define HOLDFAST_BENCH_RAW_LIBPQ_BASELINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raw_rocksdb_baseline.h"

typedef struct pg_conn PGconn;

namespace holdfast::bench {

class RawLibpqBaseline {
 public:
  enum class Work { kCasUpdate, kSameRecords };

  class Connection {
   public:
    ~Connection();
    // One save of row `row` (its bytes stamped with the next version first). False when the
    // fence failed or the server returned an error (printed once per connection on stderr).
    bool Save(size_t row);

   private:
    friend class RawLibpqBaseline;
    Connection() = default;
    bool Command(const char* what, int parameters, const char* const* values, const int* lengths,
                 bool expect_one_row);
    PGconn* conn_ = nullptr;
    RawLibpqBaseline* owner_ = nullptr;
    bool reported_ = false;
  };

  // Creates (dropping old ones) the tables named from `prefix` with `rows` profiles
  // ProfileKey(0..rows-1) at epoch 1, each with data and meta of `sizes`. nullptr (with *error)
  // on failure.
  static std::unique_ptr<RawLibpqBaseline> Create(const std::string& conninfo,
                                                  const std::string& prefix, Work work, size_t rows,
                                                  const RecordSizes& sizes, bool sync,
                                                  std::string* error);

  // A connection for one thread, its statements prepared. nullptr (with *error) on failure.
  std::unique_ptr<Connection> Connect(std::string* error);

 private:
  struct Row {
    std::string key;
    uint64_t version = 0;
    std::string data;
    std::string meta;
    std::string history;
  };
  RawLibpqBaseline() = default;

  std::string conninfo_;
  std::string prefix_;
  Work work_ = Work::kCasUpdate;
  bool sync_ = true;
  std::vector<Row> rows_;
};

// Counts the transactions that wrote to the cluster between two marks, by the transaction ids
// the server assigned: every transaction that writes (or locks a row) takes one, a read-only one
// does not, so commits that no engine hook reports are counted too.
class PgWriteCounter {
 public:
  // nullptr (with *error) when it cannot connect.
  static std::unique_ptr<PgWriteCounter> Connect(const std::string& conninfo, std::string* error);
  ~PgWriteCounter();
  // A mark (it takes a transaction id itself); writing transactions between two marks:
  // later - earlier - 1. Nullopt when the query fails.
  std::optional<uint64_t> Mark();

 private:
  PgWriteCounter() = default;
  PGconn* conn_ = nullptr;
};

// Connects with `conninfo` and runs `sql` (no parameters); the first column of the first row of
// the result, or "" (with *error) on failure. For a few setup and description queries.
std::string QueryOneValue(const std::string& conninfo, const std::string& sql, std::string* error);

// The version of the libpq this program runs with, e.g. "15.14".
std::string LibpqVersion();

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_RAW_LIBPQ_BASELINE_H_
