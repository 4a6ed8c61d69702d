#include "test_backend.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "pg_connection.h"

namespace holdfast::test {
namespace {

// A cluster this process started because the environment named none; stopped at exit.
struct OwnCluster {
  std::string dir;
  std::string error;
  ~OwnCluster() {
    if (dir.empty()) return;
    const std::string stop =
        "bash '" HOLDFAST_SOURCE_DIR "/scripts/pg-test-cluster.sh' stop '" + dir + "'";
    (void)std::system(stop.c_str());
  }
};

OwnCluster& StartOwnCluster() {
  static OwnCluster cluster = [] {
    OwnCluster c;
    const std::string dir = "/tmp/holdfast-pg-test-" + std::to_string(getpid());
    const std::string start =
        "bash '" HOLDFAST_SOURCE_DIR "/scripts/pg-test-cluster.sh' start '" + dir + "'";
    if (std::system(start.c_str()) == 0) {
      c.dir = dir;
    } else {
      c.error = "could not start a PostgreSQL test cluster (" + start + ")";
    }
    return c;
  }();
  return cluster;
}

Result<std::unique_ptr<internal::PgConnection>> Admin(const std::string& socket_dir) {
  return internal::PgConnection::Connect(
      "host=" + socket_dir + " dbname=postgres user=postgres", /*synchronous_commit=*/true);
}

}  // namespace

TestBackend CurrentTestBackend() {
  const char* value = std::getenv("HOLDFAST_TEST_BACKEND");
  if (value != nullptr && std::string(value) == "postgres") return TestBackend::kPostgres;
  return TestBackend::kRocksDB;
}

std::string PostgresSocketDir(std::string* error) {
  const char* given = std::getenv("HOLDFAST_TEST_PG_SOCKET");
  if (given != nullptr && given[0] != '\0') return given;
#ifdef HOLDFAST_PG_TEST_DIR
  // The cluster of ctest's `postgres` fixture (tests/CMakeLists.txt), while it runs.
  if (::access(HOLDFAST_PG_TEST_DIR "/.s.PGSQL.5432", F_OK) == 0) return HOLDFAST_PG_TEST_DIR;
#endif
  OwnCluster& own = StartOwnCluster();
  if (error) *error = own.error;
  return own.dir;
}

TestPostgresDatabase::TestPostgresDatabase(std::string socket_dir, std::string name)
    : socket_dir_(std::move(socket_dir)), name_(std::move(name)) {
  conninfo_ = "host=" + socket_dir_ + " dbname=" + name_ + " user=postgres";
}

Result<std::unique_ptr<TestPostgresDatabase>> TestPostgresDatabase::Create() {
  static std::atomic<int> counter{0};
  std::string error;
  std::string dir = PostgresSocketDir(&error);
  if (dir.empty()) return Status::IOError(error);
  auto admin = Admin(dir);
  if (!admin.ok()) return admin.status();
  const std::string name =
      "hf_" + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1));
  if (Status s = (*admin)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); !s.ok())
    return s;
  if (Status s = (*admin)->Exec("CREATE DATABASE " + name + " TEMPLATE template0"); !s.ok())
    return s;
  return std::unique_ptr<TestPostgresDatabase>(new TestPostgresDatabase(dir, name));
}

TestPostgresDatabase::~TestPostgresDatabase() {
  auto admin = Admin(socket_dir_);
  if (admin.ok()) (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

Status TestPostgresDatabase::Exec(const std::string& sql) {
  auto conn = internal::PgConnection::Connect(conninfo_, true);
  if (!conn.ok()) return conn.status();
  return (*conn)->Exec(sql);
}

Result<std::string> TestPostgresDatabase::QueryValue(const std::string& sql) {
  auto conn = internal::PgConnection::Connect(conninfo_, true);
  if (!conn.ok()) return conn.status();
  internal::PgResult rows;
  if (Status s = (*conn)->Exec(sql, &rows); !s.ok()) return s;
  if (rows.Rows() == 0) return Status::NotFound("no row: " + sql);
  return std::string(rows.Bytes(0, 0));
}

}  // namespace holdfast::test
