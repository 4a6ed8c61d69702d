// The PostgreSQL backend's own behaviour (what the shared suites cannot show): telling a
// connection string from a directory, never printing a password, writers sharing a database
// (each with a lease) and readers needing none, refusing to create tables when not allowed,
// the optimistic conflict of the storage seam, and a checkpoint that opens as an embedded
// database. Runs against the test cluster
// (test_backend.h), whatever HOLDFAST_TEST_BACKEND says.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "pg_connection.h"
#include "postgres_storage.h"
#include "test_backend.h"
#include "test_util.h"

namespace holdfast {
namespace {

using internal::DescribePostgresTarget;
using internal::Family;
using internal::IsPostgresTarget;

class PostgresBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = test::TestPostgresDatabase::Create();
    ASSERT_OK(database);
    db_ = std::move(*database);
  }

  EngineOptions Options() {
    EngineOptions o;
    o.worker_threads = 1;
    return o;
  }

  std::unique_ptr<test::TestPostgresDatabase> db_;
};

TEST(PostgresTargetTest, ConnectionStringsAreToldFromDirectories) {
  EXPECT_TRUE(IsPostgresTarget("postgresql://u@host/db"));
  EXPECT_TRUE(IsPostgresTarget("postgres://host/db"));
  EXPECT_TRUE(IsPostgresTarget("host=/tmp/x dbname=game"));
  EXPECT_TRUE(IsPostgresTarget("  dbname = game"));
  EXPECT_FALSE(IsPostgresTarget("/var/lib/game/holdfast"));
  EXPECT_FALSE(IsPostgresTarget("holdfast-data"));
  EXPECT_FALSE(IsPostgresTarget("./data/host=1"));
  EXPECT_FALSE(IsPostgresTarget(""));
}

TEST(PostgresTargetTest, DescriptionsNeverHoldThePassword) {
  const std::string uri = DescribePostgresTarget("postgresql://game:s3cret@db.internal:6432/live");
  EXPECT_EQ(uri, "PostgreSQL dbname=live host=db.internal port=6432 user=game");
  const std::string kv = DescribePostgresTarget("host=/tmp/x dbname=game password=s3cret");
  EXPECT_EQ(kv.find("s3cret"), std::string::npos) << kv;
  const std::string bad = DescribePostgresTarget("postgresql://u:s3cret@host/db?bogus_option=1");
  EXPECT_EQ(bad.find("s3cret"), std::string::npos) << bad;
}

TEST_F(PostgresBackendTest, APasswordInTheStringIsNeverPrinted) {
  // Trust authentication accepts any password: the open succeeds, and Info() omits it.
  auto engine = Engine::Open(db_->conninfo() + " password=s3cret", Options());
  ASSERT_OK(engine);
  EXPECT_EQ((*engine)->Info().path.find("s3cret"), std::string::npos) << (*engine)->Info().path;
  EXPECT_NE((*engine)->Info().path.find(db_->name()), std::string::npos);
  ASSERT_OK((*engine)->Close());

  // A database that does not exist: the error names it, not the password.
  std::string error;
  const std::string dir = test::PostgresSocketDir(&error);
  auto missing = Engine::Open("postgresql://postgres:s3cret@/no_such_db?host=" + dir, Options());
  ASSERT_CODE(missing, kIOError);
  EXPECT_EQ(missing.status().message().find("s3cret"), std::string::npos)
      << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("no_such_db"), std::string::npos)
      << missing.status().ToString();
}

TEST_F(PostgresBackendTest, WritersShareTheDatabaseAndAReaderTakesNoLease) {
  auto first = Engine::Open(db_->conninfo(), Options());
  ASSERT_OK(first);
  auto second = Engine::Open(db_->conninfo(), Options());
  ASSERT_OK(second);
  EXPECT_GT((*second)->Info().incarnation, (*first)->Info().incarnation);
  EngineOptions read_only = Options();
  read_only.read_only = true;
  auto reader = Engine::Open(db_->conninfo(), read_only);
  ASSERT_OK(reader);
  auto leases = db_->QueryValue("SELECT count(*) FROM holdfast_engines");
  ASSERT_OK(leases);
  EXPECT_EQ(*leases, "2");  // the two writers; a reader writes nothing, so needs no lease
  ASSERT_OK((*reader)->Close());
  ASSERT_OK((*first)->Close());
  ASSERT_OK((*second)->Close());
}

