#include "payload_render.h"

#include "holdfast/json_codec.h"
#include "holdfast/render.h"
#include "text_output.h"

namespace holdfast::cli {
namespace {

// The codec names of flatbuffers stores start with this ("flatbuffer:game.Hero").
constexpr std::string_view kFlatbufferCodecPrefix = "flatbuffer:";

RenderedPayload AsJson(Json document) {
  std::string text = document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return RenderedPayload{"json", std::move(document), std::move(text), ""};
}

}  // namespace

RenderedPayload RenderPayload(std::string_view codec, std::string_view schema,
                              std::string_view payload) {
  std::string note;
  if (codec == JsonCodec::kName) {
    auto document = JsonCodec::Decode(payload);
    if (document.ok()) return AsJson(Json(*document));
    note = "the JSON store's codec refuses this payload: " + document.status().ToString();
  } else if (codec.starts_with(kFlatbufferCodecPrefix)) {
    // RenderJson verifies the payload against the schema before anything reads it.
    auto text = RenderJson(codec, schema, payload);
    if (text.ok()) {
      Json document = Json::parse(*text, /*cb=*/nullptr, /*allow_exceptions=*/false);
      if (!document.is_discarded()) return AsJson(std::move(document));
      note = "the store's registered schema rendered this payload as text that is not JSON";
    } else {
      note =
          "the store's registered schema cannot render this payload: " + text.status().ToString();
    }
  }
  return RenderedPayload{"hex", Hex(payload), HexDump(payload), note};
}

}  // namespace holdfast::cli
