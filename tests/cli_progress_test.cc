// Progress bars of the long scans (export, import, list, verify): drawn on stderr only when it is a
// terminal and the output is not --json, and erased when done; never in a pipe.
#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"
#include "progress.h"

namespace holdfast::test {
namespace {

using cli::ProgressLine;

TEST(ProgressLineTest, ShowsTheShareDoneOrTheCountAlone) {
  EXPECT_EQ(ProgressLine("export Players", 5, 10, "profiles", 10),
            "export Players [#####.....] 5/10 profiles");
  EXPECT_EQ(ProgressLine("export Players", 12, 10, "profiles", 10),
            "export Players [##########] 12/10 profiles");  // more than counted: a full bar
  EXPECT_EQ(ProgressLine("list Players", 7, 0, "profiles"), "list Players 7 profiles");
}

class CliProgressTest : public CliFixture {
 protected:
  const std::string file_ = dir_.Sub("players.jsonl");
};

TEST_F(CliProgressTest, OnATerminalExportDrawsABarAndErasesIt) {
  CliRun run = RunBinaryOnTerminal({"export", "Players", "--out", file_, "--db", db_});
  EXPECT_EQ(run.code, 0) << run;
  EXPECT_EQ(run.out, "exported 3 profile(s) of Players to " + file_ + "\n");
  // The first profile draws at once; the bar is erased before the summary is printed.
  EXPECT_TRUE(run.err.starts_with("\rexport Players [######..............] 1/3 profiles"))
      << run;
  EXPECT_TRUE(run.err.ends_with("\r")) << run;
  EXPECT_EQ(run.err.find('\n'), std::string::npos) << run;
}

TEST_F(CliProgressTest, OnATerminalImportAndListDrawTheirBarsButNotWithJson) {
  ASSERT_EQ(RunBinary({"export", "Players", "--out", file_, "--db", db_}).code, 0);
  CliRun import = RunBinaryOnTerminal(
      {"import", "Players", "--in", file_, "--yes", "--through-lock", "--db", db_});
  EXPECT_EQ(import.code, 0) << import;
  EXPECT_TRUE(import.err.starts_with("\rimport: checking " + file_ + " [")) << import;
  CliRun list = RunBinaryOnTerminal({"list", "Players", "--db", db_});
  EXPECT_EQ(list.code, 0) << list;
  EXPECT_TRUE(list.err.starts_with("\rlist Players [####################] 3/3 profiles")) << list;
  CliRun json = RunBinaryOnTerminal({"list", "Players", "--json", "--db", db_});
  EXPECT_EQ(json.code, 0) << json;
  EXPECT_EQ(json.err, "");
}

TEST_F(CliProgressTest, OnATerminalVerifyDrawsABarOfTheProfilesChecked) {
  CliRun run = RunBinaryOnTerminal({"verify", "--db", db_});
  EXPECT_EQ(run.code, 0) << run;
  EXPECT_TRUE(run.out.ends_with(": 0 damaged\n")) << run;
  // Players' three profiles and Guilds' one; the first draws at once.
  EXPECT_TRUE(run.err.starts_with("\rverify [#####...............] 1/4 profiles")) << run;
  EXPECT_TRUE(run.err.ends_with("\r")) << run;
  CliRun json = RunBinaryOnTerminal({"verify", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json;
  EXPECT_EQ(json.err, "");
}

TEST_F(CliProgressTest, InAPipeNothingIsDrawn) {
  CliRun exported = RunBinary({"export", "Players", "--out", file_, "--db", db_});
  EXPECT_EQ(exported.code, 0) << exported;
  EXPECT_EQ(exported.err, "");
  CliRun list = RunBinary({"list", "Players", "--db", db_});
  EXPECT_EQ(list.code, 0) << list;
  EXPECT_EQ(list.err, "");
}

}  // namespace
}  // namespace holdfast::test
