// JsonWriter: writes one JSON document to a stream, for the commands' --json output. Compact
// (one line); the caller ends the line. Strings are written as UTF-8: valid sequences as they
// are, control characters escaped, and bytes that are not UTF-8 replaced by U+FFFD — so a
// command that prints arbitrary bytes (profile keys) also prints them losslessly another way
// (IsUtf8 tells when).
#ifndef HOLDFAST_CLI_JSON_WRITER_H_
#define HOLDFAST_CLI_JSON_WRITER_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

namespace holdfast::cli {

// The length of the UTF-8 sequence (one code point) at the start of `bytes` (not empty), or 0 when
// they do not start with valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
size_t Utf8SequenceLength(std::string_view bytes);
// True when `bytes` are valid UTF-8.
bool IsUtf8(std::string_view bytes);

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // The name of the next member of the current object.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // A value already rendered as JSON (a payload rendered by its codec).
  JsonWriter& Raw(std::string_view json);

  // Key and value in one call.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonWriter& Field(std::string_view key, T value) {
    Key(key);
    if constexpr (std::signed_integral<T>) return Int(value);
    return Uint(value);
  }

 private:
  // Writes the separator a new value needs in the current container.
  void BeforeValue();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);
  void Quoted(std::string_view text);

  std::ostream& out_;
  std::vector<bool> empty_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

// Writes one JSON document with `write` (given a JsonWriter) and ends the line.
template <typename Write>
void PrintJsonLine(std::ostream& out, Write&& write) {
  JsonWriter json(out);
  write(json);
  out << '\n';
}

// One line holding a JSON array of `items`, each written by `write_item(json, item)`.
template <typename Items, typename WriteItem>
void PrintJsonArray(std::ostream& out, const Items& items, WriteItem&& write_item) {
  PrintJsonLine(out, [&](JsonWriter& json) {
    json.BeginArray();
    for (const auto& item : items) write_item(json, item);
    json.EndArray();
  });
}

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_JSON_WRITER_H_
