// RenderJson (holdfast/render.h): a payload as JSON text from its store's registration alone.
#include "holdfast/render.h"

#include <flatbuffers/idl.h>

#include <nlohmann/json.hpp>
#include <string>

#include "aligned_bytes.h"
#include "flatbuffer_schema.h"
#include "holdfast/codec.h"
#include "holdfast/json_codec.h"

namespace holdfast {
namespace {

Result<std::string> RenderFlatbuffer(std::string_view codec, std::string_view schema_bytes,
                                     std::string_view payload) {
  const std::string store_codec = "codec '" + std::string(codec) + "'";
  if (schema_bytes.empty()) {
    return Status::InvalidArgument(store_codec +
                                   " has no registered schema (its store was only "
                                   "opened at the byte level), so its payloads cannot be read");
  }
  auto schema = FlatbufferSchema::Parse(schema_bytes);
  if (!schema.ok()) return schema.status().WithContext("the schema of " + store_codec);
  if (codec.substr(kFlatbufferCodecPrefix.size()) != (*schema)->root_name()) {
    return Status::InvalidArgument("the schema of " + store_codec + " has root table '" +
                                   (*schema)->root_name() + "'");
  }
  const internal::AlignedBytes buffer(payload);
  if (Status s = (*schema)->VerifyPayload(buffer.data(), buffer.size()); !s.ok()) return s;

  flatbuffers::IDLOptions options;
  options.strict_json = true;                     // quoted keys: JSON, not flatbuffers' text
  options.indent_step = -1;                       // one line
  options.output_default_scalars_in_json = true;  // fields added later show their defaults
  // Byte vectors marked as nested flatbuffers or flexbuffers print as bytes: the text generator
  // would read them without verifying them.
  options.json_nested_flatbuffers = false;
  options.json_nested_flexbuffers = false;
  flatbuffers::Parser parser(options);
  const auto* bytes = reinterpret_cast<const uint8_t*>((*schema)->bytes().data());
  if (!parser.Deserialize(bytes, (*schema)->bytes().size())) {
    return Status::InvalidArgument("the schema of " + store_codec +
                                   " could not be loaded for rendering: " + parser.error_);
  }
  std::string text;
  if (!flatbuffers::GenerateText(parser, buffer.data(), &text)) {
    return Status::InvalidArgument("the '" + (*schema)->root_name() +
                                   "' payload cannot be written as JSON (a string that is not "
                                   "UTF-8, or an empty member in a vector of unions)");
  }
  // Compact it, keeping the field order; NaN and infinity, which flatbuffers prints as bare
  // words, are not JSON.
  auto parsed = nlohmann::ordered_json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::InvalidArgument("the '" + (*schema)->root_name() +
                                   "' payload holds a value JSON cannot express (NaN or "
                                   "infinity?): " +
                                   text);
  }
  return parsed.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

Result<std::string> RenderJson(std::string_view codec, std::string_view schema,
                               std::string_view payload) {
  if (codec == JsonCodec::kName) {
    auto decoded = JsonCodec::Decode(payload);
    if (!decoded.ok()) return decoded.status();
    return std::string(payload);
  }
  if (codec == BytesCodec::kName) {
    return Status::InvalidArgument(
        "codec 'bytes' stores opaque bytes, which have no JSON form (show them as hex)");
  }
  if (codec.starts_with(kFlatbufferCodecPrefix)) return RenderFlatbuffer(codec, schema, payload);
  return Status::InvalidArgument("unknown codec '" + std::string(codec) +
                                 "': its payloads cannot be rendered as JSON");
}

}  // namespace holdfast
