// Codecs turn a store's in-memory profile data into payload bytes and back. A codec is a type
// with:
//   using Value = ...;                                     // the profile data type
//   static constexpr std::string_view kName = "...";       // stored in the store registry
//   static Result<std::string> Encode(const Value&);       // InvalidArgument when unencodable
//   static Result<Value> Decode(std::string_view bytes);
// Decode returns Corruption when it can tell the bytes are damaged (a flatbuffers verifier that
// fails), and another status (InvalidArgument) for intact bytes this code does not accept (a
// document of another shape, written by other code): the engine repairs damage but treats the
// second as a disagreement between the stored data and the running code, which it never
// repairs unless the store opts in (StoreSettings::repair_disagreement).
// and optionally
//   static void Reconcile(Value& data, const Value& template_value);  // fill missing fields
//     (or returning Status: a refusal leaves the data unchanged; Profile::Reconcile returns it)
//   static std::string_view BinarySchema();  // a schema registered with the store (the .bfbs
//     of FlatbufferCodec, holdfast/flatbuffer_codec.h), checked at every open
#ifndef HOLDFAST_CODEC_H_
#define HOLDFAST_CODEC_H_

#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast {

// Opaque bytes: the profile data is a std::string the game encodes itself.
struct BytesCodec {
  using Value = std::string;
  static constexpr std::string_view kName = "bytes";
  static Result<std::string> Encode(const Value& value) { return value; }
  static Result<Value> Decode(std::string_view bytes) { return std::string(bytes); }
};

template <typename Codec>
concept ProfileCodec = requires(const typename Codec::Value& v, std::string_view b) {
  { Codec::kName } -> std::convertible_to<std::string_view>;
  { Codec::Encode(v) } -> std::same_as<Result<std::string>>;
  { Codec::Decode(b) } -> std::same_as<Result<typename Codec::Value>>;
};

}  // namespace holdfast

#endif  // HOLDFAST_CODEC_H_
