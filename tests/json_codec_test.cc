// JsonCodec (issue 13): the codec on its own — stored form, limits, what it refuses, Reconcile —
// and a JSON store end to end: sessions, validate, reconcile of nested objects, read-only views,
// and stored bytes the codec refuses (a disagreement, not damage).
#include "holdfast/json_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using nlohmann::json;
using JsonStoreTest = SessionTest;

// --- the codec alone ---

TEST(JsonCodecTest, RoundTripsAndWritesSortedCompactText) {
  json doc = {{"zeta", 1}, {"alpha", {{"b", true}, {"a", nullptr}}}, {"list", {3, 2.5, "x"}}};
  auto bytes = JsonCodec::Encode(doc);
  ASSERT_OK(bytes);
  EXPECT_EQ(*bytes, R"({"alpha":{"a":null,"b":true},"list":[3,2.5,"x"],"zeta":1})");
  auto back = JsonCodec::Decode(*bytes);
  ASSERT_OK(back);
  EXPECT_EQ(*back, doc);
  // Equal documents built in another order are equal bytes (so an unchanged save writes nothing).
  json same;
  same["list"] = {3, 2.5, "x"};
  same["zeta"] = 1;
  same["alpha"]["b"] = true;
  same["alpha"]["a"] = nullptr;
  EXPECT_EQ(JsonCodec::Encode(same).value(), *bytes);
}

TEST(JsonCodecTest, BytesThatAreNotAJsonDocumentAreInvalidArgument) {
  for (std::string bad : {"", "{", "{\"a\":}", "[1,2", "nul", "{\"a\":1} trailing", "\xff\xfe"}) {
    auto decoded = JsonCodec::Decode(bad);
    EXPECT_CODE(decoded, kInvalidArgument) << "input: " << bad;
  }
  EXPECT_CODE(JsonCodec::Decode("\"\xc3\x28\""), kInvalidArgument);  // a string that is not UTF-8
}

TEST(JsonCodecTest, DocumentsNestedTooDeepAreRefusedOnBothSides) {
  const int deep = JsonCodec::kMaxDepth + 1;
  std::string text = std::string(deep, '[') + std::string(deep, ']');
  auto decoded = JsonCodec::Decode(text);
  EXPECT_CODE(decoded, kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("nested deeper"), std::string::npos);
  // Exactly at the limit is fine.
  const int limit = JsonCodec::kMaxDepth;
  ASSERT_OK(JsonCodec::Decode(std::string(limit, '[') + std::string(limit, ']')));
  // Brackets inside strings do not count.
  ASSERT_OK(JsonCodec::Decode("[\"" + std::string(1000, '[') + "\\\"\"]"));
  // Far beyond the limit the reader still does not recurse: a clear error, no crash.
  EXPECT_CODE(JsonCodec::Decode(std::string(1'000'000, '[')), kInvalidArgument);

  json nested = json::array();
  for (int i = 1; i < deep; ++i) nested = json::array({nested});
  EXPECT_CODE(JsonCodec::Encode(nested), kInvalidArgument);
}

