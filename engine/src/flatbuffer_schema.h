// FlatbufferSchema: a binary flatbuffers schema (.bfbs, the reflection schema flatc writes with
// `-b --schema` or embeds with `--bfbs-gen-embed`) that has been verified and checked for
// consistency, so that reflection over it, flatbuffers' schema loader and text generator (for
// rendering) and CopyTable (for reconcile) can use it without reading out of bounds, recursing
// forever or tripping an assertion (flatbuffers 2.0.8 is built with them on, and aborts). Each
// check that guards one of its defects names the fuzz reproducer that found it. A store's schema is
// read from the manifest (bytes from disk) and the renderer takes one from its caller: nothing
// reads schema bytes before Parse has accepted them.
//
// The public API names this type only as an opaque handle (holdfast/flatbuffer_codec.h).
//
// Thread safety: immutable after Parse; share freely across threads.
#ifndef HOLDFAST_SRC_FLATBUFFER_SCHEMA_H_
#define HOLDFAST_SRC_FLATBUFFER_SCHEMA_H_

#include <flatbuffers/reflection.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aligned_bytes.h"
#include "holdfast/status.h"

namespace holdfast {

// A flatbuffers store's codec name: this prefix and its root table's fully qualified name
// ("flatbuffer:game.Hero", FlatbufferCodec::kName).
inline constexpr std::string_view kFlatbufferCodecPrefix = "flatbuffer:";

class FlatbufferSchema {
 public:
  // Verifier limits for payloads read with a schema: deeper and larger than any player profile
  // needs, small enough that hostile bytes cannot exhaust the stack or the time of a reader.
  static constexpr flatbuffers::uoffset_t kMaxPayloadDepth = 64;
  static constexpr flatbuffers::uoffset_t kMaxPayloadTables = 1'000'000;

  // Accepts `bytes` as a binary schema: the flatbuffers verifier passes (with limits); every
  // type byte and index is in range; table field ids run from 0 without gaps and match their
  // slots; tables declare no size and at most one key; scalar defaults fit their type; no field
  // is both required and optional; struct fields lie aligned inside their struct, in id order,
  // filling it, and structs do not contain themselves; unions have a type field (deprecated
  // alike) and dense member values; names are identifiers, sorted where lookups binary-search
  // them and unique in every symbol table; there is a root table. InvalidArgument naming the
  // first problem.
  static Result<std::shared_ptr<const FlatbufferSchema>> Parse(std::string_view bytes);

  const reflection::Schema& schema() const { return *schema_; }
  const reflection::Object& root() const { return *root_; }
  // By index; every index reachable from the schema was range-checked by Parse.
  const reflection::Object& object(int32_t index) const;
  const reflection::Enum& enumeration(int32_t index) const;
  // The root table's fully qualified name ("game.Hero").
  std::string root_name() const;
  // The file identifier payloads carry, or "" when the schema declares none.
  std::string file_identifier() const;
  // The schema's bytes, as given to Parse.
  std::string_view bytes() const { return bytes_.view(); }

  // Checks a payload before anything reads it: InvalidArgument when it does not carry the
  // schema's file identifier (intact bytes of another kind: a disagreement); Corruption when
  // any part lies outside the buffer, breaks kMaxPayloadDepth or kMaxPayloadTables, is
  // misaligned for its type, or is a union value without its type (flatbuffer_payload.cc).
  // `buffer` must be 8-byte aligned (AlignedBytes).
  Status VerifyPayload(const uint8_t* buffer, size_t size) const;

 private:
  explicit FlatbufferSchema(std::string_view bytes) : bytes_(bytes) {}

  const internal::AlignedBytes bytes_;
  const reflection::Schema* schema_ = nullptr;
  const reflection::Object* root_ = nullptr;
};

}  // namespace holdfast

#endif  // HOLDFAST_SRC_FLATBUFFER_SCHEMA_H_
