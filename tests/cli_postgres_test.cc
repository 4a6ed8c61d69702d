// The admin CLI (the real `holdfast` binary) on a PostgreSQL database that a running engine
// shares: `--db` takes the connection string; reads see the live engine's saved state; a lock
// shows as live while its engine's lease is, as orphaned once it expired, and releasing an orphan
// works; a password in the connection string is never printed, in output or in errors.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>

#include "cli_test_util.h"
#include "holdfast/holdfast.h"
#include "test_backend.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

constexpr const char* kPassword = "s3cret-pw";

class CliPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = TestPostgresDatabase::Create();
    ASSERT_OK(database);
    db_ = std::move(*database);
    // The test cluster trusts local connections: the password is carried, never needed.
    conninfo_ = db_->conninfo() + " password=" + kPassword;
    EngineOptions options;
    options.owner_description = "server-a";
    options.worker_threads = 1;
    auto engine = Engine::Open(conninfo_, options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
    StoreOptions<std::string> store_options;
    store_options.template_value = "new";
    store_options.autosave = false;
    auto players = engine_->OpenStore<BytesCodec>("Players", store_options);
    ASSERT_OK(players);
    players_.emplace(std::move(*players));
    auto alice = players_->StartSession("alice");
    ASSERT_OK(alice);
    ASSERT_OK(alice->Edit([](std::string& d) { d = "gold=10"; }));
    ASSERT_OK(alice->EndSession());
    auto bob = players_->StartSession("bob");  // held by this running engine
    ASSERT_OK(bob);
    bob_ = std::make_unique<Profile<BytesCodec>>(std::move(*bob));
  }

  void TearDown() override {
    if (bob_) (void)bob_->EndSession();
    if (engine_) (void)engine_->Close();
  }

  // The binary with `args` and --db; fails the test if the password shows anywhere.
  CliRun Cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--db", conninfo_});
    CliRun run = RunBinary(args);
    EXPECT_EQ(run.out.find(kPassword), std::string::npos) << run;
    EXPECT_EQ(run.err.find(kPassword), std::string::npos) << run;
    return run;
  }

  std::unique_ptr<TestPostgresDatabase> db_;
  std::string conninfo_;
  std::unique_ptr<Engine> engine_;
  std::optional<Store<BytesCodec>> players_;
  std::unique_ptr<Profile<BytesCodec>> bob_;
};

TEST_F(CliPostgresTest, ReadCommandsSeeTheSharedDatabaseWhileItsServerRuns) {
  CliRun stores = Cli({"stores"});
  EXPECT_EQ(stores.code, 0) << stores;
  EXPECT_NE(stores.out.find("Players"), std::string::npos) << stores;
  CliRun show = Cli({"show", "Players", "alice"});
  EXPECT_EQ(show.code, 0) << show;
  EXPECT_NE(show.out.find("gold=10"), std::string::npos) << show;
  CliRun versions = Cli({"versions", "Players", "alice", "--json"});
  EXPECT_EQ(versions.code, 0) << versions;
  EXPECT_NE(versions.out.find(R"("version":2)"), std::string::npos) << versions;
  // bob's lock belongs to a running engine with a live lease: live, not an orphan.
  CliRun sessions = Cli({"sessions", "Players", "--json"});
  EXPECT_EQ(sessions.code, 0) << sessions;
  EXPECT_NE(sessions.out.find(R"("key":"bob")"), std::string::npos) << sessions;
  EXPECT_NE(sessions.out.find(R"("owner":"server-a")"), std::string::npos) << sessions;
  EXPECT_NE(sessions.out.find(R"("orphaned":false)"), std::string::npos) << sessions;
  EXPECT_EQ(sessions.out.find(R"("orphaned":true)"), std::string::npos) << sessions;
}

TEST_F(CliPostgresTest, ALockWhoseEngineLeaseExpiredIsAnOrphanTheCliCanRelease) {
  // The running engine stops renewing, as if its process had died: by the database's clock its
  // lease is over now.
  ASSERT_OK(db_->Exec("UPDATE holdfast_engines SET lease_expires = now() - interval '1 second' "
                      "WHERE incarnation = " + std::to_string(engine_->Info().incarnation)));
  CliRun sessions = Cli({"sessions", "Players", "--json"});
  EXPECT_EQ(sessions.code, 0) << sessions;
  EXPECT_NE(sessions.out.find(R"("orphaned":true)"), std::string::npos) << sessions;
  CliRun release = Cli({"release", "Players", "bob", "--yes"});
  EXPECT_EQ(release.code, 0) << release;
  CliRun after = Cli({"show", "Players", "bob", "--json"});
  EXPECT_EQ(after.code, 0) << after;
  EXPECT_NE(after.out.find(R"("lock":null)"), std::string::npos) << after;
  // The old holder is fenced out: its engine lost its lease, and the epoch moved on.
  (void)bob_->Edit([](std::string& d) { d = "late"; });
  EXPECT_EQ(bob_->Save().code(), StatusCode::kLockLost);
  CliRun kept = Cli({"show", "Players", "bob", "--json"});
  EXPECT_NE(kept.out.find(R"("data":"6e6577")"), std::string::npos) << kept;  // "new"
}

// An admin write on a database servers share asks the holding server for a final save first,
// across processes, as the admin socket does on one server.
TEST_F(CliPostgresTest, AReleaseOfAProfileALiveServerHoldsGetsItsFinalSaveFirst) {
  std::promise<SessionEnd> ended;
  SessionOptions options;
  options.on_session_end = [&](const SessionEnd& end) { ended.set_value(end); };
  auto carol = players_->StartSession("carol", options);
  ASSERT_OK(carol);
  ASSERT_OK(carol->Edit([](std::string& d) { d = "unsaved"; }));
  CliRun release = Cli({"release", "Players", "carol", "--yes"});
  EXPECT_EQ(release.code, 0) << release;
  auto end = ended.get_future();
  ASSERT_EQ(end.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const SessionEnd e = end.get();
  EXPECT_EQ(e.reason, EndReason::kExternal) << e.detail;
  EXPECT_FALSE(e.unsaved_changes);
  CliRun after = Cli({"show", "Players", "carol", "--json"});
  EXPECT_EQ(after.code, 0) << after;
  EXPECT_NE(after.out.find(R"("data":"756e7361766564")"), std::string::npos) << after;  // unsaved
  EXPECT_NE(after.out.find(R"("lock":null)"), std::string::npos) << after;
}

TEST_F(CliPostgresTest, AnUnreachableDatabaseIsAClearErrorWithoutThePassword) {
  CliRun run = RunBinary({"stores", "--db",
                          "host=/nonexistent-holdfast-socket dbname=game password=" +
                              std::string(kPassword)});
  EXPECT_EQ(run.code, 1) << run;
  EXPECT_NE(run.err.find("cannot connect"), std::string::npos) << run;
  EXPECT_EQ(run.err.find(kPassword), std::string::npos) << run;
  EXPECT_EQ(run.out.find(kPassword), std::string::npos) << run;
}

}  // namespace
}  // namespace holdfast::test
