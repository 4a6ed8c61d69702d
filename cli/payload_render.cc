#include "payload_render.h"

#include "text_output.h"

namespace holdfast::cli {

RenderedPayload RenderPayload(std::string_view codec, std::string_view payload) {
  // Until stores register schemas (the data-model issue), no codec but bytes has a renderer and
  // every payload is bytes to us: `codec` picks nothing yet.
  (void)codec;
  return RenderedPayload{"hex", "\"" + Hex(payload) + "\"", HexDump(payload)};
}

}  // namespace holdfast::cli
