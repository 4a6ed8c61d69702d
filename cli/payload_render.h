// How `show` presents a profile's payload, chosen by the codec its store was registered with.
//
// Today every payload is shown as bytes: hex in JSON, a hex dump for people. This is the seam
// for the data-model issue: JSON and flatbuffers stores will render here as JSON (from the
// schema registered with the store), with `format` "json" and `json` the document itself —
// callers already embed `json` as a value and print `format` beside it.
#ifndef HOLDFAST_CLI_PAYLOAD_RENDER_H_
#define HOLDFAST_CLI_PAYLOAD_RENDER_H_

#include <string>
#include <string_view>

namespace holdfast::cli {

struct RenderedPayload {
  std::string format;  // "hex" (today, every codec)
  std::string json;    // a JSON value: "\"<hex>\"" for hex
  std::string text;    // for a terminal: a hex dump
};

RenderedPayload RenderPayload(std::string_view codec, std::string_view payload);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_PAYLOAD_RENDER_H_
