// The data a writing command takes — `edit` and `message`: --data TEXT or --file F, exactly one.
// For a JSON store (codec "json") `edit` writes a document: it must parse, and it is stored as
// the JSON codec writes it. Other codecs' payloads are written as given, for the store's own
// check to judge (on a running server that opened the store: its codec and validate).
#ifndef HOLDFAST_CLI_PAYLOAD_INPUT_H_
#define HOLDFAST_CLI_PAYLOAD_INPUT_H_

#include <cxxopts.hpp>
#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast::cli {

// Adds --data and --file; `what` names what they carry ("the new data").
void AddPayloadOptions(cxxopts::Options& options, std::string_view what);
// "" when exactly one of --data and --file is given, else the usage problem.
std::string CheckPayloadOptions(const cxxopts::ParseResult& args);
// The bytes of --data, or of the file --file names (InvalidArgument when it cannot be read).
Result<std::string> ReadPayload(const cxxopts::ParseResult& args);
// The payload to store in a store of `codec`: for "json", `bytes` parsed as one JSON document
// (InvalidArgument naming the parse error) and encoded by JsonCodec; otherwise `bytes`.
Result<std::string> PayloadForCodec(std::string_view codec, std::string bytes);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_PAYLOAD_INPUT_H_
