// Binary schemas from disk (issue 13): the checks a .bfbs passes before anything reads it
// (FlatbufferSchema::Parse), the payload checks (verifier, file identifier, alignment), the
// schema-evolution rules (CheckSchemaEvolution), and RenderJson's answers for every codec.
#include "flatbuffer_schema.h"

#include <flatbuffers/idl.h>
#include <flatbuffers/reflection_generated.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "aligned_bytes.h"
#include "holdfast/render.h"
#include "schema_evolution.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using reflection::BaseType;

// A binary schema compiled from .fbs text with flatbuffers' own parser, as flatc would.
std::string Bfbs(const std::string& fbs) {
  flatbuffers::Parser parser;
  EXPECT_TRUE(parser.Parse(fbs.c_str())) << parser.error_;
  parser.Serialize();
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

std::string Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// --- schemas flatc would never write, built field by field ---

struct FieldSpec {
  std::string name;
  uint16_t id = 0;
  BaseType base = reflection::Int;
  int32_t index = -1;
  BaseType element = reflection::None;
  int offset = -1;  // -1: the slot of `id` (tables) or 0 (structs)
  bool deprecated = false;
  bool key = false;
};
struct ObjectSpec {
  std::string name;
  std::vector<FieldSpec> fields;
  bool is_struct = false;
  int32_t minalign = 1;
  int32_t bytesize = 0;
};

// `objects` must be given sorted by name: their positions are the indices fields refer to.
// A union "U" whose member 1 is object `union_member` is added when that is >= 0.
std::string BuildSchema(const std::vector<ObjectSpec>& objects, const std::string& root,
                        int union_member = -1) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<reflection::Object>> built;
  flatbuffers::Offset<reflection::Object> root_offset;
  for (const ObjectSpec& o : objects) {
    std::vector<flatbuffers::Offset<reflection::Field>> fields;
    for (const FieldSpec& f : o.fields) {
      auto type = reflection::CreateType(fbb, f.base, f.element, f.index);
      const int slot = f.offset >= 0 ? f.offset : (o.is_struct ? 0 : 4 + 2 * f.id);
      fields.push_back(reflection::CreateFieldDirect(
          fbb, f.name.c_str(), type, f.id, static_cast<uint16_t>(slot), 0, 0.0, f.deprecated,
          /*required=*/false, f.key));
    }
    auto offset = reflection::CreateObjectDirect(fbb, o.name.c_str(), &fields, o.is_struct,
                                                 o.minalign, o.bytesize);
    built.push_back(offset);
    if (o.name == root) root_offset = offset;
  }
  std::vector<flatbuffers::Offset<reflection::Enum>> enums;
  if (union_member >= 0) {
    std::vector<flatbuffers::Offset<reflection::EnumVal>> values{
        reflection::CreateEnumValDirect(fbb, "NONE", 0),
        reflection::CreateEnumValDirect(
            fbb, "Member", 1,
            reflection::CreateType(fbb, reflection::Obj, reflection::None, union_member))};
    enums.push_back(reflection::CreateEnumDirect(fbb, "U", &values, true,
                                                 reflection::CreateType(fbb, reflection::UType)));
  }
  auto schema = reflection::CreateSchemaDirect(fbb, &built, &enums, nullptr, nullptr, root_offset);
  reflection::FinishSchemaBuffer(fbb, schema);
  return Bytes(fbb);
}

Status ParseStatus(const std::string& bytes) { return FlatbufferSchema::Parse(bytes).status(); }

void ExpectRefused(const std::string& bytes, const std::string& why) {
  Status s = ParseStatus(bytes);
  EXPECT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.message().find(why), std::string::npos) << s << "\nexpected: " << why;
}

TEST(FlatbufferSchemaTest, AcceptsWhatFlatcWritesAndRefusesWhatIsNotASchema) {
  const std::string good = Bfbs("table T { a: int; } root_type T;");
  ASSERT_OK(ParseStatus(good));
  ExpectRefused("", "no 'BFBS' file identifier");
  ExpectRefused("hello, world", "no 'BFBS' file identifier");
  ExpectRefused(good.substr(0, good.size() / 2), "fails verification");
  ExpectRefused(Bfbs("table T { a: int; }"), "declares no root table");
}

TEST(FlatbufferSchemaTest, AcceptsEveryKindOfTypeFlatcWrites) {
  for (const char* fbs : {
           "enum E : int { A = 5, B = 10 } table T { e: E = B; es: [E]; } root_type T;",
           "struct P { a: [int:4]; b: byte; } table T { p: P; ps: [P]; } root_type T;",
           "table A { x: int; } table B { y: [long]; } union U { A, B }"
           "table R { many: [U]; one: U; } root_type R;",
           "table T { next: T; all: [T]; } root_type T;",
           "table Q { a: int; } rpc_service Svc { Get(Q): Q; } root_type Q;",
       }) {
    EXPECT_OK(ParseStatus(Bfbs(fbs))) << fbs;
  }
}

