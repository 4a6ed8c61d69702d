// `holdfast export` and `holdfast import` on stopped databases, in-process: the file's lines,
// a round trip into an empty database, and every kind of bad file refused with the line named
// and nothing changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "holdfast/json_codec.h"
#include "internals.h"

namespace holdfast::test {
namespace {

constexpr char kHeader[] =
    R"({"holdfast_export":1,"store":"Players","codec":"bytes","schema_base64":null})";
constexpr char kBob[] =
    R"({"key":"bob","schema_version":0,"user_ids":[],"metadata":{},"data_base64":"Z29sZD01"})";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CliExportImportTest : public CliFixture {
 protected:
  // An empty database (no store) beside the fixture's.
  std::string EmptyDatabase() {
    const std::string path = dir_.Sub("empty-db");
    EngineOptions options = Options();
    auto engine = Engine::Open(path, options);
    EXPECT_OK(engine);
    if (engine.ok()) EXPECT_OK((*engine)->Close());
    return path;
  }
  const std::string file_ = dir_.Sub("players.jsonl");
};

TEST_F(CliExportImportTest, ExportWritesTheRegistrationEveryProfileAndTheCount) {
  CliRun run = RunInProcess({"export", "Players", "--out", file_, "--db", db_});
  ASSERT_EQ(run.code, 0) << run;
  EXPECT_EQ(run.out, "exported 3 profile(s) of Players to " + file_ + "\n");
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(ReadAll(file_),
            std::string(kHeader) + "\n" + kBob + "\n" +
                R"({"key":"alice","schema_version":0,"user_ids":[],"metadata":{},"data_base64":"Z29sZD0yMA=="})"
                "\n"
                R"({"key":"carol","schema_version":0,"user_ids":[],"metadata":{},"data_base64":"bmV3"})"
                "\n"
                R"({"holdfast_export_end":3})"
                "\n");
}

TEST_F(CliExportImportTest, ExportRefusesAnExistingFileAndAnUnknownStore) {
  WriteAll(file_, "keep me");
  CliRun exists = RunInProcess({"export", "Players", "--out", file_, "--db", db_});
  EXPECT_EQ(exists.code, 1);
  EXPECT_NE(exists.err.find("already exists; nothing was written"), std::string::npos) << exists;
  EXPECT_EQ(ReadAll(file_), "keep me");
  const std::string other = dir_.Sub("other.jsonl");
  CliRun unknown = RunInProcess({"export", "Nope", "--out", other, "--db", db_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("no store 'Nope'"), std::string::npos) << unknown;
  EXPECT_FALSE(std::filesystem::exists(other));  // no half export left behind
}

TEST_F(CliExportImportTest, AnExportImportsIntoAnEmptyDatabaseAndExportsAgainTheSame) {
  ASSERT_EQ(RunInProcess({"export", "Players", "--out", file_, "--db", db_}).code, 0);
  const std::string empty = EmptyDatabase();
  CliRun run = RunInProcess({"import", "Players", "--in", file_, "--yes", "--db", empty});
  ASSERT_EQ(run.code, 0) << run;
  EXPECT_EQ(run.out, "imported 3 profile(s) into Players: 3 created, 0 replaced\n");

  const std::string again = dir_.Sub("again.jsonl");
  ASSERT_EQ(RunInProcess({"export", "Players", "--out", again, "--db", empty}).code, 0);
  EXPECT_EQ(ReadAll(again), ReadAll(file_));
  CliRun show = RunInProcess({"show", "Players", "alice", "--db", empty, "--json"});
  EXPECT_NE(show.out.find(R"("version":1,"time")"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find(R"("reason":"admin")"), std::string::npos) << show.out;
  EXPECT_EQ(RunInProcess({"sessions", "--db", empty, "--json"}).out, "[]\n");  // carol is free
}

TEST_F(CliExportImportTest, AJsonStoreKeepsItsDocumentsUserIdsAndMetadata) {
  OpenDatabase();
  {
    auto heroes = engine_->OpenStore<JsonCodec>("Heroes");
    ASSERT_OK(heroes);
    auto hero = heroes->StartSession("h1");
    ASSERT_OK(hero);
    ASSERT_OK(hero->Edit([](nlohmann::json& d) { d = {{"hp", 5}, {"name", "Zoë"}}; }));
    ASSERT_OK(hero->AddUserId(42));
    ASSERT_OK(hero->SetMetadata("guild", "red"));
    ASSERT_OK(hero->EndSession());
  }
  CloseEngine();
  ASSERT_EQ(RunInProcess({"export", "Heroes", "--out", file_, "--db", db_}).code, 0);
  EXPECT_EQ(ReadAll(file_),
            R"({"holdfast_export":1,"store":"Heroes","codec":"json","schema_base64":null})"
            "\n"
            R"({"key":"h1","schema_version":0,"user_ids":[42],"metadata":{"guild":"red"},"data":{"hp":5,"name":"Zoë"}})"
            "\n"
            R"({"holdfast_export_end":1})"
            "\n");
  const std::string empty = EmptyDatabase();
  ASSERT_EQ(RunInProcess({"import", "Heroes", "--in", file_, "--yes", "--db", empty}).code, 0);
  CliRun found = RunInProcess({"find-user", "42", "--db", empty, "--json"});
  EXPECT_EQ(found.code, 0) << found;
  EXPECT_NE(found.out.find(R"("store":"Heroes","key":"h1")"), std::string::npos) << found.out;
  CliRun stores = RunInProcess({"stores", "--db", empty, "--json"});
  EXPECT_NE(stores.out.find(R"("name":"Heroes","codec":"json")"), std::string::npos) << stores;
}

struct BadFile {
  std::string name;
  std::string bytes;
  std::string error;  // a part of stderr
};

TEST_F(CliExportImportTest, ABadFileIsRefusedNamingTheLineAndChangesNothing) {
  const std::string header = std::string(kHeader) + "\n";
  const std::string bob = std::string(kBob) + "\n";
  const std::string end1 = "{\"holdfast_export_end\":1}\n";
  const std::vector<BadFile> cases = {
      {"empty", "", "the file is empty"},
      {"cut inside a line", header + R"({"key":"bob","data_base64":"Z2)",
       "line 2: the file ends inside this line (truncated)"},
      {"cut at a line boundary", header + bob, "ends without the export's end line (truncated)"},
      {"no final newline", header + bob + "{\"holdfast_export_end\":1}",
       "line 3: the file ends inside this line (truncated)"},
      {"binary garbage", std::string("\x00\xff\x13garbage\n", 12), "line 1: not valid JSON"},
      {"no header", bob + end1, "line 1: not an export header"},
      {"malformed line", header + "{\"key\":bob}\n" + end1, "line 2: not valid JSON"},
      {"not an object", header + "[1,2]\n" + end1, "line 2: not a JSON object"},
      {"a second header", header + header + end1, "line 2: a second export header"},
      {"a key twice", header + bob + bob + "{\"holdfast_export_end\":2}\n",
       "line 3: key 'bob' is already on line 2"},
      {"bad base64", header + R"({"key":"bob","data_base64":"Z29sZD0*"})" + "\n" + end1,
       "line 2: \"data_base64\" is not a base64 string"},
      {"a JSON document in a bytes store", header + R"({"key":"bob","data":{}})" + "\n" + end1,
       "line 2: unknown member \"data\""},
      {"a user id of the wrong type",
       header + R"({"key":"bob","user_ids":["1"],"data_base64":""})" + "\n" + end1,
       "line 2: a user id is not a 64-bit whole number"},
      {"a wrong count", header + bob + "{\"holdfast_export_end\":5}\n",
       "line 3: the end line says 5 profiles, the file has 1"},
      {"text after the end", header + bob + end1 + bob, "line 4: text after the export's end line"},
      {"a newer format", R"({"holdfast_export":2,"store":"Players","codec":"bytes"})" "\n",
       "line 1: export format 2 is not one this build reads (1)"},
      {"a registration that disagrees",
       R"({"holdfast_export":1,"store":"Players","codec":"json","schema_base64":null})"
       "\n"
       R"({"key":"bob","data":{"gold":5}})"
       "\n" +
           end1,
       "store 'Players' is registered with codec 'bytes', the import's is 'json'"},
      {"a held lock", header + R"({"key":"carol","data_base64":"bmV3"})" + "\n" + end1,
       "profile 'carol' is held by 'admin-test-server'"},
  };
  const auto records = Records();
  const std::string stores = RunInProcess({"stores", "--db", db_, "--json"}).out;
  for (const BadFile& bad : cases) {
    SCOPED_TRACE(bad.name);
    WriteAll(file_, bad.bytes);
    CliRun run = RunInProcess({"import", "Players", "--in", file_, "--yes", "--db", db_});
    EXPECT_EQ(run.code, 1) << run;
    EXPECT_EQ(run.out, "");
    EXPECT_NE(run.err.find(bad.error), std::string::npos) << run;
    EXPECT_NE(run.err.find("nothing was imported"), std::string::npos) << run;
    EXPECT_EQ(Records(), records);
    EXPECT_EQ(RunInProcess({"stores", "--db", db_, "--json"}).out, stores);
  }
}

TEST_F(CliExportImportTest, ThroughLockTakesTheOrphanedLockOver) {
  WriteAll(file_, std::string(kHeader) + "\n" + R"({"key":"carol","data_base64":"Z29sZD01"})" +
                      "\n{\"holdfast_export_end\":1}\n");
  CliRun run =
      RunInProcess({"import", "Players", "--in", file_, "--yes", "--through-lock", "--db", db_});
  ASSERT_EQ(run.code, 0) << run;
  EXPECT_EQ(run.out, "imported 1 profile(s) into Players: 0 created, 1 replaced\n");
  EXPECT_EQ(RunInProcess({"sessions", "--db", db_, "--json"}).out, "[]\n");
  CliRun show = RunInProcess({"show", "Players", "carol", "--db", db_});
  EXPECT_NE(show.out.find("gold=5"), std::string::npos) << show.out;
}

TEST_F(CliExportImportTest, ImportWithoutYesRefusesBeforeReadingAnything) {
  const auto records = Records();
  CliRun run = RunInProcess({"import", "Players", "--in", file_, "--db", db_});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("without --yes"), std::string::npos) << run;
  CliRun no_file = RunInProcess({"import", "Players", "--yes", "--db", db_});
  EXPECT_EQ(no_file.code, 2);
  EXPECT_NE(no_file.err.find("missing --in FILE"), std::string::npos) << no_file;
  EXPECT_EQ(Records(), records);
}

}  // namespace
}  // namespace holdfast::test
