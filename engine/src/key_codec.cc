#include "key_codec.h"

#include "holdfast/limits.h"

namespace holdfast::internal {

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint64_t ReadBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string EncodeStorePrefix(std::string_view store) {
  std::string out;
  out.reserve(1 + store.size());
  out.push_back(static_cast<char>(store.size()));
  out.append(store);
  return out;
}

std::string EncodeProfileKey(std::string_view store, std::string_view key) {
  std::string out = EncodeStorePrefix(store);
  out.reserve(out.size() + 2 + key.size() + 8);
  out.push_back(static_cast<char>((key.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(key.size() & 0xff));
  out.append(key);
  return out;
}

std::string EncodeVersionKey(std::string_view store, std::string_view key, uint64_t version) {
  return VersionKeyOf(EncodeProfileKey(store, key), version);
}

std::string VersionKeyOf(std::string_view profile_key, uint64_t version) {
  std::string out(profile_key);
  AppendBigEndian64(&out, version);
  return out;
}

std::string EncodeMessageKey(std::string_view store, std::string_view key, uint64_t sequence) {
  return EncodeVersionKey(store, key, sequence);
}

Result<DecodedKey> DecodeKey(std::string_view bytes, bool with_number) {
  auto bad = [&](const char* why) {
    return Status::Corruption(std::string("malformed key (") + why + "), " +
                              std::to_string(bytes.size()) + " bytes");
  };
  if (bytes.empty()) return bad("empty");
  size_t store_len = static_cast<unsigned char>(bytes[0]);
  if (store_len == 0 || store_len > kMaxStoreNameBytes) return bad("store length out of range");
  if (bytes.size() < 1 + store_len + 2) return bad("truncated");
  DecodedKey out;
  out.store.assign(bytes.substr(1, store_len));
  if (!ValidateStoreName(out.store).ok()) return bad("store name has forbidden bytes");
  size_t pos = 1 + store_len;
  size_t key_len = (size_t{static_cast<unsigned char>(bytes[pos])} << 8) |
                   static_cast<unsigned char>(bytes[pos + 1]);
  pos += 2;
  if (key_len == 0 || key_len > kMaxProfileKeyBytes) return bad("profile key length out of range");
  size_t expected = pos + key_len + (with_number ? 8 : 0);
  if (bytes.size() != expected)
    return bad(bytes.size() < expected ? "truncated" : "trailing bytes");
  out.key.assign(bytes.substr(pos, key_len));
  pos += key_len;
  if (with_number) out.number = ReadBigEndian64(bytes.data() + pos);
  return out;
}

std::string UserIdPrefix(int64_t user_id) {
  std::string out(kUserIdIndexPrefix);
  // Flipping the sign bit makes the unsigned big-endian order the numeric order of the ids.
  AppendBigEndian64(&out, static_cast<uint64_t>(user_id) ^ (uint64_t{1} << 63));
  return out;
}

std::string UserIdKey(int64_t user_id, std::string_view profile_key) {
  std::string out = UserIdPrefix(user_id);
  out.append(profile_key);
  return out;
}

Result<DecodedUserIdKey> DecodeUserIdKey(std::string_view bytes) {
  const size_t head = kUserIdIndexPrefix.size() + 8;
  if (bytes.size() < head || bytes.substr(0, kUserIdIndexPrefix.size()) != kUserIdIndexPrefix) {
    return Status::Corruption("malformed user-id index key");
  }
  auto profile = DecodeKey(bytes.substr(head), /*with_number=*/false);
  if (!profile.ok()) return profile.status().WithContext("user-id index key");
  DecodedUserIdKey out;
  out.user_id =
      static_cast<int64_t>(ReadBigEndian64(bytes.data() + kUserIdIndexPrefix.size()) ^
                           (uint64_t{1} << 63));
  out.store = std::move(profile->store);
  out.key = std::move(profile->key);
  return out;
}

}  // namespace holdfast::internal
