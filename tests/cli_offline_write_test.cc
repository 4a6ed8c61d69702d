// The admin CLI on a stopped database, in-process: rollback (and its refusals), verify against
// damage written from outside, checkpoint and compact, and a usage error for every command.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "holdfast/json_codec.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using internal::Family;
using CliOfflineWriteTest = CliFixture;

TEST_F(CliOfflineWriteTest, RollbackWritesTheOldPayloadAsANewVersion) {
  CliRun run = RunInProcess({"rollback", "Players", "alice", "--to", "2", "--yes", "--db", db_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "rolled back Players/alice to version 2: written as version 4\n");
  EXPECT_EQ(run.err, "");

  OpenDatabase();
  auto players = engine_->OpenStore<BytesCodec>("Players");
  ASSERT_OK(players);
  auto now = players->Get("alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "gold=10");
  EXPECT_EQ(now->version.version, 4u);
  EXPECT_EQ(now->version.reason, VersionReason::kRollback);
  EXPECT_EQ(now->version.source_version, 2u);
  auto versions = players->Versions("alice");
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 4u);  // nothing pruned: 1, 2, 3 are still there
  auto three = players->Get("alice", 3);
  ASSERT_OK(three);
  EXPECT_EQ(three->data, "gold=20");
}

TEST_F(CliOfflineWriteTest, RollbackAsOfATimeTakesTheNewestVersionWrittenBy) {
  CliRun run = RunInProcess({"rollback", "Players", "alice", "--as-of", "2026-01-01T00:00:01.999Z",
                             "--yes", "--db", db_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "rolled back Players/alice to version 2: written as version 4\n");
}

TEST_F(CliOfflineWriteTest, RollbackOfAnOrphanedLockFreesTheProfile) {
  CliRun run = RunInProcess({"rollback", "Players", "carol", "--to", "1", "--yes", "--db", db_});
  EXPECT_EQ(run.code, 0) << run.err;
  CliRun sessions = RunInProcess({"sessions", "--db", db_, "--json"});
  EXPECT_EQ(sessions.out, "[]\n");
  CliRun show = RunInProcess({"show", "Players", "carol", "--db", db_, "--json"});
  EXPECT_NE(show.out.find(R"("reason":"rollback","epoch":2,"source_version":1)"), std::string::npos)
      << show.out;
}

TEST_F(CliOfflineWriteTest, RollbackWithoutYesRefusesBeforeOpening) {
  const auto before = SnapshotDirectory(db_);
  CliRun run = RunInProcess({"rollback", "Players", "alice", "--to", "2", "--db", db_});
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "holdfast rollback: refusing to change the database without --yes; nothing was "
            "changed\n");
  EXPECT_EQ(SnapshotDirectory(db_), before);  // byte for byte: not even opened
}

TEST_F(CliOfflineWriteTest, RefusedRollbacksChangeNoRecord) {
  const auto before = Records();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"Nobody", "alice", "--to", "1"}, "NotFound: no store 'Nobody'"},
      {{"Players", "nobody", "--to", "1"}, "NotFound: no profile 'nobody'"},
      {{"Players", "alice", "--to", "9"}, "NotFound: version 9 of 'alice' does not exist"},
      {{"Players", "alice", "--as-of", "2025-01-01"}, "NotFound: no version of 'alice'"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"rollback", "--yes", "--db", db_};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliRun run = RunInProcess(args);
    EXPECT_EQ(run.code, 1) << c.error;
    EXPECT_EQ(run.out, "") << c.error;
    EXPECT_EQ(run.err.rfind("holdfast rollback: " + c.error, 0), 0u) << run.err;
  }
  EXPECT_EQ(Records(), before);
}

