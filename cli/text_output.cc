#include "text_output.h"

#include <algorithm>
#include <cstdint>
#include <ostream>

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

size_t Utf8SequenceLength(std::string_view bytes) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code_point = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code_point = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code_point = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (bytes.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3f);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10ffff) return 0;  // overlong, too large
  if (code_point >= 0xd800 && code_point <= 0xdfff) return 0;             // surrogate
  return length;
}

bool IsUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t length = Utf8SequenceLength(bytes);
    if (length == 0) return false;
    bytes.remove_prefix(length);
  }
  return true;
}

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
