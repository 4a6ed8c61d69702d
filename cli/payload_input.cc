#include "payload_input.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "holdfast/json_codec.h"

namespace holdfast::cli {

void AddPayloadOptions(cxxopts::Options& options, std::string_view what) {
  options.add_options()("data", std::string(what) + ", given on the command line",
                        cxxopts::value<std::string>(), "TEXT");
  options.add_options()("file", std::string(what) + ", read from file F ('-' for stdin)",
                        cxxopts::value<std::string>(), "F");
}

std::string CheckPayloadOptions(const cxxopts::ParseResult& args) {
  if (args.count("data") == args.count("file")) return "give exactly one of --data and --file";
  return "";
}

Result<std::string> ReadPayload(const cxxopts::ParseResult& args) {
  if (args.count("data")) return args["data"].as<std::string>();
  const std::string name = args["file"].as<std::string>();
  std::stringstream bytes;
  if (name == "-") {
    bytes << std::cin.rdbuf();
  } else {
    std::ifstream in(name, std::ios::binary);
    if (!in) return Status::InvalidArgument("cannot read --file '" + name + "'; nothing was changed");
    bytes << in.rdbuf();
  }
  return bytes.str();
}

Result<std::string> PayloadForCodec(std::string_view codec, std::string bytes) {
  if (codec != JsonCodec::kName) return bytes;
  auto document = JsonCodec::Decode(bytes);
  if (!document.ok()) {
    return Status::InvalidArgument("the data is not a JSON document this store accepts (" +
                                   document.status().message() + "); nothing was changed");
  }
  return JsonCodec::Encode(*document);
}

}  // namespace holdfast::cli
