// Base64 (RFC 4648, standard alphabet, padded): how export files carry bytes that JSON strings
// cannot (payloads of bytes and flatbuffers stores, keys and metadata that are not UTF-8).
#ifndef HOLDFAST_CLI_BASE64_H_
#define HOLDFAST_CLI_BASE64_H_

#include <optional>
#include <string>
#include <string_view>

namespace holdfast::cli {

std::string Base64Encode(std::string_view bytes);
// The bytes `text` encodes, or nullopt unless it is canonical padded base64 (no whitespace,
// length a multiple of 4, padding only at the end, unused bits zero).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_BASE64_H_
