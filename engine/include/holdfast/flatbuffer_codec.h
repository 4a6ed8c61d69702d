// FlatbufferCodec<T, Schema>: profile data as a flatbuffers table the game defines in its own
// .fbs, used through flatc's object API. An opt-in header: it includes flatbuffers (Debian:
// libflatbuffers-dev; CMake: flatbuffers::flatbuffers), which the rest of the public API does
// not.
//
//   // hero.fbs: table Hero { name: string (id: 0); coins: long (id: 1); stats: Stats (id: 2); }
//   //           root_type Hero; file_identifier "HERO";
//   // flatc --cpp --gen-object-api --gen-name-strings --bfbs-gen-embed hero.fbs
//   #include "hero_generated.h"       // game::Hero, game::HeroT
//   #include "hero_bfbs_generated.h"  // game::HeroBinarySchema
//   using HeroCodec = holdfast::FlatbufferCodec<game::Hero, game::HeroBinarySchema>;
//   auto heroes = engine->OpenStore<HeroCodec>("Heroes", options);  // Value is game::HeroT
//
// T is the generated table type (with --gen-object-api for T::NativeTableType, Pack, UnPackTo,
// and --gen-name-strings for T::GetFullyQualifiedName); Schema is the struct --bfbs-gen-embed
// generates (static data() and size()): the binary schema of the .fbs that declares T as its
// root_type.
//
// Name: "flatbuffer:" + the root table's fully qualified name ("flatbuffer:game.Hero").
// Stored form: the packed table, finished with the schema's file_identifier when it declares
// one. Fields added to the schema later read as their defaults in older records.
//
// The store registers the binary schema in the database with the codec, so tools render any
// profile as JSON without the game's code (holdfast/render.h). Opening the store with a schema
// that is not a compatible evolution of the registered one (a field removed, renumbered, renamed
// or retyped, a default changed, a new required field, another root table) is InvalidArgument
// naming what is incompatible, and changes nothing; a compatible one (fields appended) replaces
// the registered schema. The rules: schema/README.md, "Game schemas".
//
// Decode: a payload that fails verification (Holdfast's own over the schema, which also checks
// alignment, then T's generated flatbuffers verifier, both with depth and table limits) is damaged:
// Corruption, repaired by the store's corruption policy. Intact bytes without the schema's file
// identifier (written by other code) are InvalidArgument: a disagreement, never repaired by
// default.
//
// Reconcile: every sub-table the data lacks (a null table field of the object API: absent from
// the packed buffer) is copied from the template's table at the same place, when the template
// has one; sub-tables present in both are reconciled recursively. Nothing present is ever
// overwritten, and nothing but absent sub-tables is filled: scalars (a scalar at its default is
// indistinguishable from an absent one), strings, vectors, structs and unions are left as they
// are. Returns InvalidArgument, changing nothing, when a table on the way holds a vector of
// unions (not supported).
//
// Thread safety: stateless apart from the schema, loaded once (thread-safe static).
#ifndef HOLDFAST_FLATBUFFER_CODEC_H_
#define HOLDFAST_FLATBUFFER_CODEC_H_

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"

namespace holdfast {

// A verified binary schema; defined inside the library.
class FlatbufferSchema;

// Library functions behind FlatbufferCodec (their signatures name no flatbuffers type).
namespace flatbuffer_support {

// Verifies and checks a binary schema (InvalidArgument naming the problem).
Result<std::shared_ptr<const FlatbufferSchema>> LoadSchema(std::string_view bfbs);
// The schema's file identifier, or "" when it declares none.
std::string FileIdentifier(const FlatbufferSchema& schema);
// The root table's fully qualified name.
std::string RootName(const FlatbufferSchema& schema);
// Checks a payload against the schema: InvalidArgument without the schema's file identifier;
// Corruption when it fails verification against the schema (bounds, limits, alignment).
// `buffer` must be 8-byte aligned.
Status VerifyPayload(const FlatbufferSchema& schema, const uint8_t* buffer, size_t size);
// The data buffer with every absent sub-table filled from the template buffer (see
// FlatbufferCodec::Reconcile); the data's own bytes when nothing was absent.
Result<std::string> Reconcile(const FlatbufferSchema& schema, std::string_view data,
                              std::string_view template_data);

// "flatbuffer:" + T's fully qualified name, as a compile-time string.
template <typename T>
struct CodecName {
  static constexpr std::string_view kPrefix = "flatbuffer:";
  static constexpr std::string_view kTable = T::GetFullyQualifiedName();
  static constexpr auto kChars = [] {
    std::array<char, kPrefix.size() + kTable.size()> chars{};
    std::copy(kPrefix.begin(), kPrefix.end(), chars.begin());
    std::copy(kTable.begin(), kTable.end(), chars.begin() + kPrefix.size());
    return chars;
  }();
  static constexpr std::string_view kValue{kChars.data(), kChars.size()};
};

}  // namespace flatbuffer_support

// A flatc-generated table type with the object API and name strings.
template <typename T>
concept FlatbufferTable = requires(flatbuffers::FlatBufferBuilder& fbb,
                                   const typename T::NativeTableType* native, const T* table,
                                   typename T::NativeTableType* out, flatbuffers::Verifier& v) {
  { T::GetFullyQualifiedName() } -> std::convertible_to<const char*>;
  { T::Pack(fbb, native) } -> std::same_as<flatbuffers::Offset<T>>;
  table->UnPackTo(out);
  { table->Verify(v) } -> std::same_as<bool>;
};

// What flatc --bfbs-gen-embed generates: the binary schema's bytes.
template <typename S>
concept BinarySchemaSource = requires {
  { S::data() } -> std::convertible_to<const uint8_t*>;
  { S::size() } -> std::convertible_to<size_t>;
};

template <FlatbufferTable T, BinarySchemaSource Schema>
struct FlatbufferCodec {
  using Value = typename T::NativeTableType;
  static constexpr std::string_view kName = flatbuffer_support::CodecName<T>::kValue;