TEST_F(CliOfflineWriteTest, VerifyFindsARecordDamagedFromOutside) {
  CliRun clean = RunInProcess({"verify", "--db", db_});
  EXPECT_EQ(clean.code, 0) << clean.err;
  EXPECT_EQ(
      clean.out,
      "checked 2 store(s), 4 profile(s), 8 version(s), 0 message(s), 17 record(s): 0 damaged\n");

  OpenDatabase();
  WriteRaw(Family::kData, internal::EncodeProfileKey("Players", "alice"), "torn by a bad disk");
  WriteRaw(Family::kVersions, internal::EncodeVersionKey("Guilds", "red", 1), "torn");
  CloseEngine();

  EXPECT_EQ(
      RunInProcess({"verify", "--db", db_}),
      (CliRun{
          1,
          "damaged version Guilds/red version 1: version record: too short (4 bytes)\n"
          "damaged data Players/alice: profile record: checksum mismatch\n"
          "checked 2 store(s), 4 profile(s), 8 version(s), 0 message(s), 17 record(s): 2 damaged\n",
          "holdfast verify: Corruption: 2 damaged record(s) found\n"}));

  CliRun json = RunInProcess({"verify", "--store", "Players", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 1);
  EXPECT_EQ(
      json.out,
      R"({"ok":false,"stores":1,"profiles":3,"versions":6,"messages":0,"records":13,"damaged":[)"
      R"({"store":"Players","key":"alice","record":"data","version":0,)"
      R"("reason":"profile record: checksum mismatch"}]})"
      "\n");
  CliRun unknown = RunInProcess({"verify", "--store", "Nobody", "--db", db_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("NotFound: no store 'Nobody'"), std::string::npos) << unknown.err;
}

// Damage below the records: a byte flipped inside a table file fails RocksDB's block checksum.
// verify reports it (exit 1) instead of crashing or stopping at the first read.
TEST_F(CliOfflineWriteTest, VerifyReportsAFileWhoseBlocksAreDamaged) {
  std::string largest;
  for (const auto& entry : std::filesystem::directory_iterator(db_)) {
    if (entry.path().extension() != ".sst") continue;
    if (largest.empty() || entry.file_size() > std::filesystem::file_size(largest)) {
      largest = entry.path().string();
    }
  }
  ASSERT_FALSE(largest.empty());
  {
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(20);  // inside the first data block
    const char byte = static_cast<char>(file.get() ^ 0x5a);
    file.seekp(20);
    file.put(byte);
  }
  CliRun run = RunInProcess({"verify", "--db", db_});
  EXPECT_EQ(run.code, 1) << run;
  EXPECT_NE(run.out.find("damaged file: "), std::string::npos) << run;
  EXPECT_NE(run.out.find("block checksum mismatch"), std::string::npos) << run;
  EXPECT_EQ(run.out.find("missing"), std::string::npos) << run;  // unreadable, not missing
  EXPECT_NE(run.err.find("damaged record(s) found"), std::string::npos) << run;
}

TEST_F(CliOfflineWriteTest, ACheckpointOpensAndVerifies) {
  const std::string copy = dir_.Sub("backup");
  CliRun run = RunInProcess({"checkpoint", copy, "--db", db_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "checkpoint written to " + copy + "\n");
  CliRun verify = RunInProcess({"verify", "--db", copy});
  EXPECT_EQ(verify.code, 0) << verify.err;
  CliRun original = RunInProcess({"show", "Players", "alice", "--db", db_, "--json"});
  CliRun copied = RunInProcess({"show", "Players", "alice", "--db", copy, "--json"});
  EXPECT_EQ(copied.code, 0) << copied.err;
  EXPECT_EQ(copied.out, original.out);

  CliRun again = RunInProcess({"checkpoint", copy, "--db", db_});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already exists; nothing was written"), std::string::npos) << again.err;
}

TEST_F(CliOfflineWriteTest, CompactChangesNoRecord) {
  const auto before = Records();
  CliRun run = RunInProcess({"compact", "--db", db_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "compacted " + db_ + "\n");
  EXPECT_EQ(Records(), before);
}

TEST_F(CliOfflineWriteTest, EditWritesAnAdminVersionAndAJsonStoreTakesOnlyADocument) {
  OpenDatabase();
  auto quests = engine_->OpenStore<JsonCodec>("Quests");
  ASSERT_OK(quests);
  {
    auto ann = quests->StartSession("ann");
    ASSERT_OK(ann);
    ASSERT_OK(ann->Edit([](nlohmann::json& d) { d = {{"coins", 5}}; }));
    ASSERT_OK(ann->EndSession());
  }
  CloseEngine();
  EXPECT_EQ(RunInProcess({"edit", "Players", "bob", "--data", "gold=50", "--yes", "--db", db_}),
            (CliRun{0, "edited Players/bob: written as version 3\n", ""}));
  const std::string file = dir_.Sub("bob.txt");
  { std::ofstream(file) << "gold=60"; }
  EXPECT_EQ(RunInProcess({"edit", "Players", "bob", "--file", file, "--yes", "--db", db_}).code, 0);
  CliRun bob = RunInProcess({"show", "Players", "bob", "--db", db_});
  EXPECT_NE(bob.out.find("version        4 (admin, "), std::string::npos) << bob;
  EXPECT_NE(bob.out.find("|gold=60|"), std::string::npos) << bob;

  const auto before = Records();
  CliRun malformed =
      RunInProcess({"edit", "Quests", "ann", "--data", R"({"coins":)", "--yes", "--db", db_});
  EXPECT_EQ(malformed.code, 1);
  EXPECT_EQ(malformed.err.rfind("holdfast edit: InvalidArgument: the data is not a JSON document "
                                "this store accepts (",
                                0),
            0u)
      << malformed.err;
  EXPECT_NE(malformed.err.find("; nothing was changed\n"), std::string::npos) << malformed.err;
  EXPECT_EQ(Records(), before);
  EXPECT_EQ(RunInProcess({"edit", "Quests", "ann", "--data", R"({ "name": "Ann", "coins": 7 })",
                          "--yes", "--db", db_})
                .code,
            0);
  CliRun ann = RunInProcess({"show", "Quests", "ann", "--db", db_, "--json"});
  EXPECT_NE(ann.out.find(R"("reason":"admin",)"), std::string::npos) << ann;
  EXPECT_NE(ann.out.find(R"("data_format":"json","data":{"coins":7,"name":"Ann"})"),
            std::string::npos)
      << ann;
}

TEST_F(CliOfflineWriteTest, ReleaseMessageAndErase) {
  EXPECT_EQ(RunInProcess({"release", "Players", "carol", "--yes", "--db", db_}),
            (CliRun{0,
                    "released Players/carol: cleared the lock its holder left (a new epoch: it "
                    "can never write again)\n",
                    ""}));
  EXPECT_EQ(RunInProcess({"sessions", "--db", db_, "--json"}).out, "[]\n");
  EXPECT_EQ(RunInProcess({"release", "Players", "alice", "--yes", "--db", db_}),
            (CliRun{1, "", "holdfast release: NotFound: profile 'alice' is not held by any session\n"}));

  EXPECT_EQ(RunInProcess({"message", "Players", "alice", "--data", "gift", "--db", db_}),
            (CliRun{0, "sent a message of 4 bytes to Players/alice\n", ""}));
  CliRun verify = RunInProcess({"verify", "--db", db_, "--json"});
  EXPECT_NE(verify.out.find(R"("messages":1,)"), std::string::npos) << verify;

  OpenDatabase();
  auto players = OpenPlayers();
  for (const char* key : {"alice", "bob"}) {
    auto profile = players.StartSession(key, SessionOptions{.user_ids = {-42}});
    ASSERT_OK(profile);
    ASSERT_OK(profile->EndSession());
  }
  CloseEngine();
  EXPECT_EQ(RunInProcess({"erase", "--user=-42", "--yes", "--db", db_}),
            (CliRun{0, "erased 2 profile(s) of user -42: Players/bob Players/alice\n", ""}));
  EXPECT_EQ(RunInProcess({"find-user", "--db", db_, "--json", "--", "-42"}).out, "[]\n");
  EXPECT_EQ(RunInProcess({"erase", "Players", "carol", "--yes", "--db", db_}),
            (CliRun{0, "erased Players/carol\n", ""}));
  EXPECT_EQ(RunInProcess({"show", "Players", "carol", "--db", db_}).code, 1);
  CliRun stores = RunInProcess({"stores", "--db", db_, "--json"});
  EXPECT_NE(stores.out.find(R"({"name":"Players","codec":"bytes","profiles":0,)"),
            std::string::npos)
      << stores;
}

// Each is refused as usage (exit 2) before the database is opened: --db names a path that
// holds none, which would be exit 1 if it were opened.
TEST_F(CliOfflineWriteTest, EveryCommandReportsAUsageError) {
  const std::vector<std::vector<std::string>> cases = {
      {"stores", "extra"},
      {"list"},
      {"list", "Players", "--limit", "-1"},
      {"show", "Players"},
      {"show", "Players", "alice", "--version", "latest"},
      {"versions", "Players", "alice", "--since", "yesterday"},
      {"versions", "Players", "alice", "--since", "2026-01-02", "--until", "2026-01-01"},
      {"sessions", "Players", "extra"},
      {"rollback", "Players", "alice", "--yes"},
      {"rollback", "Players", "alice", "--to", "1", "--as-of", "2026-01-01", "--yes"},
      {"rollback", "Players", "alice", "--as-of", "2026-13-01", "--yes"},
      {"verify", "Players"},
      {"stats", "--json", "extra"},
      {"checkpoint"},
      {"compact", "--json"},
      {"edit", "Players", "alice", "--yes"},
      {"edit", "Players", "alice", "--data", "x", "--file", "f", "--yes"},
      {"edit", "Players", "alice", "--data", "x"},
      {"release", "Players", "--yes"},
      {"message", "Players", "alice"},
      {"message", "Players", "alice", "--json", "--data", "x"},
      {"erase", "--yes"},
      {"erase", "Players", "--yes"},
      {"erase", "Players", "alice", "--user", "7", "--yes"},
      {"erase", "--user", "x7", "--yes"},
  };
  const std::string absent = dir_.Sub("absent");
  for (std::vector<std::string> args : cases) {
    const std::string command = args[0];
    args.insert(args.end(), {"--db", absent});
    CliRun run = RunInProcess(args);
    EXPECT_EQ(run.code, 2) << command << ": " << run.err;
    EXPECT_EQ(run.out, "") << command;
    EXPECT_EQ(run.err.rfind("holdfast " + command + ": ", 0), 0u) << run.err;
  }
  CliRun no_db = RunInProcess({"stores"});
  EXPECT_EQ(no_db.code, 2);
  EXPECT_EQ(no_db.err,
            "holdfast stores: no database given: pass --db PATH or set HOLDFAST_DB (see --help)\n");
}

}  // namespace
}  // namespace holdfast::test
