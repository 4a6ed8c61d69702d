#include "payload_render.h"

#include "holdfast/json_codec.h"
#include "text_output.h"

namespace holdfast::cli {

RenderedPayload RenderPayload(std::string_view codec, std::string_view payload) {
  std::string note;
  if (codec == JsonCodec::kName) {
    auto document = JsonCodec::Decode(payload);
    if (document.ok()) {
      return RenderedPayload{"json", Json(*document),
                             document->dump(2, ' ', false, Json::error_handler_t::replace) + "\n",
                             ""};
    }
    note = "the JSON store's codec refuses this payload: " + document.status().ToString();
  }
  return RenderedPayload{"hex", Hex(payload), HexDump(payload), note};
}

}  // namespace holdfast::cli
