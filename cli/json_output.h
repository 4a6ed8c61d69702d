// The commands' --json output: documents built as nlohmann::ordered_json (members stay in the
// order the command adds them) and printed as one line. Strings are UTF-8: bytes that are not
// are replaced by U+FFFD, so a command that prints arbitrary bytes (profile keys) also prints
// them losslessly another way (fields.h: key_hex).
#ifndef HOLDFAST_CLI_JSON_OUTPUT_H_
#define HOLDFAST_CLI_JSON_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <ostream>

namespace holdfast::cli {

using Json = nlohmann::ordered_json;

// `value` as compact JSON and a newline.
void PrintJson(std::ostream& out, const Json& value);

// An array of `to_json(item)` for each of `items`.
template <typename Items, typename ToJson>
Json JsonArray(const Items& items, ToJson&& to_json) {
  Json array = Json::array();
  for (const auto& item : items) array.push_back(to_json(item));
  return array;
}

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_JSON_OUTPUT_H_
