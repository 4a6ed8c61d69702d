// The admin CLI's read commands on a stopped database, in-process: stores, list, show, versions,
// sessions and stats, as text and as JSON (exact fields), and their errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_test_util.h"
#include "holdfast/json_codec.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using CliOfflineTest = CliFixture;

TEST_F(CliOfflineTest, StoresAsJsonAndText) {
  CliRun json = RunInProcess({"stores", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out, R"([{"name":"Guilds","codec":"bytes","profiles":1,"locked":0,"versions":2,)"
                      R"("damaged":0,"created":"2026-01-01T00:00:00.000Z"},)"
                      R"({"name":"Players","codec":"bytes","profiles":3,"locked":1,"versions":6,)"
                      R"("damaged":0,"created":"2026-01-01T00:00:00.000Z"}])"
                      "\n");
  EXPECT_EQ(json.err, "");
  CliRun text = RunInProcess({"stores", "--db", db_});
  EXPECT_EQ(text.code, 0);
  EXPECT_EQ(text.out,
            "STORE    CODEC  PROFILES  LOCKED  VERSIONS  DAMAGED  CREATED\n"
            "Guilds   bytes  1         0       2         0        2026-01-01T00:00:00.000Z\n"
            "Players  bytes  3         1       6         0        2026-01-01T00:00:00.000Z\n");
}

TEST_F(CliOfflineTest, ListAsJsonWithPrefixAndLimit) {
  CliRun all = RunInProcess({"list", "Players", "--db", db_, "--json"});
  EXPECT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out,
            R"([{"key":"bob","version":2,"locked":false,"updated":"2026-01-01T00:00:03.000Z",)"
            R"("payload_bytes":6},)"
            R"({"key":"alice","version":3,"locked":false,"updated":"2026-01-01T00:00:02.000Z",)"
            R"("payload_bytes":7},)"
            R"({"key":"carol","version":1,"locked":true,"updated":"2026-01-01T00:00:04.000Z",)"
            R"("payload_bytes":3}])"
            "\n");
  EXPECT_EQ(all.err, "");

  CliRun page = RunInProcess({"list", "Players", "--db", db_, "--limit", "1", "--prefix", "a"});
  EXPECT_EQ(page.code, 0) << page.err;
  EXPECT_EQ(page.out,
            "KEY    VERSION  UPDATED                   LOCKED  BYTES\n"
            "alice  3        2026-01-01T00:00:02.000Z  no      7\n");
  EXPECT_EQ(page.err, "");  // no other key starts with "a": nothing more

  CliRun first = RunInProcess({"list", "Players", "--db", db_, "--limit", "2"});
  EXPECT_NE(first.err.find("continue with --after 'alice'"), std::string::npos) << first.err;
  CliRun rest = RunInProcess({"list", "Players", "--db", db_, "--after", "alice", "--json"});
  EXPECT_NE(rest.out.find(R"("key":"carol")"), std::string::npos) << rest.out;
  EXPECT_EQ(rest.out.find(R"("key":"bob")"), std::string::npos) << rest.out;
}