TEST(FlatbufferSchemaTest, RefusesSchemasReadersWouldMisread) {
  // Sanity: the builder makes schemas the checker accepts.
  ASSERT_OK(ParseStatus(BuildSchema({{"T", {{"a", 0}}}}, "T")));
  ExpectRefused(BuildSchema({{"T", {{"a", 1}}}}, "T"), "do not run from 0 without gaps");
  // A default the field's type cannot hold: flatbuffers' text generator aborts on it
  // (fuzz/corpus/schema_render/regress-default-out-of-range).
  {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<reflection::Field>> fields{reflection::CreateFieldDirect(
        fbb, "a", reflection::CreateType(fbb, reflection::Short), 0, 4, /*default_integer=*/70000)};
    std::vector<flatbuffers::Offset<reflection::Object>> objects{
        reflection::CreateObjectDirect(fbb, "T", &fields)};
    std::vector<flatbuffers::Offset<reflection::Enum>> enums;
    reflection::FinishSchemaBuffer(
        fbb, reflection::CreateSchemaDirect(fbb, &objects, &enums, nullptr, nullptr, objects[0]));
    ExpectRefused(Bytes(fbb), "field 'T.a' has a default its type cannot hold");
  }
  // A name that repeats in one of the schema loader's symbol tables: it frees the definition
  // twice (fuzz/corpus/schema_render/regress-duplicate-enum-value-name).
  {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<reflection::EnumVal>> values{
        reflection::CreateEnumValDirect(fbb, "Red", 0),
        reflection::CreateEnumValDirect(fbb, "Red", 1)};
    std::vector<flatbuffers::Offset<reflection::Enum>> enums{reflection::CreateEnumDirect(
        fbb, "Color", &values, false, reflection::CreateType(fbb, reflection::Byte))};
    std::vector<flatbuffers::Offset<reflection::Field>> fields{reflection::CreateFieldDirect(
        fbb, "a", reflection::CreateType(fbb, reflection::Int), 0, 4)};
    std::vector<flatbuffers::Offset<reflection::Object>> objects{
        reflection::CreateObjectDirect(fbb, "T", &fields)};
    reflection::FinishSchemaBuffer(
        fbb, reflection::CreateSchemaDirect(fbb, &objects, &enums, nullptr, nullptr, objects[0]));
    ExpectRefused(Bytes(fbb), "enum 'Color' repeats a value name");
  }
  {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<reflection::Field>> fields{reflection::CreateFieldDirect(
        fbb, "a", reflection::CreateType(fbb, reflection::String), 0, 4, 0, 0.0,
        /*deprecated=*/false, /*required=*/true, false, nullptr, nullptr, /*optional=*/true)};
    std::vector<flatbuffers::Offset<reflection::Object>> objects{
        reflection::CreateObjectDirect(fbb, "T", &fields)};
    std::vector<flatbuffers::Offset<reflection::Enum>> enums;
    reflection::FinishSchemaBuffer(
        fbb, reflection::CreateSchemaDirect(fbb, &objects, &enums, nullptr, nullptr, objects[0]));
    ExpectRefused(Bytes(fbb), "field 'T.a' is required and optional");
  }
  // Names that are not identifiers (lookups compare them as C strings), and two key fields (the
  // loader frees one twice: regress-two-key-fields).
  ExpectRefused(BuildSchema({{"T", {{"a b", 0}}}}, "T"), "name that is no identifier");
  ExpectRefused(BuildSchema({{"T.", {{"a", 0}}}}, "T."), "name that is no identifier");
  ASSERT_OK(ParseStatus(BuildSchema({{"game.v2.T", {{"_a1", 0}}}}, "game.v2.T")));
  ExpectRefused(BuildSchema({{"T",
                              {{"a", 0, reflection::Int, -1, reflection::None, -1, false, true},
                               {"b", 1, reflection::Int, -1, reflection::None, -1, false, true}}}},
                            "T"),
                "more than one key field");
  // A type byte naming no BaseType (fuzz/corpus/schema_render/regress-type-byte-out-of-range).
  ExpectRefused(BuildSchema({{"T", {{"a", 0, static_cast<BaseType>(25)}}}}, "T"),
                "a field of 'T' has no type");
  ExpectRefused(BuildSchema({{"T", {{"a", 0, reflection::Int, -1, reflection::None, 8}}}}, "T"),
                "slot that does not match its id");
  ExpectRefused(BuildSchema({{"T", {{"a", 0, reflection::Obj, 7}}}}, "T"), "names no object");
  ExpectRefused(BuildSchema({{"T", {{"a", 0, reflection::Int, 3}}}}, "T"), "names enum 3");
  ExpectRefused(BuildSchema({{"T", {{"a", 0, reflection::Array}}}}, "T"),
                "unsupported type in a table");
  // A struct field that lies outside its struct, and one that is misaligned.
  ExpectRefused(BuildSchema({{"S", {{"x", 0, reflection::Long}}, true, 8, 4},
                             {"T", {{"s", 0, reflection::Obj, 0}}}},
                            "T"),
                "impossible size or alignment");
  ExpectRefused(
      BuildSchema({{"S", {{"x", 0, reflection::Long, -1, reflection::None, 4}}, true, 8, 16},
                   {"T", {{"s", 0, reflection::Obj, 0}}}},
                  "T"),
      "does not lie aligned inside its struct");
  // Struct fields that leave a gap at the end, or overlap (readers recompute the layout).
  ExpectRefused(
      BuildSchema({{"S", {{"x", 0}}, true, 4, 8}, {"T", {{"s", 0, reflection::Obj, 0}}}}, "T"),
      "do not fill it in order");
  ExpectRefused(
      BuildSchema(
          {{"S", {{"x", 0}, {"y", 1, reflection::Int, -1, reflection::None, 0}}, true, 4, 4},
           {"T", {{"s", 0, reflection::Obj, 0}}}},
          "T"),
      "do not fill it in order");
  // A struct that contains itself.
  ExpectRefused(BuildSchema({{"S", {{"s", 0, reflection::Obj, 0}}, true, 4, 8},
                             {"T", {{"s", 0, reflection::Obj, 0}}}},
                            "T"),
                "struct 'S' contains itself");
  // A union needs its type in the slot before it.
  ExpectRefused(BuildSchema({{"T", {{"u", 1, reflection::Union, 0}, {"x", 0}}}}, "T", 0),
                "no matching '_type' field");
  ASSERT_OK(ParseStatus(BuildSchema(
      {{"T", {{"u", 1, reflection::Union, 0}, {"u_type", 0, reflection::UType, 0}}}}, "T", 0)));
  // The text generator skips deprecated fields and would take another field's value as the
  // union's type.
  ExpectRefused(BuildSchema({{"T",
                              {{"u", 1, reflection::Union, 0},
                               {"u_type", 0, reflection::UType, 0, reflection::None, -1, true}}}},
                            "T", 0),
                "no matching '_type' field");
  // A table with a size: flatbuffers' schema loader (Parser::Deserialize, used for rendering)
  // aborts on an assertion (fuzz/corpus/schema_render/regress-table-with-a-size).
  ExpectRefused(BuildSchema({{"T", {{"a", 0}}, false, 1, 4}}, "T"), "declares a size");
  // The root must be a table.
  ExpectRefused(BuildSchema({{"S", {{"x", 0}}, true, 4, 4}}, "S"), "is a struct");
}