  // The binary schema registered with the store (engine.h passes it to the registration).
  static std::string_view BinarySchema() {
    return {reinterpret_cast<const char*>(Schema::data()), static_cast<size_t>(Schema::size())};
  }

  static Result<std::string> Encode(const Value& value) {
    const auto& schema = Loaded();
    if (!schema.ok()) return schema.status();
    flatbuffers::FlatBufferBuilder fbb(1024);
    const std::string identifier = flatbuffer_support::FileIdentifier(**schema);
    fbb.Finish(T::Pack(fbb, &value), identifier.empty() ? nullptr : identifier.c_str());
    std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    // What cannot be read back is refused now, not stored to be found damaged at the next load.
    if (Status s = Verify(AlignedCopy(bytes), bytes.size()); !s.ok()) {
      return Status::InvalidArgument(
          "the '" + std::string(kTable) +
          "' value cannot be stored (a required field missing?): " + s.ToString());
    }
    return bytes;
  }

  static Result<Value> Decode(std::string_view bytes) {
    const std::vector<uint64_t> aligned = AlignedCopy(bytes);
    if (Status s = Verify(aligned, bytes.size()); !s.ok()) return s;
    Value value;
    flatbuffers::GetRoot<T>(reinterpret_cast<const uint8_t*>(aligned.data()))->UnPackTo(&value);
    return value;
  }

  static Status Reconcile(Value& data, const Value& template_value) {
    const auto& schema = Loaded();
    if (!schema.ok()) return schema.status();
    auto packed = Encode(data);
    if (!packed.ok()) return packed.status();
    auto template_packed = Encode(template_value);
    if (!template_packed.ok()) return template_packed.status();
    auto merged = flatbuffer_support::Reconcile(**schema, *packed, *template_packed);
    if (!merged.ok()) return merged.status();
    if (*merged == *packed) return Status::Ok();  // nothing was absent
    auto filled = Decode(*merged);
    if (!filled.ok())
      return Status::Internal("reconcile built a payload that does not decode: " +
                              filled.status().ToString());
    data = std::move(*filled);
    return Status::Ok();
  }

  // Verifier limits: as in FlatbufferSchema (deeper and larger than any profile needs).
  static constexpr flatbuffers::uoffset_t kMaxDepth = 64;
  static constexpr flatbuffers::uoffset_t kMaxTables = 1'000'000;

 private:
  static constexpr std::string_view kTable = flatbuffer_support::CodecName<T>::kTable;

  // Flatbuffers reads scalars in place: buffers are verified and read from an 8-byte-aligned
  // copy (payloads from storage carry no alignment guarantee).
  static std::vector<uint64_t> AlignedCopy(std::string_view bytes) {
    std::vector<uint64_t> words((bytes.size() + 7) / 8);
    if (!bytes.empty()) std::memcpy(words.data(), bytes.data(), bytes.size());
    return words;
  }

  // Verification against the schema (with the file identifier and alignment checks), then T's
  // own generated verifier, which guards what UnPackTo reads.
  static Status Verify(const std::vector<uint64_t>& aligned, size_t size) {
    const auto& schema = Loaded();
    if (!schema.ok()) return schema.status();
    const auto* buffer = reinterpret_cast<const uint8_t*>(aligned.data());
    if (Status s = flatbuffer_support::VerifyPayload(**schema, buffer, size); !s.ok()) return s;
    flatbuffers::Verifier::Options limits;
    limits.max_depth = kMaxDepth;
    limits.max_tables = kMaxTables;
    flatbuffers::Verifier verifier(buffer, size, limits);
    if (!verifier.VerifyBuffer<T>(nullptr)) {
      return Status::Corruption("the '" + std::string(kTable) +
                                "' flatbuffer is damaged: it fails verification");
    }
    return Status::Ok();
  }

  // The schema, loaded once. Internal when it is not usable or declares another root table
  // (a build that pairs T with another .fbs's schema): every call then fails, none misreads.
  static const Result<std::shared_ptr<const FlatbufferSchema>>& Loaded() {
    static const Result<std::shared_ptr<const FlatbufferSchema>> loaded =
        []() -> Result<std::shared_ptr<const FlatbufferSchema>> {
      auto schema = flatbuffer_support::LoadSchema(BinarySchema());
      if (!schema.ok()) {
        return Status::Internal("the embedded schema of codec '" + std::string(kName) +
                                "' is not usable: " + schema.status().ToString());
      }
      if (flatbuffer_support::RootName(**schema) != kTable) {
        return Status::Internal("the embedded schema of codec '" + std::string(kName) +
                                "' has root table '" + flatbuffer_support::RootName(**schema) +
                                "'");
      }
      return schema;
    }();
    return loaded;
  }
};

}  // namespace holdfast

#endif  // HOLDFAST_FLATBUFFER_CODEC_H_
