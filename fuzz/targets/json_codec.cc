// Fuzz target: JsonCodec (engine/include/holdfast/json_codec.h) on payload bytes read from disk.
//
// Decode returns a document or InvalidArgument, never crashes, whatever the bytes (deep nesting
// included: the depth is checked before a parser sees them). A document that decodes is one that
// may be stored: it encodes, to the canonical text, which decodes to the same document; and
// Reconcile never overwrites — reconciling a document with itself, or with an empty object as
// the data and the document as the template, gives the document.
// fuzz-flags: -max_len=4096
#include <string>

#include "fuzz_util.h"
#include "holdfast/json_codec.h"

namespace holdfast::fuzz {
namespace {

void Check(std::string_view bytes) {
  auto decoded = JsonCodec::Decode(bytes);
  if (!decoded.ok()) {
    FUZZ_CHECK_CODE(decoded, kInvalidArgument, "for " << Printable(bytes));
    return;
  }
  FUZZ_CHECK(JsonCodec::NestingDepth(bytes) <= JsonCodec::kMaxDepth);
  auto encoded = JsonCodec::Encode(*decoded);
  FUZZ_CHECK(encoded.ok(), "a decoded document must encode: " << encoded.status().ToString());
  auto again = JsonCodec::Decode(*encoded);
  FUZZ_CHECK(again.ok() && *again == *decoded, "round trip changed " << Printable(bytes));
  auto reencoded = JsonCodec::Encode(*again);
  FUZZ_CHECK(reencoded.ok() && *reencoded == *encoded, "encoding is not canonical");

  nlohmann::json self = *decoded;
  JsonCodec::Reconcile(self, *decoded);
  FUZZ_CHECK(self == *decoded, "reconcile with itself changed the document");
  if (decoded->is_object()) {
    nlohmann::json empty = nlohmann::json::object();
    JsonCodec::Reconcile(empty, *decoded);
    FUZZ_CHECK(empty == *decoded, "reconcile of an empty object must copy the template");
  }
}

}  // namespace
}  // namespace holdfast::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  holdfast::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