TEST_F(CliOfflineTest, ShowAsJsonHasDataLockAndHistory) {
  CliRun json = RunInProcess({"show", "Players", "carol", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out,
            R"({"store":"Players","key":"carol","version":1,"time":"2026-01-01T00:00:04.000Z",)"
            R"("reason":"create","epoch":1,"source_version":0,"schema_version":0,"codec":"bytes",)"
            R"("data_format":"hex","data":"6e6577","payload_bytes":3,)"
            R"("lock":{"store":"Players","key":"carol","epoch":1,"owner":"admin-test-server",)"
            R"("since":"2026-01-01T00:00:04.000Z",)"
            R"("session_id":4,"incarnation":1,"orphaned":true},)"
            R"("load_count":1,"user_ids":[],"metadata":{},)"
            R"("created":"2026-01-01T00:00:04.000Z","updated":"2026-01-01T00:00:04.000Z",)"
            R"("first_session":"2026-01-01T00:00:04.000Z","last_version":1})"
            "\n");

  CliRun old = RunInProcess({"show", "Players", "alice", "--version", "2", "--db", db_});
  EXPECT_EQ(old.code, 0) << old.err;
  EXPECT_NE(old.out.find("version        2 (save, 2026-01-01T00:00:01.000Z, epoch 1)"),
            std::string::npos)
      << old.out;
  EXPECT_NE(old.out.find("lock           free"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("00000000  67 6f 6c 64 3d 31 30"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("|gold=10|"), std::string::npos) << old.out;
}

TEST_F(CliOfflineTest, ShowRendersAJsonStoresDocument) {
  OpenDatabase();
  auto quests = engine_->OpenStore<JsonCodec>("Quests");
  ASSERT_OK(quests);
  {
    auto ann = quests->StartSession("ann");
    ASSERT_OK(ann);
    ASSERT_OK(ann->Edit([](nlohmann::json& d) { d = {{"name", "Ann"}, {"coins", 5}}; }));
    ASSERT_OK(ann->EndSession());
  }
  // Intact bytes the JSON codec refuses (a disagreement) are shown as hex, saying why.
  WriteRaw(internal::Family::kData, internal::EncodeProfileKey("Quests", "bob"),
           internal::EncodeProfileRecord({1, "not json", "json", kStartUnixMs, 1}));
  WriteRaw(internal::Family::kMeta, internal::EncodeProfileKey("Quests", "bob"),
           internal::EncodeProfileMeta({}));
  CloseEngine();

  CliRun json = RunInProcess({"show", "Quests", "ann", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_NE(
      json.out.find(R"("codec":"json","data_format":"json","data":{"coins":5,"name":"Ann"},)"),
      std::string::npos)
      << json.out;
  CliRun text = RunInProcess({"show", "Quests", "ann", "--db", db_});
  EXPECT_NE(text.out.find("data           json, 24 bytes, codec json\n{\n  \"coins\": 5,\n"),
            std::string::npos)
      << text.out;
  CliRun refused = RunInProcess({"show", "Quests", "bob", "--db", db_, "--json"});
  EXPECT_EQ(refused.code, 0) << refused.err;
  EXPECT_NE(refused.out.find(R"("data_format":"hex","data":"6e6f74206a736f6e","data_note":)"),
            std::string::npos)
      << refused.out;
}

TEST_F(CliOfflineTest, VersionsNewestFirstWithinATimeRange) {
  CliRun json = RunInProcess({"versions", "Players", "alice", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out,
            R"([{"version":3,"time":"2026-01-01T00:00:02.000Z","reason":"save","epoch":1,)"
            R"("source_version":0,"payload_bytes":7,"damaged":false,"partners":[],"schema_version":0},)"
            R"({"version":2,"time":"2026-01-01T00:00:01.000Z","reason":"save","epoch":1,)"
            R"("source_version":0,"payload_bytes":7,"damaged":false,"partners":[],"schema_version":0},)"
            R"({"version":1,"time":"2026-01-01T00:00:00.000Z","reason":"create","epoch":1,)"
            R"("source_version":0,"payload_bytes":3,"damaged":false,"partners":[],"schema_version":0}])"
            "\n");
  // --since in ISO-8601, --until in unix seconds (2026-01-01T00:00:01Z), both inclusive.
  CliRun range = RunInProcess({"versions", "Players", "alice", "--db", db_, "--since",
                               "2026-01-01T00:00:00.500Z", "--until", "1767225601"});
  EXPECT_EQ(range.code, 0) << range.err;
  EXPECT_EQ(range.out,
            "VERSION  TIME                      REASON  EPOCH  FROM  BYTES  WITH\n"
            "2        2026-01-01T00:00:01.000Z  save    1      -     7      -\n");
  CliRun limited = RunInProcess({"versions", "Players", "alice", "--db", db_, "--limit", "1"});
  EXPECT_EQ(limited.out.find("\n2 "), std::string::npos) << limited.out;
  EXPECT_NE(limited.out.find("\n3 "), std::string::npos) << limited.out;
}

TEST_F(CliOfflineTest, DiffIsAJsonPatchForAJsonStoreAndABytesComparisonOtherwise) {
  OpenDatabase();
  auto quests = engine_->OpenStore<JsonCodec>("Quests");
  ASSERT_OK(quests);
  {
    auto ann = quests->StartSession("ann");  // version 1: the template (null)
    ASSERT_OK(ann);
    ASSERT_OK(ann->Edit([](nlohmann::json& d) { d = {{"coins", 5}, {"quest", "rat"}}; }));
    ASSERT_OK(ann->Save());  // 2
    ASSERT_OK(ann->Edit([](nlohmann::json& d) { d = {{"coins", 7}, {"name", "Ann"}}; }));
    ASSERT_OK(ann->EndSession());  // 3
  }
  CloseEngine();
  EXPECT_EQ(RunInProcess({"diff", "Quests", "ann", "2", "3", "--db", db_, "--json"}),
            (CliRun{0,
                    R"({"format":"json-patch","from":2,"to":3,"patch":[)"
                    R"({"op":"replace","path":"/coins","value":7},)"
                    R"({"op":"remove","path":"/quest"},)"
                    R"({"op":"add","path":"/name","value":"Ann"}]})"
                    "\n",
                    ""}));
  EXPECT_EQ(RunInProcess({"diff", "Quests", "ann", "3", "3", "--db", db_}),
            (CliRun{0, "versions 3 and 3 of Quests/ann hold the same document\n", ""}));
  EXPECT_EQ(RunInProcess({"diff", "Players", "alice", "1", "2", "--db", db_}),
            (CliRun{0, "versions 1 and 2 of Players/alice differ: 3 bytes, then 7 bytes\n", ""}));
  CliRun missing = RunInProcess({"diff", "Players", "alice", "1", "9", "--db", db_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("version 9 of 'alice' does not exist"), std::string::npos) << missing;
  EXPECT_EQ(RunInProcess({"diff", "Players", "alice", "1", "two", "--db", db_}).code, 2);
}

TEST_F(CliOfflineTest, SessionsListOrphanedLocks) {
  CliRun json = RunInProcess({"sessions", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out, R"([{"store":"Players","key":"carol","epoch":1,"owner":"admin-test-server",)"
                      R"("since":"2026-01-01T00:00:04.000Z",)"
                      R"("session_id":4,"incarnation":1,"orphaned":true}])"
                      "\n");
  CliRun guilds = RunInProcess({"sessions", "Guilds", "--db", db_, "--json"});
  EXPECT_EQ(guilds.code, 0) << guilds.err;
  EXPECT_EQ(guilds.out, "[]\n");
  CliRun text = RunInProcess({"sessions", "--db", db_});
  EXPECT_EQ(text.out,
            "STORE    KEY    EPOCH  OWNER              SINCE                     STATE\n"
            "Players  carol  1      admin-test-server  2026-01-01T00:00:04.000Z  orphaned\n");
}

TEST_F(CliOfflineTest, FindUserListsTheProfilesThatCarryAnId) {
  OpenDatabase();
  auto players = OpenPlayers();
  for (const char* key : {"alice", "bob"}) {
    auto profile = players.StartSession(key);
    ASSERT_OK(profile);
    ASSERT_OK(profile->AddUserId(-42));
    ASSERT_OK(profile->EndSession());
  }
  CloseEngine();
  EXPECT_EQ(RunInProcess({"find-user", "--db", db_, "--json", "--", "-42"}),
            (CliRun{0,
                    R"([{"store":"Players","key":"bob"},{"store":"Players","key":"alice"}])"
                    "\n",
                    ""}));
  EXPECT_EQ(RunInProcess({"find-user", "7", "--db", db_}), (CliRun{0, "STORE  KEY\n", ""}));
  CliRun bad = RunInProcess({"find-user", "4x2", "--db", db_});
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(bad.err, "holdfast find-user: <id> '4x2' is not a 64-bit integer (see --help)\n");
}

TEST_F(CliOfflineTest, StatsCountWhatTheDatabaseHolds) {
  CliRun json = RunInProcess({"stats", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find(R"("format_version":1,"stores":2,"profiles":4,"locked":1,)"
                          R"("versions":8,"damaged":0,"disk_bytes":)"),
            std::string::npos)
      << json.out;
  // Opened directly, there is no running engine whose counters mean anything.
  EXPECT_TRUE(json.out.ends_with(R"(,"live":null})"
                                 "\n"))
      << json.out;
  CliRun text = RunInProcess({"stats", "--db", db_});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("live counters   unavailable: no running server answered on the admin "
                          "socket (the database was opened directly)\n"),
            std::string::npos)
      << text.out;
}

TEST_F(CliOfflineTest, UnknownStoreOrKeyIsAnErrorOnStderr) {
  CliRun store = RunInProcess({"list", "Nobody", "--db", db_});
  EXPECT_EQ(store.code, 1);
  EXPECT_EQ(store.out, "");
  EXPECT_EQ(store.err,
            "holdfast list: NotFound: no store 'Nobody' in this database (stores: Guilds, "
            "Players)\n");
  CliRun key = RunInProcess({"show", "Players", "nobody", "--db", db_});
  EXPECT_EQ(key.code, 1);
  EXPECT_EQ(key.out, "");
  EXPECT_EQ(key.err, "holdfast show: NotFound: no profile 'nobody'\n");
  CliRun version = RunInProcess({"show", "Players", "alice", "--version", "9", "--db", db_});
  EXPECT_EQ(version.code, 1);
  EXPECT_NE(version.err.find("version 9 of 'alice' does not exist"), std::string::npos)
      << version.err;
}

TEST_F(CliOfflineTest, APathThatIsNoDatabaseIsAnErrorAndStaysUntouched) {
  CliRun missing = RunInProcess({"stores", "--db", dir_.Sub("absent")});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no Holdfast database at"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("absent")));

  const std::string plain = dir_.Sub("plain");
  std::filesystem::create_directory(plain);
  { std::ofstream(plain + "/notes.txt") << "not a database"; }
  const auto before = SnapshotDirectory(plain);
  CliRun not_db = RunInProcess({"verify", "--db", plain});
  EXPECT_EQ(not_db.code, 1);
  EXPECT_NE(not_db.err.find("no Holdfast database at"), std::string::npos) << not_db.err;
  EXPECT_EQ(SnapshotDirectory(plain), before);
}

// The fixture's engines serve no admin socket, as a server that turned it off.
TEST_F(CliOfflineTest, ADatabaseHeldByAnEngineWithoutASocketIsReadReadOnly) {
  const std::string offline = RunInProcess({"stores", "--db", db_}).out;
  OpenDatabase();
  CliRun held = RunInProcess({"stores", "--db", db_});
  EXPECT_EQ(held.code, 0) << held;
  EXPECT_EQ(held.out, offline);
  EXPECT_NE(held.err.find("reading it read-only"), std::string::npos) << held.err;
  CliRun write = RunInProcess({"compact", "--db", db_});
  EXPECT_EQ(write.code, 1);
  EXPECT_EQ(write.out, "");
  EXPECT_NE(write.err.find("is already open"), std::string::npos) << write.err;
  EXPECT_NE(write.err.find("no admin socket answers"), std::string::npos) << write.err;
}

}  // namespace
}  // namespace holdfast::test