TEST(JsonCodecTest, NumbersThatAreNotFiniteCannotBeStored) {
  json doc = {{"hp", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_CODE(JsonCodec::Encode(doc), kInvalidArgument);
  doc = {{"hp", {1.0, std::numeric_limits<double>::infinity()}}};
  EXPECT_CODE(JsonCodec::Encode(doc), kInvalidArgument);
}

TEST(JsonCodecTest, AStringThatIsNotUtf8CannotBeStored) {
  json doc = {{"name", std::string("\xc3\x28")}};
  auto encoded = JsonCodec::Encode(doc);
  EXPECT_CODE(encoded, kInvalidArgument);
}

TEST(JsonCodecTest, ReconcileFillsWhatIsMissingRecursivelyAndNeverOverwrites) {
  json tmpl = {{"coins", 0},
               {"settings", {{"music", true}, {"volume", 5}, {"keys", {{"jump", "space"}}}}},
               {"inventory", {"starter-sword"}},
               {"title", "rookie"}};
  json data = {{"coins", 120},
               {"settings", {{"volume", 9}, {"keys", {{"fire", "x"}}}}},
               {"inventory", json::array()},
               {"title", 7}};
  JsonCodec::Reconcile(data, tmpl);
  EXPECT_EQ(data, (json{{"coins", 120},
                        {"settings",
                         {{"music", true}, {"volume", 9}, {"keys", {{"fire", "x"}, {"jump", "space"}}}}},
                        {"inventory", json::array()},  // arrays are not merged
                        {"title", 7}}));               // a type mismatch is left alone
}

// --- a JSON store ---

Store<JsonCodec> OpenJson(Engine& engine, std::function<void(StoreOptions<json>&)> tweak = nullptr) {
  StoreOptions<json> options;
  options.template_value = {{"coins", 0}, {"settings", {{"music", true}}}};
  if (tweak) tweak(options);
  auto store = engine.OpenStore<JsonCodec>("Heroes", options);
  EXPECT_OK(store);
  return std::move(*store);
}

TEST_F(JsonStoreTest, SessionsLoadEditAndSaveJsonDocuments) {
  auto heroes = OpenJson(*engine_);
  {
    auto p = heroes.StartSession("ayla");
    ASSERT_OK(p);
    EXPECT_EQ(p->Data(), (json{{"coins", 0}, {"settings", {{"music", true}}}}));
    ASSERT_OK(p->Edit([](json& d) { d["coins"] = d["coins"].get<int>() + 25; }));
    ASSERT_OK(p->EndSession());
  }
  EXPECT_EQ(StoredPayload("Heroes", "ayla"), R"({"coins":25,"settings":{"music":true}})");
  auto view = heroes.Get("ayla");
  ASSERT_OK(view);
  EXPECT_EQ(view->data["coins"], 25);
  EXPECT_EQ(engine_->Info().stores, std::vector<std::string>{"Heroes"});
  // The codec is registered: a store of another codec cannot open it.
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("Heroes"), kInvalidArgument);
}

TEST_F(JsonStoreTest, ReconcileInASessionAddsNewTemplateFieldsToOldProfiles) {
  {
    auto heroes = OpenJson(*engine_);
    auto p = heroes.StartSession("bo");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](json& d) { d = {{"coins", 7}, {"settings", {{"music", false}}}}; }));
    ASSERT_OK(p->EndSession());
  }
  ReopenEngine();  // the next release adds fields to the template
  auto heroes = OpenJson(*engine_, [](StoreOptions<json>& o) {
    o.template_value = {{"coins", 0}, {"gems", 0}, {"settings", {{"music", true}, {"hud", "full"}}}};
  });
  auto p = heroes.StartSession("bo");
  ASSERT_OK(p);
  ASSERT_OK(p->Reconcile());
  EXPECT_EQ(p->Data(),
            (json{{"coins", 7}, {"gems", 0}, {"settings", {{"music", false}, {"hud", "full"}}}}));
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredPayload("Heroes", "bo"),
            R"({"coins":7,"gems":0,"settings":{"hud":"full","music":false}})");
}

TEST_F(JsonStoreTest, ValidateGuardsJsonSavesAndLoads) {
  auto heroes = OpenJson(*engine_, [](StoreOptions<json>& o) {
    o.validate = [](const json& d) {
      return d.value("coins", 0) >= 0 ? Status::Ok()
                                      : Status::InvalidArgument("coins must not be negative");
    };
  });
  auto p = heroes.StartSession("cy");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](json& d) { d["coins"] = -5; }));
  Status refused = p->Save();
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.message().find("coins must not be negative"), std::string::npos) << refused;
  EXPECT_EQ(StoredPayload("Heroes", "cy"), R"({"coins":0,"settings":{"music":true}})");
  EXPECT_TRUE(p->IsActive());
  ASSERT_OK(p->Edit([](json& d) { d["coins"] = 3; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Heroes", "cy"), R"({"coins":3,"settings":{"music":true}})");
}

TEST_F(JsonStoreTest, StoredBytesThatAreNotJsonAreADisagreementAndChangeNothing) {
  auto raw = engine_->OpenRawStore("Heroes", JsonCodec::kName, StoreSettings{},
                                   R"({"coins":0})");
  ASSERT_OK(raw);
  {
    // Another program wrote intact bytes that are not JSON through the byte-level API.
    auto s = raw->StartSession("dex");
    ASSERT_OK(s);
    ASSERT_OK(s->EndSession());
  }
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    internal::ProfileRecord record;
    record.payload = "coins=12";
    record.version = 1;
    record.codec = std::string(JsonCodec::kName);
    return txn.Put(internal::Family::kData, internal::EncodeProfileKey("Heroes", "dex"),
                   internal::EncodeProfileRecord(record));
  }));
  ReopenEngine();
  auto heroes = OpenJson(*engine_);
  const auto before = RawRecords("Heroes", "dex");
  auto refused = heroes.StartSession("dex");
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not a JSON document"), std::string::npos)
      << refused.status();
  EXPECT_EQ(RawRecords("Heroes", "dex"), before);
  EXPECT_CODE(heroes.Get("dex"), kInvalidArgument);
}

}  // namespace
}  // namespace holdfast::test
