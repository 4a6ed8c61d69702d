// The CLI's formats: times in and out, JSON strings of arbitrary bytes, text made safe for a
// terminal, and hex dumps.
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

#include "json_output.h"
#include "text_output.h"
#include "time_format.h"

namespace holdfast::cli {
namespace {

constexpr int64_t k2026 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

TEST(CliTimeTest, FormatsIsoUtcWithMilliseconds) {
  EXPECT_EQ(FormatTime(k2026), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(k2026 + 86'399'999), "2026-01-01T23:59:59.999Z");
  EXPECT_EQ(FormatTime(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999Z");
}

TEST(CliTimeTest, ParsesIsoUtcDatesAndUnixSeconds) {
  EXPECT_EQ(ParseTime("2026-01-01T00:00:00.000Z"), k2026);
  EXPECT_EQ(ParseTime("2026-01-01T00:00:01Z"), k2026 + 1'000);
  EXPECT_EQ(ParseTime("2026-01-01T00:01Z"), k2026 + 60'000);
  EXPECT_EQ(ParseTime("2026-01-01T00:00:00.5Z"), k2026 + 500);
  EXPECT_EQ(ParseTime("2026-01-01T00:00:00.123456Z"), k2026 + 123);
  EXPECT_EQ(ParseTime("2026-01-01"), k2026);
  EXPECT_EQ(ParseTime("1767225600"), k2026);
  EXPECT_EQ(ParseTime("0"), 0);
  for (int64_t ms : {k2026, k2026 + 1, int64_t{951'782'400'123}}) {
    EXPECT_EQ(ParseTime(FormatTime(ms)), ms) << ms;
  }
}

TEST(CliTimeTest, RefusesWhatIsNotATimeInTheseForms) {
  for (const char* text :
       {"", "yesterday", "2026-13-01", "2026-02-30", "2026-01-01T24:00Z", "2026-01-01T00:60Z",
        "2026-01-01T00:00:60Z", "2026-01-01T00:00", "2026-01-01T00:00+01:00", "2026-01-01 00:00Z",
        "2026-01-01T00:00:00.Z", "2026-1-1", "-5", "99999999999999999999", "1e9"}) {
    EXPECT_EQ(ParseTime(text), std::nullopt) << text;
  }
}

std::string JsonOf(std::string_view value) {
  std::ostringstream out;
  PrintJson(out, Json(value));
  return out.str();
}

// The CLI's JSON settings: UTF-8 kept as is, control characters escaped, bytes that are not
// UTF-8 replaced rather than an exception.
TEST(CliJsonTest, StringsAreEscapedAndAlwaysValidUtf8) {
  EXPECT_EQ(JsonOf("plain"), "\"plain\"\n");
  EXPECT_EQ(JsonOf("say \"hi\" \\ bye"), R"("say \"hi\" \\ bye")"
                                         "\n");
  EXPECT_EQ(JsonOf(std::string("a\nb\0c\x1b", 6)), R"("a\nb\u0000c\u001b")"
                                                   "\n");
  EXPECT_EQ(JsonOf("caf\xc3\xa9 \xf0\x9f\x90\x89"), "\"caf\xc3\xa9 \xf0\x9f\x90\x89\"\n");
  EXPECT_EQ(JsonOf("bad \xff byte"), "\"bad \xef\xbf\xbd byte\"\n");
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(IsUtf8("\xff"));
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsUtf8("cut \xc3"));
}

TEST(CliJsonTest, MembersKeepTheOrderTheyWereAddedIn) {
  std::ostringstream out;
  Json object = {{"b", 1}, {"a", Json::array({-2, true, nullptr})}};
  object["c"] = Json::object();
  PrintJson(out, object);
  EXPECT_EQ(out.str(), R"({"b":1,"a":[-2,true,null],"c":{}})"
                       "\n");
}

TEST(CliTextTest, PrintableKeepsTextAndEscapesWhatCouldSteerATerminal) {
  EXPECT_EQ(Printable("player-1 caf\xc3\xa9"), "player-1 caf\xc3\xa9");
  EXPECT_EQ(Printable("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(Printable("a\\b"), "a\\x5cb");
  EXPECT_EQ(Printable(std::string("\0\xff\xc2\x9b", 4)), "\\x00\\xff\\xc2\\x9b");
}

TEST(CliTextTest, HexAndHexDump) {
  EXPECT_EQ(Hex("\x01\xab"), "01ab");
  // The layout of `hexdump -C`.
  EXPECT_EQ(HexDump("gold=10"),
            "00000000  67 6f 6c 64 3d 31 30                              |gold=10|\n");
  EXPECT_EQ(HexDump(std::string(17, 'x')),
            "00000000  78 78 78 78 78 78 78 78  78 78 78 78 78 78 78 78  |xxxxxxxxxxxxxxxx|\n"
            "00000010  78                                                |x|\n");
}

TEST(CliTextTest, TablesAlignColumns) {
  Table table({"KEY", "VERSION"});
  table.Add({"alice", "3"});
  table.Add({"caf\xc3\xa9", "12"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(), "KEY    VERSION\nalice  3\ncaf\xc3\xa9   12\n");
}

}  // namespace
}  // namespace holdfast::cli