// --- payloads ---

const char* kPlayerFbs = R"(
  namespace g;
  table Player { name: string (id: 0); hp: float (id: 1); gold: [long] (id: 2); }
  root_type Player;
  file_identifier "PLYR";
)";

TEST(FlatbufferSchemaTest, PayloadsAreVerifiedIncludingTheAlignmentTheVerifierSkips) {
  auto schema = FlatbufferSchema::Parse(Bfbs(kPlayerFbs));
  ASSERT_OK(schema);
  // A [long] whose elements sit at a 4-byte boundary: flatbuffers' reflection verifier accepts
  // it; reading one would be undefined behaviour.
  for (int pad = 0; pad < 2; ++pad) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.StartVector(4, sizeof(uint32_t));
    for (uint32_t i = 0; i < 4; ++i) fbb.PushElement<uint32_t>(i);
    const auto gold = fbb.EndVector(2);  // two longs: 16 bytes
    const auto start = fbb.StartTable();
    fbb.AddOffset(8, flatbuffers::Offset<void>(gold));
    if (pad) fbb.AddElement<float>(6, 1.0f, 0.0f);  // moves the vector 4 bytes along
    fbb.Finish(flatbuffers::Offset<flatbuffers::Table>(fbb.EndTable(start)), "PLYR");
    const internal::AlignedBytes buffer(Bytes(fbb));
    const auto* root = flatbuffers::GetRoot<flatbuffers::Table>(buffer.data());
    const auto* data = root->GetPointer<const flatbuffers::Vector<int64_t>*>(8)->Data();
    if (reinterpret_cast<uintptr_t>(data) % 8 == 0) continue;  // try the other padding
    EXPECT_TRUE(
        flatbuffers::Verify((*schema)->schema(), (*schema)->root(), buffer.data(), buffer.size()));
    EXPECT_CODE((*schema)->VerifyPayload(buffer.data(), buffer.size()), kCorruption);
    return;
  }
  FAIL() << "no padding gave a misaligned vector";
}

