// How `show` presents a profile's payload, chosen by the codec its store was registered with.
//
// JSON stores (JsonCodec, "json"): the document itself, checked by the codec's own decode. Every
// other codec, and a JSON store's payload the codec refuses: bytes, as hex in JSON and a hex dump
// for people. This is the seam for the rest of the data-model issue: flatbuffers stores will
// render here as JSON from the schema registered with the store.
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
  std::string note;    // why a payload of a JSON store is shown as hex ("" otherwise)
};

RenderedPayload RenderPayload(std::string_view codec, std::string_view payload);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_PAYLOAD_RENDER_H_
