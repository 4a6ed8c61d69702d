// How `show` presents a profile's payload, chosen by the codec its store was registered with.
//
// JSON stores (JsonCodec, "json"): the document itself, checked by the codec's own decode.
// Flatbuffers stores (FlatbufferCodec, "flatbuffer:<root table>"): JSON rendered through the
// binary schema registered with the store (holdfast/render.h), so without the game's code. Every
// other codec, and a payload its codec or schema refuses (or a flatbuffers store that never
// registered a schema): bytes, as hex in JSON and a hex dump for people, with a note saying why.
#ifndef HOLDFAST_CLI_PAYLOAD_RENDER_H_
#define HOLDFAST_CLI_PAYLOAD_RENDER_H_

#include <string>
#include <string_view>

#include "json_output.h"

namespace holdfast::cli {

struct RenderedPayload {
  std::string format;  // "json" or "hex"
  Json json;           // the document, or the hex string
  std::string text;    // for a terminal: the document indented, or a hex dump
  std::string note;    // why a JSON or flatbuffers payload is shown as hex ("" otherwise)
};

// `codec` and `schema` as the store registered them (Engine::Registration).
RenderedPayload RenderPayload(std::string_view codec, std::string_view schema,
                              std::string_view payload);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_PAYLOAD_RENDER_H_
