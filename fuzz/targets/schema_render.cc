// Fuzz target: RenderJson (holdfast/render.h), the registered-schema renderer, on payload bytes
// read from disk — and on schema bytes, which come from disk too (the store registry) — plus
// flatbuffers Reconcile on every payload that verifies.
//
// Input: byte 0 says what the rest is (its value modulo 4):
//   0  a payload of the fuzz schema (render_fuzz_schema.h), rendered with that schema;
//   1  a u16le length n, n bytes of a binary schema, then a payload rendered with it;
//   2  a payload of a JSON store;   3  a payload of a bytes store.
// Whatever the bytes, RenderJson returns text or InvalidArgument or Corruption — never crashes,
// never another code; its text is JSON (an object, for flatbuffers) and the same every time.
// For a flatbuffers payload that renders: reconciling it with itself changes nothing; with the
// fuzz template (mode 0) it gives a payload that verifies and renders too.
// fuzz-flags: -max_len=4096
#include <nlohmann/json.hpp>
#include <string>

#include "aligned_bytes.h"
#include "flatbuffer_schema.h"
#include "fuzz_util.h"
#include "holdfast/flatbuffer_codec.h"
#include "holdfast/render.h"
#include "render_fuzz_schema.h"

namespace holdfast::fuzz {
namespace {

// Renders and checks the contract; returns the status.
Status RenderChecked(std::string_view codec, std::string_view schema, std::string_view payload) {
  auto text = RenderJson(codec, schema, payload);
  if (!text.ok()) {
    const StatusCode code = text.status().code();
    FUZZ_CHECK(code == StatusCode::kInvalidArgument || code == StatusCode::kCorruption,
               text.status().ToString() << " for " << Printable(payload));
    return text.status();
  }
  auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!parsed.is_discarded(), "not JSON: " << Printable(*text));
  if (codec.starts_with("flatbuffer:")) FUZZ_CHECK(parsed.is_object(), Printable(*text));
  auto again = RenderJson(codec, schema, payload);
  FUZZ_CHECK(again.ok() && *again == *text, "rendering is not deterministic");
  return Status::Ok();
}

// Reconcile with itself changes nothing; with `template_payload` (when given) it gives a payload
// that verifies and renders whenever the data rendered.
void CheckReconcile(std::string_view codec, const FlatbufferSchema& schema,
                    std::string_view payload, std::string_view template_payload) {
  auto self = flatbuffer_support::Reconcile(schema, payload, payload);
  if (!self.ok()) {
    FUZZ_CHECK_CODE(self, kInvalidArgument, "(only unsupported schemas are refused)");
    return;
  }
  FUZZ_CHECK(*self == payload, "reconcile with itself changed " << Printable(payload));
  if (template_payload.empty()) return;
  auto filled = flatbuffer_support::Reconcile(schema, payload, template_payload);
  FUZZ_CHECK(filled.ok(), filled.status().ToString());
  const internal::AlignedBytes bytes(*filled);
  FUZZ_CHECK(schema.VerifyPayload(bytes.data(), bytes.size()).ok(), "reconciled: unverifiable");
  Status rendered = RenderChecked(codec, schema.bytes(), *filled);
  FUZZ_CHECK(rendered.ok(), "reconciled: " << rendered.ToString());
}

void Check(std::string_view input) {
  static const std::string fuzz_schema = RenderFuzzBinarySchema();
  static const auto parsed_fuzz_schema = FlatbufferSchema::Parse(fuzz_schema);
  static const std::string fuzz_template = RenderFuzzPayload(
      R"({"name": "t", "stats": {"hp": 1, "nested": {"mana": 2.5}}, "items": [{"name": "i"}],
          "companion_type": "Pet", "companion": {"name": "p"}})");
  FUZZ_CHECK(parsed_fuzz_schema.ok(), parsed_fuzz_schema.status().ToString());
  FUZZ_CHECK(!fuzz_template.empty());
  if (input.empty()) return;
  const int mode = static_cast<unsigned char>(input[0]) % 4;
  std::string_view rest = input.substr(1);
  switch (mode) {
    case 0:
      if (RenderChecked(kRenderFuzzCodec, fuzz_schema, rest).ok()) {
        CheckReconcile(kRenderFuzzCodec, **parsed_fuzz_schema, rest, fuzz_template);
      }
      return;
    case 1: {
      const size_t n = rest.size() < 2
                           ? 0
                           : static_cast<unsigned char>(rest[0]) |
                                 static_cast<size_t>(static_cast<unsigned char>(rest[1])) << 8;
      rest = rest.substr(std::min<size_t>(2, rest.size()));
      const std::string_view schema = rest.substr(0, std::min(n, rest.size()));
      const std::string_view payload = rest.substr(schema.size());
      auto parsed = FlatbufferSchema::Parse(schema);
      const std::string codec =
          "flatbuffer:" + (parsed.ok() ? (*parsed)->root_name() : std::string("unknown"));
      Status rendered = RenderChecked(codec, schema, payload);
      if (!parsed.ok()) FUZZ_CHECK_CODE(rendered, kInvalidArgument);
      if (rendered.ok()) CheckReconcile(codec, **parsed, payload, "");
      return;
    }
    case 2:
      (void)RenderChecked("json", "", rest);
      return;
    default:
      FUZZ_CHECK_CODE(RenderJson("bytes", "", rest), kInvalidArgument);
      return;
  }
}

}  // namespace
}  // namespace holdfast::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  holdfast::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
