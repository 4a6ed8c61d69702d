// JsonCodec: profile data as a JSON document (nlohmann::json). An opt-in header: it includes
// nlohmann/json.hpp (Debian: nlohmann-json3-dev; CMake: nlohmann_json::nlohmann_json), which the
// rest of the public API does not.
//
//   auto store = engine->OpenStore<holdfast::JsonCodec>("Players", options);
//   profile->Edit([](nlohmann::json& d) { d["coins"] = d.value("coins", 0) + 10; });
//
// Stored form: compact JSON, object keys sorted (nlohmann::json keeps them in a std::map), so
// equal documents are equal bytes and a save of unchanged data writes nothing. Limits, checked on
// both sides so that no stored bytes can exhaust the stack of a reader: nesting at most
// JsonCodec::kMaxDepth deep; numbers must be finite (JSON has no NaN or infinity, and writing
// `null` for them would change the data silently).
//
// Decode refuses bytes that are not such a document with InvalidArgument: the record's checksum
// already passed, so they are intact bytes this code does not accept — a disagreement, never
// repaired by default (StoreSettings::repair_disagreement).
//
// Reconcile fills what the data lacks from the template, recursively through objects, and never
// overwrites: a key missing from an object is copied from the template's object at the same
// place; arrays and scalars are left as they are, as are places where data and template disagree
// on the type.
#ifndef HOLDFAST_JSON_CODEC_H_
#define HOLDFAST_JSON_CODEC_H_

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holdfast/status.h"

namespace holdfast {

struct JsonCodec {
  using Value = nlohmann::json;
  static constexpr std::string_view kName = "json";
  static constexpr int kMaxDepth = 256;

  static Result<std::string> Encode(const Value& value) {
    if (Status s = CheckDocument(value); !s.ok()) return s;
    try {
      return value.dump();
    } catch (const nlohmann::json::exception& e) {  // a string that is not UTF-8
      return Status::InvalidArgument(std::string("the JSON document cannot be written: ") +
                                     e.what());
    }
  }

  static Result<Value> Decode(std::string_view bytes) {
    const int depth = NestingDepth(bytes);
    if (depth > kMaxDepth) {
      return Status::InvalidArgument("the JSON document is nested deeper than " +
                                     std::to_string(kMaxDepth) + " levels");
    }
    Value parsed = Value::parse(bytes.begin(), bytes.end(), /*cb=*/nullptr,
                                /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return Status::InvalidArgument("the payload is not a JSON document (" +
                                     std::to_string(bytes.size()) + " bytes)");
    }
    if (Status s = CheckDocument(parsed); !s.ok()) return s;
    return parsed;
  }

  static void Reconcile(Value& data, const Value& template_value) {
    // Iterative, so a deep template cannot exhaust the stack.
    std::vector<std::pair<Value*, const Value*>> pending{{&data, &template_value}};
    while (!pending.empty()) {
      auto [into, from] = pending.back();
      pending.pop_back();
      if (!into->is_object() || !from->is_object()) continue;
      for (auto it = from->begin(); it != from->end(); ++it) {
        auto found = into->find(it.key());
        if (found == into->end()) {
          (*into)[it.key()] = it.value();
        } else {
          pending.emplace_back(&*found, &it.value());
        }
      }
    }
  }

  // The deepest nesting of arrays and objects in `bytes`, read as JSON text without parsing it
  // (brackets inside strings do not count). Used to refuse documents that are too deep before a
  // parser sees them.
  static int NestingDepth(std::string_view bytes) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (in_string) {
        if (c == '\\') {
          ++i;  // the escaped character cannot end the string
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        deepest = std::max(deepest, ++depth);
      } else if (c == ']' || c == '}') {
        --depth;
      }
    }
    return deepest;
  }

  // OK when `doc` may be stored: nested at most kMaxDepth deep, every number finite.
  static Status CheckDocument(const Value& doc) {
    std::vector<std::pair<const Value*, int>> pending{{&doc, 1}};
    while (!pending.empty()) {
      auto [value, depth] = pending.back();
      pending.pop_back();
      if (value->is_number_float() && !std::isfinite(value->get<double>())) {
        return Status::InvalidArgument("the JSON document holds a number that is not finite");
      }
      if (!value->is_structured()) continue;
      if (depth > kMaxDepth) {
        return Status::InvalidArgument("the JSON document is nested deeper than " +
                                       std::to_string(kMaxDepth) + " levels");
      }
      for (const auto& child : *value) pending.emplace_back(&child, depth + 1);
    }
    return Status::Ok();
  }
};

}  // namespace holdfast

#endif  // HOLDFAST_JSON_CODEC_H_
