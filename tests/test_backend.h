// Which backend a test runs on, and throwaway PostgreSQL databases for the PostgreSQL runs.
//
// The session, versions and data-model suites run twice under ctest: on RocksDB (in memory) and,
// with HOLDFAST_TEST_BACKEND=postgres, on PostgreSQL. ctest starts one throwaway cluster for the
// whole run (scripts/pg-test-cluster.sh, the `postgres` fixture); a test program finds its socket
// directory in HOLDFAST_TEST_PG_SOCKET, else at the fixture's directory (compiled in) while that
// cluster runs, else it starts a cluster of its own and stops it at exit. Each test gets a database of its own, dropped when the test ends.
#ifndef HOLDFAST_TESTS_TEST_BACKEND_H_
#define HOLDFAST_TESTS_TEST_BACKEND_H_

#include <memory>
#include <string>

#include "holdfast/status.h"

namespace holdfast::test {

enum class TestBackend { kRocksDB, kPostgres };

// HOLDFAST_TEST_BACKEND: unset or "rocksdb" → kRocksDB; "postgres" → kPostgres.
TestBackend CurrentTestBackend();
inline bool OnPostgres() { return CurrentTestBackend() == TestBackend::kPostgres; }

// The socket directory of the test cluster (started for this process when the environment names
// none). Empty, with `error` set, when no cluster could be started.
std::string PostgresSocketDir(std::string* error);

// A fresh, empty database of the test cluster; dropped (its connections ended) on destruction.
class TestPostgresDatabase {
 public:
  static Result<std::unique_ptr<TestPostgresDatabase>> Create();
  ~TestPostgresDatabase();
  TestPostgresDatabase(const TestPostgresDatabase&) = delete;
  TestPostgresDatabase& operator=(const TestPostgresDatabase&) = delete;

  // A libpq key=value connection string for Engine::Open.
  const std::string& conninfo() const { return conninfo_; }
  const std::string& name() const { return name_; }
  // Runs `sql` on the database itself (outside any engine); IOError names what failed.
  Status Exec(const std::string& sql);
  // Runs `sql` and returns the first column of its first row as text; NotFound without a row.
  Result<std::string> QueryValue(const std::string& sql);

 private:
  TestPostgresDatabase(std::string socket_dir, std::string name);
  std::string socket_dir_;
  std::string name_;
  std::string conninfo_;
};

}  // namespace holdfast::test

// Skips the current test on PostgreSQL, saying why (a test of RocksDB's files, its in-memory
// environment's fault injection, or its single-process lock file).
#define SKIP_ON_POSTGRES(why)                                           \
  do {                                                                  \
    if (::holdfast::test::OnPostgres()) GTEST_SKIP() << "RocksDB only: " << (why); \
  } while (0)

#endif  // HOLDFAST_TESTS_TEST_BACKEND_H_