TEST_F(PostgresBackendTest, ConnectionsTheServerEndedAreReplacedWithoutAnError) {
  bool lease_lost = false;
  EngineOptions options = Options();
  options.on_lease_lost = [&](const Status&) { lease_lost = true; };
  auto engine = Engine::Open(db_->conninfo(), options);
  ASSERT_OK(engine);
  StoreOptions<std::string> store_options;
  store_options.autosave = false;
  auto store = (*engine)->OpenStore<BytesCodec>("players", store_options);
  ASSERT_OK(store);
  auto session = store->StartSession("p");
  ASSERT_OK(session);
  ASSERT_OK(session->Edit([](std::string& d) { d = "before"; }));
  ASSERT_OK(session->Save());
  // Every connection of the engine ends (an administrator, a proxy, a failover): the pooled
  // ones are dead without libpq knowing yet. Each next call must still succeed at once.
  ASSERT_OK(db_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
  ASSERT_OK(session->Edit([](std::string& d) { d = "after"; }));
  ASSERT_OK(session->Save());
  auto view = store->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "after");
  ASSERT_OK(db_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
  ASSERT_OK(store->Message("p", "gift"));
  ASSERT_OK(session->EndSession());
  EXPECT_FALSE(lease_lost);
  ASSERT_OK((*engine)->Close());
}

TEST_F(PostgresBackendTest, WithoutCreateIfMissingAnEmptyDatabaseIsRefusedUntouched) {
  EngineOptions o = Options();
  o.create_if_missing = false;
  auto engine = Engine::Open(db_->conninfo(), o);
  ASSERT_CODE(engine, kInvalidArgument);
  EXPECT_NE(engine.status().message().find("holds no Holdfast database"), std::string::npos)
      << engine.status().ToString();
  // Nothing was created: the schema table still does not exist.
  EXPECT_OK(db_->Exec("CREATE TABLE holdfast_schema (x int)"));
}

TEST_F(PostgresBackendTest, ANewerTableLayoutIsRefused) {
  auto engine = Engine::Open(db_->conninfo(), Options());
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Close());
  ASSERT_OK(db_->Exec("UPDATE holdfast_schema SET version = " +
                      std::to_string(internal::kPostgresSchemaVersion + 1)));
  auto again = Engine::Open(db_->conninfo(), Options());
  ASSERT_CODE(again, kInvalidArgument);
  EXPECT_NE(again.status().message().find("newer than this build supports"), std::string::npos)
      << again.status().ToString();
}

// A commit sends its writes in one pipeline: all succeed, or the first failure comes back (a
// duplicate key: Busy, as from Run), the statements after it do nothing, and the connection
// stays usable once the transaction is rolled back.
TEST_F(PostgresBackendTest, APipelineReportsItsFirstFailureAndRunsNothingAfterIt) {
  auto conn = internal::PgConnection::Connect(db_->conninfo(), true);
  ASSERT_OK(conn);
  internal::PgConnection& c = **conn;
  ASSERT_OK(c.Exec("CREATE TABLE pipelined (k int PRIMARY KEY)"));
  const std::string insert = "insert_pipelined";
  const char* sql = "INSERT INTO pipelined VALUES ($1::int)";
  auto row = [&](const char* k) {
    return internal::PgConnection::Statement{&insert, sql, {{k, /*binary=*/false}}};
  };
  auto stored = [&]() -> std::string {
    internal::PgResult rows;
    Status s = c.Exec("SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM pipelined",
                      &rows);
    return s.ok() && rows.Rows() == 1 ? std::string(rows.Bytes(0, 0)) : "error: " + s.ToString();
  };

  ASSERT_OK(c.RunPipelined({row("1"), row("2"), row("3")}));
  EXPECT_EQ(stored(), "1,2,3");

  ASSERT_OK(c.Exec("BEGIN"));
  Status failed = c.RunPipelined({row("4"), row("2"), row("5")});
  EXPECT_CODE(failed, kBusy);
  EXPECT_NE(failed.message().find("duplicate key"), std::string::npos) << failed.ToString();
  EXPECT_TRUE(c.Healthy());
  ASSERT_OK(c.Exec("ROLLBACK"));
  EXPECT_EQ(stored(), "1,2,3");

  // One statement alone, and the pipeline again on the same connection.
  ASSERT_OK(c.RunPipelined({row("6")}));
  ASSERT_OK(c.RunPipelined({row("7"), row("8")}));
  EXPECT_EQ(stored(), "1,2,3,6,7,8");

  // Past one chunk (256 statements): a failure in the second chunk stops the rest too.
  std::vector<std::string> keys;
  for (int k = 100; k < 700; ++k) keys.push_back(std::to_string(k));
  std::vector<internal::PgConnection::Statement> many;
  for (int i = 0; i < 300; ++i) many.push_back(row(keys[i].c_str()));
  many.push_back(row("3"));  // statement 301: a duplicate
  for (int i = 300; i < 600; ++i) many.push_back(row(keys[i].c_str()));
  ASSERT_OK(c.Exec("BEGIN"));
  EXPECT_CODE(c.RunPipelined(many), kBusy);
  ASSERT_OK(c.Exec("ROLLBACK"));
  EXPECT_EQ(stored(), "1,2,3,6,7,8");
  many.erase(many.begin() + 300);
  ASSERT_OK(c.RunPipelined(many));
  internal::PgResult count;
  ASSERT_OK(c.Exec("SELECT count(*) FROM pipelined", &count));
  EXPECT_EQ(count.Bytes(0, 0), "606");
}

