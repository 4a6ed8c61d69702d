// FlatbufferCodec (issue 13): the codec on its own — name, round trip, fields added later,
// damage against disagreement, Reconcile — and flatbuffers stores end to end: the schema
// registered with the store, schema evolution at reopen (compatible replaces, incompatible is
// refused and changes nothing), damage repaired by the corruption policy, JSON rendering from the
// registered schema alone, and reconcile of a nested absent sub-table in a session.
//
// The game's current release is tests/schemas/hero_v2.fbs (generated C++ below). Its first
// release, hero_v1.fbs, exists only as a binary schema and payloads built from JSON with it, as
// records an older server left on disk.
#include "holdfast/flatbuffer_codec.h"

#include <flatbuffers/idl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "hero_v2_bfbs_generated.h"
#include "hero_v2_generated.h"
#include "holdfast/render.h"
#include "internals.h"
#include "key_codec.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using HeroCodec = FlatbufferCodec<game::Hero, game::HeroBinarySchema>;
using game::HeroT;
using FlatbufferStoreTest = SessionTest;

std::string SchemaFile(const std::string& name) {
  std::ifstream in(std::string(HOLDFAST_TEST_SCHEMA_DIR) + "/" + name, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  EXPECT_FALSE(bytes.str().empty()) << "missing " << name;
  return bytes.str();
}

// A payload built from JSON with a binary schema, as an older release of the game wrote it.
std::string PayloadFromJson(const std::string& bfbs, const std::string& json) {
  flatbuffers::Parser parser;
  EXPECT_TRUE(parser.Deserialize(reinterpret_cast<const uint8_t*>(bfbs.data()), bfbs.size()));
  EXPECT_TRUE(parser.Parse(json.c_str())) << parser.error_;
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

HeroT Ayla() {
  HeroT hero;
  hero.name = "ayla";
  hero.coins = 25;
  hero.stats = std::make_unique<game::StatsT>();
  hero.stats->hp = 80;
  return hero;
}

// --- the codec alone ---

TEST(FlatbufferCodecTest, IsNamedAfterTheRootTable) {
  EXPECT_EQ(HeroCodec::kName, "flatbuffer:game.Hero");
  EXPECT_EQ(HeroCodec::BinarySchema(),
            std::string_view(reinterpret_cast<const char*>(game::HeroBinarySchema::data()),
                             game::HeroBinarySchema::size()));
}

TEST(FlatbufferCodecTest, RoundTripsEveryKindOfField) {
  HeroT hero = Ayla();
  hero.stats->skills = std::make_unique<game::SkillsT>();
  hero.stats->skills->bow = 3;
  hero.gems = 0;  // a scalar at zero, not its default (5)
  hero.inventory.push_back(std::make_unique<game::ItemT>());
  hero.inventory.back()->name = "sword";
  hero.inventory.back()->count = 1;
  hero.class_ = game::Class::Mage;
  hero.position = std::make_unique<game::Position>(1.5f, -2.0f);
  hero.titles = {"rookie", "slayer"};
  auto bytes = HeroCodec::Encode(hero);
  ASSERT_OK(bytes);
  EXPECT_EQ(bytes->substr(4, 4), "HERO");  // the schema's file identifier
  auto back = HeroCodec::Decode(*bytes);
  ASSERT_OK(back);
  EXPECT_TRUE(*back == hero);
  EXPECT_EQ(HeroCodec::Encode(*back).value(), *bytes);  // deterministic: unchanged saves skip
}

TEST(FlatbufferCodecTest, AFieldAddedLaterReadsAsItsDefault) {
  const std::string v1 = PayloadFromJson(SchemaFile("hero_v1.bfbs"),
                                         R"({"name": "bo", "coins": 7, "stats": {"hp": 3}})");
  auto hero = HeroCodec::Decode(v1);
  ASSERT_OK(hero);
  EXPECT_EQ(hero->name, "bo");
  EXPECT_EQ(hero->coins, 7);
  EXPECT_EQ(hero->stats->hp, 3);
  EXPECT_EQ(hero->stats->level, 1);
  EXPECT_EQ(hero->stats->skills, nullptr);
  EXPECT_EQ(hero->gems, 5);  // v2's default
  EXPECT_TRUE(hero->inventory.empty());
  EXPECT_EQ(hero->class_, game::Class::Warrior);
  EXPECT_EQ(hero->position, nullptr);
}

TEST(FlatbufferCodecTest, DamagedBytesAreCorruptionIntactBytesOfAnotherKindInvalidArgument) {
  const std::string good = HeroCodec::Encode(Ayla()).value();
  std::string bad_root = good;
  bad_root[0] = '\xf0';  // the root offset points past the end
  bad_root[3] = '\x7f';
  EXPECT_CODE(HeroCodec::Decode(bad_root), kCorruption);
  EXPECT_CODE(HeroCodec::Decode(good.substr(0, good.size() - 6)), kCorruption);  // truncated
  EXPECT_CODE(HeroCodec::Decode(""), kCorruption);
  std::string other = good;
  other.replace(4, 4, "ITEM");  // intact bytes another program wrote
  auto refused = HeroCodec::Decode(other);
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("file identifier 'HERO'"), std::string::npos)
      << refused.status();
}

TEST(FlatbufferCodecTest, ReconcileFillsAbsentSubTablesRecursivelyAndNeverOverwrites) {
  HeroT tmpl;
  tmpl.name = "newcomer";
  tmpl.coins = 100;
  tmpl.gems = 9;
  tmpl.stats = std::make_unique<game::StatsT>();
  tmpl.stats->hp = 100;
  tmpl.stats->skills = std::make_unique<game::SkillsT>();
  tmpl.stats->skills->sword = 1;
  tmpl.position = std::make_unique<game::Position>(4.0f, 4.0f);
  tmpl.titles = {"rookie"};

  HeroT data = Ayla();  // stats present, without skills
  ASSERT_OK(HeroCodec::Reconcile(data, tmpl));
  ASSERT_NE(data.stats, nullptr);
  ASSERT_NE(data.stats->skills, nullptr);  // the nested absent sub-table, from the template
  EXPECT_EQ(data.stats->skills->sword, 1);
  EXPECT_EQ(data.stats->hp, 80);  // present: kept
  EXPECT_EQ(data.name, "ayla");
  EXPECT_EQ(data.coins, 25);
  EXPECT_EQ(data.gems, 5);            // scalars are never filled
  EXPECT_EQ(data.position, nullptr);  // nor structs,
  EXPECT_TRUE(data.titles.empty());   // vectors

  HeroT bare;  // no stats at all: the template's whole table
  ASSERT_OK(HeroCodec::Reconcile(bare, tmpl));
  ASSERT_NE(bare.stats, nullptr);
  EXPECT_TRUE(*bare.stats == *tmpl.stats);
  EXPECT_EQ(bare.name, "");  // nor strings

  HeroT complete = data;  // nothing absent: unchanged
  ASSERT_OK(HeroCodec::Reconcile(complete, tmpl));
  EXPECT_TRUE(complete == data);
}

// --- flatbuffers stores ---

Store<HeroCodec> OpenHeroes(Engine& engine, HeroT tmpl = {}) {
  StoreOptions<HeroT> options;
  options.template_value = std::move(tmpl);
  auto store = engine.OpenStore<HeroCodec>("Heroes", options);
  EXPECT_OK(store);
  return std::move(*store);
}

// Opens "Heroes" at the byte level with a binary schema, as a server of another release does.
Result<RawStore> OpenHeroesRaw(Engine& engine, const std::string& schema,
                               const std::string& template_payload) {
  return engine.OpenRawStore("Heroes", HeroCodec::kName, StoreSettings{}, template_payload, nullptr,
                             schema);
}

std::string Manifest(Engine& engine) {
  std::string bytes;
  EXPECT_OK(internal::RunTransaction(StorageOf(engine), [&](internal::StorageTransaction& txn) {
    return txn.Get(internal::Family::kDefault, internal::kManifestKey, &bytes);
  }));
  return bytes;
}

TEST_F(FlatbufferStoreTest, SessionsSaveHeroesAndTheStoreRegistersItsSchema) {
  auto heroes = OpenHeroes(*engine_);
  {
    auto p = heroes.StartSession("ayla");
    ASSERT_OK(p);
    EXPECT_EQ(p->Data().gems, 5);  // the template: a default HeroT
    ASSERT_OK(p->Edit([](HeroT& d) { d = Ayla(); }));
    ASSERT_OK(p->EndSession());
  }
  EXPECT_EQ(StoredPayload("Heroes", "ayla"), HeroCodec::Encode(Ayla()).value());
  auto view = heroes.Get("ayla");
  ASSERT_OK(view);
  EXPECT_TRUE(view->data == Ayla());
  auto registered = engine_->Registration("Heroes");
  ASSERT_OK(registered);
  EXPECT_EQ(registered->codec, "flatbuffer:game.Hero");
  EXPECT_EQ(registered->schema, HeroCodec::BinarySchema());
  EXPECT_CODE(engine_->Registration("Villains"), kNotFound);
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("Heroes"), kInvalidArgument);  // another codec
}

