// The real `holdfast` binary, run as a child process: exit codes, stdout and stderr as an
// operator or a script sees them, $HOLDFAST_DB, and a database another process holds.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using CliBinaryTest = CliFixture;

TEST_F(CliBinaryTest, HelpListsTheCommandsAndAnUnknownOneGetsASuggestion) {
  CliRun help = RunBinary({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* name : {"stores", "list", "show", "versions", "sessions", "rollback", "verify",
                           "stats", "checkpoint", "compact"}) {
    EXPECT_NE(help.out.find(std::string("\n  ") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(help.err, "");
  CliRun typo = RunBinary({"rolback"});
  EXPECT_EQ(typo.code, 2);
  EXPECT_EQ(typo.out, "");
  EXPECT_EQ(typo.err.rfind("holdfast: unknown command 'rolback'; did you mean 'rollback'?\n", 0),
            0u)
      << typo.err;
}

TEST_F(CliBinaryTest, TheDatabaseComesFromTheEnvironmentWhenNotGiven) {
  CliRun run = RunBinary({"sessions", "--json"}, {"HOLDFAST_DB=" + db_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.rfind(R"([{"store":"Players","key":"carol",)", 0), 0u) << run.out;
  EXPECT_EQ(run.err, "");
  CliRun neither = RunBinary({"sessions"});
  EXPECT_EQ(neither.code, 2);
  EXPECT_NE(neither.err.find("pass --db PATH or set HOLDFAST_DB"), std::string::npos);
}

TEST_F(CliBinaryTest, FindAPlayerSeeVersionsRollBackAndVerify) {
  CliRun list = RunBinary({"list", "Players", "--prefix", "al", "--db", db_});
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("alice  3 "), std::string::npos) << list.out;
  CliRun versions = RunBinary({"versions", "Players", "alice", "--db", db_});
  EXPECT_EQ(versions.code, 0) << versions.err;
  EXPECT_NE(versions.out.find("2        2026-01-01T00:00:01.000Z  save"), std::string::npos)
      << versions.out;
  CliRun refused = RunBinary({"rollback", "Players", "alice", "--to", "2", "--db", db_});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("without --yes"), std::string::npos) << refused.err;
  CliRun rollback = RunBinary({"rollback", "Players", "alice", "--to", "2", "--yes", "--db", db_});
  EXPECT_EQ(rollback.code, 0) << rollback.err;
  EXPECT_EQ(rollback.out, "rolled back Players/alice to version 2: written as version 4\n");
  CliRun show = RunBinary({"show", "Players", "alice", "--db", db_});
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_NE(show.out.find("(rollback, "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("|gold=10|"), std::string::npos) << show.out;
  CliRun verify = RunBinary({"verify", "--db", db_});
  EXPECT_EQ(verify.code, 0) << verify.err;
  EXPECT_NE(verify.out.find(": 0 damaged"), std::string::npos) << verify.out;
}

TEST_F(CliBinaryTest, VerifyExitsOneOnDamage) {
  OpenDatabase();
  WriteRaw(internal::Family::kMeta, internal::EncodeProfileKey("Players", "bob"), "garbage");
  CloseEngine();
  CliRun verify = RunBinary({"verify", "--db", db_, "--json"});
  EXPECT_EQ(verify.code, 1);
  EXPECT_NE(verify.out.find(R"({"store":"Players","key":"bob","record":"meta",)"),
            std::string::npos)
      << verify.out;
  EXPECT_EQ(verify.err, "holdfast verify: Corruption: 1 damaged record(s) found\n");
}

// The open engine of this process holds RocksDB's LOCK, as a running game server without an
// admin socket would: reads fall back to a read-only open and say so, writes are refused.
TEST_F(CliBinaryTest, ADatabaseHeldByAnotherProcessWithoutASocketIsReadNotWritten) {
  const auto before = Records();
  OpenDatabase();
  for (const char* command : {"stores", "verify"}) {
    CliRun run = RunBinary({command, "--db", db_});
    EXPECT_EQ(run.code, 0) << command << "\n" << run;
    EXPECT_NE(run.err.find("no admin socket answers; reading it read-only"), std::string::npos)
        << run.err;
  }
  CliRun rollback = RunBinary({"rollback", "Players", "alice", "--to", "2", "--yes", "--db", db_});
  EXPECT_EQ(rollback.code, 1);
  EXPECT_NE(rollback.err.find("is already open (another process"), std::string::npos)
      << rollback.err;
  EXPECT_NE(rollback.err.find("nothing was changed"), std::string::npos) << rollback.err;
  CloseEngine();
  EXPECT_EQ(Records(), before);
}

}  // namespace
}  // namespace holdfast::test
