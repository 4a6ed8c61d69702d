// The game schema of the schema_render fuzz target (fuzz/targets/schema_render.cc) and its seeds
// (fuzz/make_seeds.cc): every kind of field a game profile uses — nested and recursive tables,
// structs (one 8-byte aligned), an enum, a union, vectors of numbers, structs, strings, tables.
// Both compile it with flatbuffers' parser at run time, so they need no generated code.
#ifndef HOLDFAST_FUZZ_RENDER_FUZZ_SCHEMA_H_
#define HOLDFAST_FUZZ_RENDER_FUZZ_SCHEMA_H_

#include <flatbuffers/idl.h>

#include <string>

namespace holdfast::fuzz {

inline constexpr const char* kRenderFuzzSchema = R"(
  namespace fuzz;
  enum Color : ubyte { Red, Green, Blue }
  struct Vec3 { x: float; y: float; z: float; }
  struct Slot { id: long; tag: byte; }
  table Item { name: string (id: 0); count: int (id: 1); }
  table Pet { name: string (id: 0); age: short (id: 1); }
  union Companion { Item, Pet }
  table Stats { hp: int = 100 (id: 0); mana: double (id: 1); nested: Stats (id: 2); }
  table Profile {
    name: string (id: 0);
    coins: long (id: 1);
    color: Color = Blue (id: 2);
    pos: Vec3 (id: 3);
    stats: Stats (id: 4);
    items: [Item] (id: 5);
    gold: [long] (id: 6);
    slots: [Slot] (id: 7);
    titles: [string] (id: 8);
    companion: Companion (id: 10);
    flags: [bool] (id: 11);
  }
  root_type Profile;
  file_identifier "FUZZ";
)";

inline constexpr const char* kRenderFuzzCodec = "flatbuffer:fuzz.Profile";

// The binary schema (.bfbs) of kRenderFuzzSchema, or of `fbs`.
inline std::string RenderFuzzBinarySchema(const char* fbs = kRenderFuzzSchema) {
  flatbuffers::Parser parser;
  if (!parser.Parse(fbs)) return "";
  parser.Serialize();
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

// A payload of kRenderFuzzSchema built from JSON ("" when the JSON does not parse).
inline std::string RenderFuzzPayload(const char* json) {
  flatbuffers::Parser parser;
  if (!parser.Parse(kRenderFuzzSchema) || !parser.Parse(json)) return "";
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()),
                     parser.builder_.GetSize());
}

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_RENDER_FUZZ_SCHEMA_H_
