#include "text_output.h"

#include <algorithm>
#include <ostream>

#include "json_writer.h"

namespace holdfast::cli {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHexByte(std::string& out, unsigned char byte) {
  out.push_back(kHexDigits[byte >> 4]);
  out.push_back(kHexDigits[byte & 0xf]);
}

// Columns are measured in code points, close enough to terminal cells for keys and owners.
size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

}  // namespace

std::string Printable(std::string_view bytes) {
  std::string out;
  while (!bytes.empty()) {
    const size_t length = Utf8SequenceLength(bytes);
    const auto lead = static_cast<unsigned char>(bytes[0]);
    // C0 and C1 control characters (U+0080..U+009F: 0xc2 0x80..0x9f) can steer a terminal.
    const bool control =
        lead < 0x20 || lead == 0x7f ||
        (length == 2 && lead == 0xc2 && static_cast<unsigned char>(bytes[1]) < 0xa0);
    const bool unsafe = length == 0 || control || lead == '\\';
    if (unsafe) {
      out += "\\x";
      AppendHexByte(out, lead);
      bytes.remove_prefix(1);
    } else {
      out.append(bytes.substr(0, length));
      bytes.remove_prefix(length);
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendHexByte(out, static_cast<unsigned char>(c));
  return out;
}

std::string HexDump(std::string_view bytes) {
  std::string out;
  for (size_t offset = 0; offset < bytes.size(); offset += 16) {
    const std::string_view line = bytes.substr(offset, 16);
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHexDigits[(offset >> shift) & 0xf]);
    out += "  ";
    for (size_t i = 0; i < 16; ++i) {
      if (i < line.size()) {
        AppendHexByte(out, static_cast<unsigned char>(line[i]));
      } else {
        out += "  ";
      }
      out += i == 7 ? "  " : " ";
    }
    out += " |";
    for (char c : line) out.push_back(c >= 0x20 && c < 0x7f ? c : '.');
    out += "|\n";
  }
  return out;
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    out << line << '\n';
  }
}

}  // namespace holdfast::cli
