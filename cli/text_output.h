// The commands' output for people (without --json): bytes made safe for a terminal, hex, and
// tables with aligned columns.
#ifndef HOLDFAST_CLI_TEXT_OUTPUT_H_
#define HOLDFAST_CLI_TEXT_OUTPUT_H_

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::cli {

// The length of the UTF-8 sequence (one code point) at the start of `bytes` (not empty), or 0
// when they do not start with valid UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF).
size_t Utf8SequenceLength(std::string_view bytes);
// True when `bytes` are valid UTF-8.
bool IsUtf8(std::string_view bytes);

// `bytes` for a terminal: UTF-8 text as it is; control characters, backslashes and bytes that are
// not UTF-8 as \xNN, so that no key can move the cursor or hide another.
std::string Printable(std::string_view bytes);

// Lowercase hex, two digits a byte.
std::string Hex(std::string_view bytes);

// A hex dump: lines of "offset  16 bytes in hex  |printable ASCII|".
std::string HexDump(std::string_view bytes);

// Rows printed under a header with each column as wide as its widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // the header first
};

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_TEXT_OUTPUT_H_