TEST_F(FlatbufferStoreTest, ACompatibleSchemaReplacesTheRegisteredOneAndOldProfilesReadInIt) {
  const std::string v1 = SchemaFile("hero_v1.bfbs");
  {
    // The first release: its server registers v1 and stores a profile.
    auto raw = OpenHeroesRaw(*engine_, v1,
                             PayloadFromJson(v1, R"({"name": "bo", "coins": 7, "stats": {}})"));
    ASSERT_OK(raw);
    auto s = raw->StartSession("bo");
    ASSERT_OK(s);
    ASSERT_OK(s->EndSession());
    EXPECT_EQ(engine_->Registration("Heroes")->schema, v1);
  }
  ReopenEngine();  // the second release
  auto heroes = OpenHeroes(*engine_);
  EXPECT_EQ(engine_->Registration("Heroes")->schema, HeroCodec::BinarySchema());
  auto p = heroes.StartSession("bo");
  ASSERT_OK(p);
  const HeroT bo = p->Data();
  EXPECT_EQ(bo.name, "bo");
  EXPECT_EQ(bo.coins, 7);
  EXPECT_EQ(bo.gems, 5);  // added in v2: its default
  EXPECT_EQ(bo.stats->hp, 100);
}

TEST_F(FlatbufferStoreTest, AnIncompatibleSchemaIsRefusedNamingWhyAndChangesNothing) {
  const std::string v1 = SchemaFile("hero_v1.bfbs");
  ASSERT_OK(OpenHeroesRaw(*engine_, v1, PayloadFromJson(v1, R"({"coins": 1})")));
  ReopenEngine();
  const std::string manifest = Manifest(*engine_);
  auto refused = OpenHeroesRaw(*engine_, SchemaFile("hero_v2_incompatible.bfbs"),
                               PayloadFromJson(v1, R"({"coins": 1})"));
  ASSERT_CODE(refused, kInvalidArgument);
  const std::string why = refused.status().message();
  EXPECT_NE(why.find("store 'Heroes'"), std::string::npos) << why;
  EXPECT_NE(why.find("field 'game.Hero.coins' (id 1) changed type from long to int"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("field 'game.Stats.level' (id 1) changed its default"), std::string::npos)
      << why;
  EXPECT_EQ(Manifest(*engine_), manifest);  // byte for byte
  EXPECT_EQ(engine_->Registration("Heroes")->schema, v1);
  // The compatible release still opens.
  auto heroes = OpenHeroes(*engine_);
  EXPECT_EQ(engine_->Registration("Heroes")->schema, HeroCodec::BinarySchema());
}

TEST_F(FlatbufferStoreTest, AnOlderReleaseCannotOpenAStoreANewerOneRegistered) {
  { auto heroes = OpenHeroes(*engine_); }
  ReopenEngine();
  const std::string v1 = SchemaFile("hero_v1.bfbs");
  auto refused = OpenHeroesRaw(*engine_, v1, PayloadFromJson(v1, "{}"));
  ASSERT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find(
                "field 'game.Hero.gems' (id 3) was removed; keep it and mark it (deprecated)"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(engine_->Registration("Heroes")->schema, HeroCodec::BinarySchema());
}

TEST_F(FlatbufferStoreTest, SchemasAreCheckedBeforeAnythingIsRegistered) {
  const std::string v1 = SchemaFile("hero_v1.bfbs");
  // Only flatbuffer codecs take a schema; the schema's root must be the codec's; bytes that are
  // not a binary schema are refused.
  EXPECT_CODE(engine_->OpenRawStore("Heroes", "json", StoreSettings{}, "{}", nullptr, v1),
              kInvalidArgument);
  EXPECT_CODE(
      engine_->OpenRawStore("Heroes", "flatbuffer:game.Stats", StoreSettings{}, "", nullptr, v1),
      kInvalidArgument);
  EXPECT_CODE(OpenHeroesRaw(*engine_, "not a schema", ""), kInvalidArgument);
  EXPECT_CODE(engine_->Registration("Heroes"), kNotFound);  // nothing registered
  // A store open in this engine with one schema cannot be opened with another.
  ASSERT_OK(OpenHeroesRaw(*engine_, v1, PayloadFromJson(v1, "{}")));
  StoreOptions<HeroT> options;
  auto second = engine_->OpenStore<HeroCodec>("Heroes", options);
  ASSERT_CODE(second, kInvalidArgument);
  EXPECT_NE(second.status().message().find("already open in this engine with another schema"),
            std::string::npos)
      << second.status();
  EXPECT_EQ(engine_->Registration("Heroes")->schema, v1);
}

TEST_F(FlatbufferStoreTest, ADamagedPayloadIsRepairedByTheDefaultPolicy) {
  auto heroes = OpenHeroes(*engine_);
  {
    auto p = heroes.StartSession("cy");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](HeroT& d) { d = Ayla(); }));
    ASSERT_OK(p->EndSession());  // version 2 (1 is the template)
  }
  // Bytes with an intact record checksum that the flatbuffers verifier refuses.
  std::string damaged = HeroCodec::Encode(Ayla()).value();
  damaged[0] = static_cast<char>(0xf0);
  damaged[3] = static_cast<char>(0x7f);
  internal::ProfileRecord record;
  record.version = 2;
  record.payload = damaged;
  record.codec = std::string(HeroCodec::kName);
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    return txn.Put(internal::Family::kData, internal::EncodeProfileKey("Heroes", "cy"),
                   internal::EncodeProfileRecord(record));
  }));
  EXPECT_CODE(heroes.Get("cy"), kCorruption);
  auto p = heroes.StartSession("cy");
  ASSERT_OK(p);
  EXPECT_TRUE(p->Data() == Ayla());  // the newest valid version, restored
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 1u);
  EXPECT_EQ(engine_->Stats().disagreements, 0u);
  RawStore raw = heroes.raw();
  auto quarantined = raw.Get("cy", 3);
  ASSERT_OK(quarantined);
  EXPECT_EQ(quarantined->version.reason, VersionReason::kQuarantine);
  EXPECT_EQ(quarantined->payload, damaged);  // kept as evidence
}

