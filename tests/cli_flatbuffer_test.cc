// The admin CLI on a flatbuffers store (FlatbufferCodec over tests/schemas/hero_v2.fbs), as the
// real `holdfast` binary runs it: `show` renders a profile as JSON through the schema registered
// with the store (the CLI holds no game code), `stores` names the store's codec, and `verify`
// checks every payload, and the registered schema itself, as damage or not; an export carries the
// schema into an empty database, and an import checks payloads against it.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include "cli_test_util.h"
#include "hero_v2_bfbs_generated.h"
#include "hero_v2_generated.h"
#include "holdfast/flatbuffer_codec.h"
#include "internals.h"
#include "text_output.h"

namespace holdfast::test {
namespace {

using HeroCodec = FlatbufferCodec<game::Hero, game::HeroBinarySchema>;

// The fixture's database plus "Heroes": "ayla", saved once with every kind of field.
class CliFlatbufferTest : public CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    OpenDatabase();
    auto heroes = engine_->OpenStore<HeroCodec>("Heroes");
    ASSERT_OK(heroes);
    auto ayla = heroes->StartSession("ayla");
    ASSERT_OK(ayla);
    ASSERT_OK(ayla->Edit([](game::HeroT& hero) {
      hero.name = "ayla";
      hero.coins = 25;
      hero.stats = std::make_unique<game::StatsT>();
      hero.stats->hp = 80;
      hero.inventory.push_back(std::make_unique<game::ItemT>());
      hero.inventory.back()->name = "sword";
      hero.inventory.back()->count = 1;
      hero.class_ = game::Class::Mage;
      hero.position = std::make_unique<game::Position>(1.5f, -2.0f);
      hero.titles = {"rookie"};
    }));
    ASSERT_OK(ayla->EndSession());
    good_payload_ = HeroCodec::Encode(heroes->Get("ayla")->data).value();
    CloseEngine();
  }

  // Writes `payload` as the current data of Heroes/`key` and as its version 1 (which its meta
  // record does not list), past every check: what a server that opened the store at the byte
  // level might have saved.
  void WriteHeroPayload(const std::string& key, const std::string& payload) {
    const std::string codec(HeroCodec::kName);
    const std::string profile_key = internal::EncodeProfileKey("Heroes", key);
    WriteRaw(internal::Family::kData, profile_key,
             internal::EncodeProfileRecord({1, payload, codec, kStartUnixMs, 1}));
    WriteRaw(internal::Family::kVersions, internal::EncodeVersionKey("Heroes", key, 1),
             internal::EncodeVersionRecord(
                 {1, payload, codec, kStartUnixMs, VersionReason::kSave, 1, 0}));
    WriteRaw(internal::Family::kMeta, profile_key, internal::EncodeProfileMeta({}));
  }

  std::string good_payload_;
};

TEST_F(CliFlatbufferTest, ShowRendersTheProfileThroughTheRegisteredSchema) {
  CliRun json = RunBinary({"show", "Heroes", "ayla", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json;
  // Every field in id order, defaults included (gems, the sub-table's level), enums by name.
  const std::string data = R"("codec":"flatbuffer:game.Hero","data_format":"json",)"
                           R"("data":{"name":"ayla","coins":25,"stats":{"hp":80,"level":1},)"
                           R"("gems":5,"inventory":[{"name":"sword","count":1}],"class":"Mage",)"
                           R"("position":{"x":1.5,"y":-2.0},"titles":["rookie"]},)"
                           R"("payload_bytes":)" +
                           std::to_string(good_payload_.size()) + ",";
  EXPECT_NE(json.out.find(data), std::string::npos) << json;
  EXPECT_EQ(json.out.find("data_note"), std::string::npos) << json;
  EXPECT_EQ(json.err, "");

  CliRun text = RunBinary({"show", "Heroes", "ayla", "--db", db_});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("data           json, " + std::to_string(good_payload_.size()) +
                          " bytes, codec flatbuffer:game.Hero\n{\n  \"name\": \"ayla\",\n"
                          "  \"coins\": 25,\n"),
            std::string::npos)
      << text;
}

TEST_F(CliFlatbufferTest, StoresNameTheFlatbuffersCodec) {
  CliRun json = RunBinary({"stores", "--db", db_, "--json"});
  EXPECT_EQ(json.code, 0) << json;
  EXPECT_NE(json.out.find(R"({"name":"Heroes","codec":"flatbuffer:game.Hero","profiles":1,)"
                          R"("locked":0,"versions":2,"damaged":0,)"),
            std::string::npos)
      << json;
}

TEST_F(CliFlatbufferTest, VerifyReportsAPayloadTheSchemaRejectsAndShowFallsBackToHex) {
  CliRun clean = RunBinary({"verify", "--store", "Heroes", "--db", db_});
  EXPECT_EQ(clean.code, 0) << clean;

  OpenDatabase();
  std::string damaged = good_payload_;
  damaged[0] = '\xf0';  // the root offset points past the end: intact record, damaged payload
  damaged[3] = '\x7f';
  WriteHeroPayload("broken", damaged);
  std::string other = good_payload_;
  other.replace(4, 4, "ITEM");  // intact bytes of another kind: a disagreement, not damage
  WriteHeroPayload("stranger", other);
  CloseEngine();

  CliRun verify = RunBinary({"verify", "--store", "Heroes", "--db", db_, "--json"});
  EXPECT_EQ(verify.code, 1) << verify;
  EXPECT_NE(verify.out.find(R"("damaged":[{"store":"Heroes","key":"broken","record":"data",)"
                            R"("version":0,"reason":"payload: )"),
            std::string::npos)
      << verify;
  EXPECT_NE(verify.out.find(R"({"store":"Heroes","key":"broken","record":"version",)"
                            R"("version":1,"reason":"payload: )"),
            std::string::npos)
      << verify;
  EXPECT_EQ(verify.out.find("stranger"), std::string::npos) << verify;
  EXPECT_EQ(verify.out.find("ayla"), std::string::npos) << verify;

  CliRun show = RunBinary({"show", "Heroes", "broken", "--db", db_, "--json"});
  EXPECT_EQ(show.code, 0) << show;
  EXPECT_NE(show.out.find(R"("data_format":"hex","data":")" + cli::Hex(damaged) +
                          R"(","data_note":"the store's registered schema cannot render this )"
                          R"(payload: Corruption: )"),
            std::string::npos)
      << show;
  CliRun stranger = RunBinary({"show", "Heroes", "stranger", "--db", db_, "--json"});
  EXPECT_EQ(stranger.code, 0) << stranger;
  EXPECT_NE(stranger.out.find(R"(payload: InvalidArgument: )"), std::string::npos) << stranger;
}