// A union's value without its type is damage (no reader can tell what it is; flatbuffers' text
// generator aborts on one: fuzz/corpus/schema_render/regress-union-value-without-type); a type
// without a value is a union set to a null member, which the object API can write.
TEST(FlatbufferSchemaTest, AUnionValueWithoutItsTypeIsDamage) {
  const char* fbs = "table A { x: int; } union U { A } table R { u: U; } root_type R;";
  const std::string schema = Bfbs(fbs);
  for (bool with_type : {false, true}) {
    for (bool with_value : {false, true}) {
      flatbuffers::FlatBufferBuilder fbb;
      const auto a_start = fbb.StartTable();
      fbb.AddElement<int32_t>(4, 5, 0);
      const auto a = fbb.EndTable(a_start);
      const auto start = fbb.StartTable();
      if (with_type) fbb.AddElement<uint8_t>(4, 1, 0);  // u_type: A
      if (with_value) fbb.AddOffset(6, flatbuffers::Offset<void>(a));
      fbb.Finish(flatbuffers::Offset<flatbuffers::Table>(fbb.EndTable(start)));
      auto json = RenderJson("flatbuffer:R", schema, Bytes(fbb));
      if (with_value && !with_type) {
        EXPECT_CODE(json, kCorruption);
      } else {
        ASSERT_OK(json);
        EXPECT_EQ(*json, !with_type   ? R"({"u_type":"NONE"})"
                         : with_value ? R"({"u_type":"A","u":{"x":5}})"
                                      : R"({"u_type":"A"})");
      }
    }
  }
}

// --- schema evolution ---

const char* kBaseFbs = R"(
  namespace g;
  enum Color : byte { Red, Green }
  struct Vec { x: float; y: float; }
  table Item { name: string (id: 0); }
  table Badge { level: int (id: 0); }
  union Thing { Item }
  table Player {
    coins: long (id: 0);
    color: Color (id: 1);
    pos: Vec (id: 2);
    items: [Item] (id: 3);
    thing: Thing (id: 5);
  }
  root_type Player;
  file_identifier "PLYR";
)";

