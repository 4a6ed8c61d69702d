// The admin CLI's dispatch, help and exit codes, run in-process.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "cli_test_util.h"
#include "command.h"
#include "holdfast/engine.h"

namespace holdfast::cli {
namespace {

using test::CliRun;
CliRun RunArgs(std::vector<std::string> args) { return test::RunInProcess(std::move(args)); }

TEST(CliTest, HelpListsEveryCommand) {
  CliRun r = RunArgs({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const auto& entry : Commands()) EXPECT_NE(r.out.find(entry.name), std::string::npos);
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, NoCommandIsUsageError) {
  CliRun r = RunArgs({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("Usage"), std::string::npos);
  EXPECT_EQ(r.out, "");
}

TEST(CliTest, UnknownCommandIsUsageError) {
  CliRun r = RunArgs({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'\n"), std::string::npos) << r.err;
}

TEST(CliTest, UnknownCommandSuggestsTheNearestName) {
  for (const auto& [typed, meant] : std::vector<std::pair<std::string, std::string>>{
           {"lst", "list"},          // a letter missing
           {"verfiy", "verify"},     // two swapped
           {"sesions", "sessions"},  // a letter missing from a long name
           {"check", "checkpoint"},  // the start of exactly one name
           {"store", "stores"}}) {
    CliRun r = RunArgs({typed});
    EXPECT_EQ(r.code, kExitUsage) << typed;
    EXPECT_NE(r.err.find("unknown command '" + typed + "'; did you mean '" + meant + "'?"),
              std::string::npos)
        << r.err;
  }
}

TEST(CliTest, VersionPrintsTextAndJson) {
  CliRun text = RunArgs({"version"});
  EXPECT_EQ(text.code, kExitOk);
  EXPECT_EQ(text.out, "holdfast " + std::string(Version()) + " (on-disk format " +
                          std::to_string(SupportedFormatVersion()) + ")\n");
  CliRun json = RunArgs({"version", "--json"});
  EXPECT_EQ(json.code, kExitOk);
  EXPECT_EQ(json.out, "{\"version\":\"" + std::string(Version()) + "\",\"format_version\":" +
                          std::to_string(SupportedFormatVersion()) + "}\n");
}

TEST(CliTest, EveryCommandHasHelpAndRejectsUnknownOptions) {
  for (const auto& entry : Commands()) {
    CliRun help = RunArgs({std::string(entry.name), "--help"});
    EXPECT_EQ(help.code, kExitOk) << entry.name;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << entry.name;
    CliRun bad = RunArgs({std::string(entry.name), "--no-such-option"});
    EXPECT_EQ(bad.code, kExitUsage) << entry.name;
    EXPECT_NE(bad.err.find("no-such-option"), std::string::npos) << entry.name << ": " << bad.err;
    EXPECT_EQ(bad.out, "") << entry.name;
  }
}

TEST(CliTest, StrayPositionalArgumentIsUsageError) {
  CliRun r = RunArgs({"version", "extra"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("unexpected argument 'extra'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace holdfast::cli