TEST_F(CliFlatbufferTest, VerifyReportsARegisteredSchemaThatFailsItsChecks) {
  OpenDatabase();
  std::string bytes;
  ASSERT_OK(StorageOf(*engine_).Get(internal::Family::kDefault, internal::kManifestKey, &bytes));
  auto manifest = internal::DecodeManifest(bytes);
  ASSERT_OK(manifest);
  // As a schema registered by an older build that this one's checks refuse.
  internal::StoreEntry pets{"Pets", std::string(HeroCodec::kName), "not a schema", kStartUnixMs};
  auto& stores = manifest->stores;  // sorted by name
  stores.insert(std::lower_bound(stores.begin(), stores.end(), pets,
                                 [](const auto& a, const auto& b) { return a.name < b.name; }),
                pets);
  WriteRaw(internal::Family::kDefault, std::string(internal::kManifestKey),
           internal::EncodeManifest(*manifest));
  CloseEngine();

  CliRun verify = RunBinary({"verify", "--db", db_});
  EXPECT_EQ(verify.code, 1) << verify;
  EXPECT_NE(verify.out.find("damaged manifest Pets: the store's registered schema: "),
            std::string::npos)
      << verify;
  EXPECT_NE(verify.out.find(": 1 damaged\n"), std::string::npos) << verify;
}

}  // namespace
}  // namespace holdfast::test

namespace holdfast::test {
namespace {

TEST_F(CliFlatbufferTest, AnExportCarriesTheSchemaIntoAnEmptyDatabase) {
  const std::string file = dir_.Sub("heroes.jsonl");
  ASSERT_EQ(RunBinary({"export", "Heroes", "--out", file, "--db", db_}).code, 0);
  const std::string empty = dir_.Sub("empty-db");
  {
    auto engine = Engine::Open(empty, Options());
    ASSERT_OK(engine);
    ASSERT_OK((*engine)->Close());
  }
  CliRun imported = RunBinary({"import", "Heroes", "--in", file, "--yes", "--db", empty});
  ASSERT_EQ(imported.code, 0) << imported;
  // The empty database now renders the payload through the schema the file carried.
  CliRun show = RunBinary({"show", "Heroes", "ayla", "--db", empty, "--json"});
  EXPECT_NE(show.out.find(R"("data":{"name":"ayla","coins":25,)"), std::string::npos) << show;
  auto engine = Engine::Open(empty, Options(/*create=*/false));
  ASSERT_OK(engine);
  auto registration = (*engine)->Registration("Heroes");
  ASSERT_OK(registration);
  EXPECT_EQ(registration->schema,
            std::string(reinterpret_cast<const char*>(game::HeroBinarySchema::data()),
                        game::HeroBinarySchema::size()));
  auto heroes = (*engine)->OpenStore<HeroCodec>("Heroes");
  ASSERT_OK(heroes);
  auto ayla = heroes->StartSession("ayla");
  ASSERT_OK(ayla);
  ayla->Read([](const game::HeroT& hero) { EXPECT_EQ(hero.coins, 25); });
  ASSERT_OK(ayla->EndSession());
  ASSERT_OK((*engine)->Close());
}

TEST_F(CliFlatbufferTest, AnImportedPayloadTheSchemaRejectsChangesNothing) {
  const std::string file = dir_.Sub("heroes.jsonl");
  ASSERT_EQ(RunBinary({"export", "Heroes", "--out", file, "--db", db_}).code, 0);
  std::ifstream in(file);
  std::string header;
  std::getline(in, header);
  // "HERO" is not a flatbuffer of the schema.
  std::ofstream(file, std::ios::trunc) << header << "\n"
                                       << R"({"key":"ayla","data_base64":"SEVSTw=="})" << "\n"
                                       << R"({"holdfast_export_end":1})" << "\n";
  const auto records = Records();
  CliRun run = RunBinary({"import", "Heroes", "--in", file, "--yes", "--db", db_});
  EXPECT_EQ(run.code, 1) << run;
  EXPECT_NE(run.err.find("profile #1 ('ayla'): the payload fails the store's schema"),
            std::string::npos)
      << run;
  EXPECT_EQ(Records(), records);
}

}  // namespace
}  // namespace holdfast::test