TEST_F(FlatbufferStoreTest, ProfilesRenderAsJsonFromTheRegisteredSchemaAlone) {
  {
    auto heroes = OpenHeroes(*engine_);
    auto p = heroes.StartSession("ayla");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](HeroT& d) {
      d = Ayla();
      d.titles = {"rookie"};
      d.class_ = game::Class::Mage;
    }));
    ASSERT_OK(p->EndSession());
  }
  ReopenEngine();
  // A tool without the game's code: the registration and the bytes.
  auto registered = engine_->Registration("Heroes");
  ASSERT_OK(registered);
  auto raw = engine_->OpenRawStore("Heroes", registered->codec, StoreSettings{}, "");
  ASSERT_OK(raw);
  auto view = raw->Get("ayla");
  ASSERT_OK(view);
  auto json = RenderJson(registered->codec, registered->schema, view->payload);
  ASSERT_OK(json);
  EXPECT_EQ(*json,
            R"({"name":"ayla","coins":25,"stats":{"hp":80,"level":1},"gems":5,"class":"Mage",)"
            R"("titles":["rookie"]})");
  // Opening at the byte level kept the registered schema.
  EXPECT_EQ(engine_->Registration("Heroes")->schema, HeroCodec::BinarySchema());
}

TEST_F(FlatbufferStoreTest, ReconcileInASessionFillsANestedAbsentSubTable) {
  {
    auto heroes = OpenHeroes(*engine_);
    auto p = heroes.StartSession("dex");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](HeroT& d) { d = Ayla(); }));  // stats {hp 80}, no skills
    ASSERT_OK(p->EndSession());
  }
  ReopenEngine();  // the next release's template gives every hero a skill table
  HeroT tmpl;
  tmpl.stats = std::make_unique<game::StatsT>();
  tmpl.stats->skills = std::make_unique<game::SkillsT>();
  tmpl.stats->skills->sword = 1;
  auto heroes = OpenHeroes(*engine_, tmpl);
  auto p = heroes.StartSession("dex");
  ASSERT_OK(p);
  ASSERT_OK(p->Reconcile());
  ASSERT_OK(p->Save());
  auto registered = engine_->Registration("Heroes");
  auto json = RenderJson(registered->codec, registered->schema,
                         StoredPayload("Heroes", "dex").value_or(""));
  ASSERT_OK(json);
  EXPECT_EQ(*json,
            R"({"name":"ayla","coins":25,"stats":{"hp":80,"level":1,"skills":{"sword":1,"bow":0}},)"
            R"("gems":5,"class":"Warrior"})");
}