// kBaseFbs with `from` replaced by `to`.
std::string Variant(const std::string& from, const std::string& to) {
  std::string text = kBaseFbs;
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

Status Evolve(const std::string& offered_fbs) {
  auto registered = FlatbufferSchema::Parse(Bfbs(kBaseFbs));
  auto offered = FlatbufferSchema::Parse(Bfbs(offered_fbs));
  EXPECT_OK(registered);
  EXPECT_OK(offered);
  if (!registered.ok() || !offered.ok()) return Status::Internal("bad test schema");
  return internal::CheckSchemaEvolution(**registered, **offered);
}

TEST(SchemaEvolutionTest, AppendingAndDeprecatingAreCompatible) {
  ASSERT_OK(Evolve(kBaseFbs));
  ASSERT_OK(Evolve(Variant("thing: Thing (id: 5);", "thing: Thing (id: 5); gems: int (id: 6);")));
  ASSERT_OK(Evolve(Variant("coins: long (id: 0);", "coins: long (id: 0, deprecated);")));
  ASSERT_OK(Evolve(Variant("{ Red, Green }", "{ Red, Green, Blue }")));
  ASSERT_OK(Evolve(Variant("union Thing { Item }", "union Thing { Item, Badge }")));
  ASSERT_OK(Evolve(Variant("table Item { name: string (id: 0); }",
                           "table Item { name: string (id: 0); weight: float = 1 (id: 1); }")));
}

TEST(SchemaEvolutionTest, EveryBreakingChangeIsRefusedByName) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Variant("coins: long (id: 0);", "money: long (id: 0);"),
       "field 'g.Player.coins' (id 0) was renamed to 'money'"},
      {Variant("coins: long (id: 0);", "coins: int (id: 0);"),
       "field 'g.Player.coins' (id 0) changed type from long to int"},
      {Variant("coins: long (id: 0);", "coins: long = 10 (id: 0);"),
       "field 'g.Player.coins' (id 0) changed its default"},
      {Variant("coins: long (id: 0);", "coins: long = null (id: 0);"),
       "field 'g.Player.coins' (id 0) changed whether it is optional"},
      {Variant("items: [Item] (id: 3);", "items: [Item] (id: 3, required);"),
       "field 'g.Player.items' (id 3) became required"},
      {Variant("items: [Item] (id: 3);", "items: [Badge] (id: 3);"),
       "field 'g.Player.items' (id 3) changed type from [g.Item] to [g.Badge]"},
      {Variant("thing: Thing (id: 5);", "thing: Thing (id: 5); tag: string (id: 6, required);"),
       "new field 'g.Player.tag' is required"},
      {Variant("    thing: Thing (id: 5);\n", ""),
       "field 'g.Player.thing' (id 5) was removed; keep it and mark it (deprecated) instead"},
      {Variant("struct Vec { x: float; y: float; }",
               "struct Vec { x: float; y: float; z: float; }"),
       "struct 'g.Vec' changed its layout"},
      {Variant("{ Red, Green }", "{ Red }"), "enum 'g.Color' value Green (1) was removed"},
      {Variant("{ Red, Green }", "{ Red, Lime }"), "enum 'g.Color' value Green (1) was renamed"},
      {Variant("enum Color : byte", "enum Color : short"),
       "field 'g.Player.color' (id 1) changed type from g.Color (byte) to g.Color (short)"},
      {Variant("union Thing { Item }", "union Thing { Badge }"), "union 'g.Thing' value"},
      {Variant("table Item { name: string (id: 0); }", "table Item { name: [ubyte] (id: 0); }"),
       "field 'g.Item.name' (id 0) changed type from string to [ubyte]"},
      {Variant("root_type Player;", "root_type Item;"),
       "the root table changed from 'g.Player' to 'g.Item'"},
      {Variant("\"PLYR\"", "\"PLY2\""), "the file identifier changed from 'PLYR' to 'PLY2'"},
  };
  for (const auto& [fbs, why] : cases) {
    Status s = Evolve(fbs);
    EXPECT_CODE(s, kInvalidArgument) << "expected: " << why;
    EXPECT_NE(s.message().find(why), std::string::npos) << s << "\nexpected: " << why;
  }
}

// --- rendering ---

TEST(RenderJsonTest, EachCodecAnswersClearly) {
  EXPECT_EQ(RenderJson("json", "", R"({"coins":3})").value(), R"({"coins":3})");
  EXPECT_CODE(RenderJson("json", "", "coins=3"), kInvalidArgument);
  auto bytes = RenderJson("bytes", "", "\x01\x02");
  EXPECT_CODE(bytes, kInvalidArgument);
  EXPECT_NE(bytes.status().message().find("hex"), std::string::npos) << bytes.status();
  EXPECT_CODE(RenderJson("protobuf:Hero", "", "x"), kInvalidArgument);

  const std::string schema = Bfbs(kPlayerFbs);
  flatbuffers::Parser parser;
  ASSERT_TRUE(parser.Parse(kPlayerFbs));
  ASSERT_TRUE(parser.Parse(R"({"name": "ayla", "gold": [1, 2]})"));
  const std::string payload = Bytes(parser.builder_);
  EXPECT_EQ(RenderJson("flatbuffer:g.Player", schema, payload).value(),
            R"({"name":"ayla","hp":0.0,"gold":[1,2]})");
  auto no_schema = RenderJson("flatbuffer:g.Player", "", payload);
  EXPECT_CODE(no_schema, kInvalidArgument);
  EXPECT_NE(no_schema.status().message().find("no registered schema"), std::string::npos);
  EXPECT_CODE(RenderJson("flatbuffer:g.Other", schema, payload), kInvalidArgument);
  EXPECT_CODE(RenderJson("flatbuffer:g.Player", "garbage", payload), kInvalidArgument);
  std::string damaged = payload;
  damaged[0] = '\x7f';
  EXPECT_CODE(RenderJson("flatbuffer:g.Player", schema, damaged), kCorruption);

  // JSON has no NaN: refused, with flatbuffers' text in the message.
  flatbuffers::FlatBufferBuilder fbb;
  const auto start = fbb.StartTable();
  fbb.AddElement<float>(6, std::nanf(""), 0.0f);
  fbb.Finish(flatbuffers::Offset<flatbuffers::Table>(fbb.EndTable(start)), "PLYR");
  auto nan = RenderJson("flatbuffer:g.Player", schema, Bytes(fbb));
  EXPECT_CODE(nan, kInvalidArgument);
  EXPECT_NE(nan.status().message().find("NaN"), std::string::npos) << nan.status();
}

}  // namespace
}  // namespace holdfast::test
