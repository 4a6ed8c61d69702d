#include "peer_messages.h"

#include "key_codec.h"

namespace holdfast::internal {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string EncodePeerMessage(PeerMessageKind kind, std::string_view profile_key) {
  std::string out;
  out.reserve(2 + 2 * profile_key.size());
  out.push_back(static_cast<char>(kind));
  out.push_back(':');
  for (unsigned char c : profile_key) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<PeerMessage> DecodePeerMessage(std::string_view text) {
  if (text.size() < 2 || text[1] != ':' || text.size() % 2 != 0) return std::nullopt;
  const char kind = text[0];
  if (kind != 'r' && kind != 'f' && kind != 'm') return std::nullopt;
  std::string bytes;
  bytes.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int high = HexValue(text[i]);
    const int low = HexValue(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  auto decoded = DecodeKey(bytes, /*with_number=*/false);
  if (!decoded.ok()) return std::nullopt;
  return PeerMessage{static_cast<PeerMessageKind>(kind), std::move(decoded->store),
                     std::move(decoded->key)};
}

}  // namespace holdfast::internal