// The seam's contract (storage.h): a key read for update and changed by another commit before
// this one's commit fails it with Busy, writing nothing; pending writes are seen by the
// transaction's own reads and scans, and by nobody else before the commit.
TEST_F(PostgresBackendTest, TheStorageSeamBehavesOptimistically) {
  internal::PostgresStorageOptions options;
  options.conninfo = db_->conninfo();
  auto storage = internal::OpenPostgresStorage(options);
  ASSERT_OK(storage);
  internal::Storage& s = **storage;

  auto first = s.Begin();
  ASSERT_OK(first);
  std::string value;
  ASSERT_CODE((*first)->GetForUpdate(Family::kMeta, "k", &value), kNotFound);
  ASSERT_OK((*first)->Put(Family::kMeta, "k", "first"));
  ASSERT_OK((*first)->Put(Family::kMeta, "a", "pending-a"));
  ASSERT_OK((*first)->Get(Family::kMeta, "k", &value));
  EXPECT_EQ(value, "first");
  ASSERT_CODE(s.Get(Family::kMeta, "k", &value), kNotFound);  // not visible before the commit

  // Another transaction writes the same key and commits first, while `first` holds no lock.
  auto second = s.Begin();
  ASSERT_OK(second);
  ASSERT_OK((*second)->Put(Family::kMeta, "k", "second"));
  ASSERT_OK((*second)->Put(Family::kMeta, "b", "stored-b"));
  ASSERT_OK((*second)->Commit());

  ASSERT_CODE((*first)->Commit(), kBusy);
  ASSERT_OK(s.Get(Family::kMeta, "k", &value));
  EXPECT_EQ(value, "second");
  ASSERT_CODE(s.Get(Family::kMeta, "a", &value), kNotFound);
  first->reset();

  // A scan merges stored keys with pending writes and deletions, both ways.
  auto third = s.Begin();
  ASSERT_OK(third);
  ASSERT_OK((*third)->Put(Family::kMeta, "c", "pending-c"));
  ASSERT_OK((*third)->Delete(Family::kMeta, "k"));
  std::string forward, reverse;
  ASSERT_OK((*third)->Scan(Family::kMeta, internal::ScanRange{}, internal::ScanOrder::kForward,
                           [&](std::string_view k, std::string_view v) {
                             forward += std::string(k) + "=" + std::string(v) + ";";
                             return true;
                           }));
  ASSERT_OK((*third)->Scan(Family::kMeta, internal::ScanRange{}, internal::ScanOrder::kReverse,
                           [&](std::string_view k, std::string_view) {
                             reverse += std::string(k);
                             return true;
                           }));
  EXPECT_EQ(forward, "b=stored-b;c=pending-c;");
  EXPECT_EQ(reverse, "cb");
  ASSERT_OK((*third)->Commit());
  ASSERT_CODE(s.Get(Family::kMeta, "k", &value), kNotFound);

  // A key only read for update (the fence of a save that writes other keys) still conflicts.
  auto reader = s.Begin();
  ASSERT_OK(reader);
  ASSERT_OK((*reader)->GetForUpdate(Family::kMeta, "b", &value));
  ASSERT_OK((*reader)->Put(Family::kData, "d", "written-under-the-fence"));
  auto writer = s.Begin();
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Put(Family::kMeta, "b", "changed"));
  ASSERT_OK((*writer)->Commit());
  ASSERT_CODE((*reader)->Commit(), kBusy);
  ASSERT_CODE(s.Get(Family::kData, "d", &value), kNotFound);
  ASSERT_OK(s.Close());
}

TEST_F(PostgresBackendTest, ACheckpointOpensAsAnEmbeddedDatabase) {
  test::TempDir dir;
  {
    auto engine = Engine::Open(db_->conninfo(), Options());
    ASSERT_OK(engine);
    auto store = (*engine)->OpenStore<BytesCodec>("Players", StoreOptions<std::string>{});
    ASSERT_OK(store);
    auto profile = store->StartSession("alice", SessionOptions{});
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& data) { data = "sword"; }));
    ASSERT_OK(profile->EndSession());
    Admin admin(**engine);
    ASSERT_OK(admin.Checkpoint(dir.Sub("copy")));
    ASSERT_CODE(admin.Checkpoint(dir.Sub("copy")), kInvalidArgument);  // exists already
    ASSERT_OK((*engine)->Close());
  }
  EngineOptions local;
  local.admin_socket = false;
  auto copy = Engine::Open(dir.Sub("copy"), local);
  ASSERT_OK(copy);
  auto store = (*copy)->OpenStore<BytesCodec>("Players", StoreOptions<std::string>{});
  ASSERT_OK(store);
  auto view = store->Get("alice");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "sword");
  ASSERT_OK((*copy)->Close());
}

}  // namespace
}  // namespace holdfast