// Migrations on a flatbuffers store: the steps work on the object-API value.
TEST_F(FlatbufferStoreTest, AMigrationStepRunsOnceOnAFlatbuffersProfile) {
  {
    auto heroes = OpenHeroes(*engine_);
    auto ayla = heroes.StartSession("ayla");
    ASSERT_OK(ayla);
    ASSERT_OK(ayla->Edit([](HeroT& h) { h = Ayla(); }));
    ASSERT_OK(ayla->EndSession());
  }
  ReopenEngine();
  StoreOptions<HeroT> options;
  options.migrations = {{"double-coins", [](HeroT& h) {
                           h.coins *= 2;
                           return Status::Ok();
                         }}};
  auto heroes = engine_->OpenStore<HeroCodec>("Heroes", options);
  ASSERT_OK(heroes);
  for (int start = 0; start < 2; ++start) {  // the second start finds version 1: no step runs
    auto ayla = heroes->StartSession("ayla");
    ASSERT_OK(ayla);
    EXPECT_EQ(ayla->Read([](const HeroT& h) { return h.coins; }), 50);
    ASSERT_OK(ayla->EndSession());
  }
  RawStore raw = heroes->raw();
  auto view = raw.Get("ayla");
  ASSERT_OK(view);
  EXPECT_EQ(view->version.schema_version, 1u);
}

}  // namespace
}  // namespace holdfast::test
