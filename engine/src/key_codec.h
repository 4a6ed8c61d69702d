// Key encoding for every column family (docs/format.md, "Keys").
//
//   profile key  = u8 store_len | store bytes | u16be key_len | key bytes
//   version key  = profile key | u64be version
//   message key  = profile key | u64be sequence
//   user-id key  = "holdfast.uid/" | u64be (user id with its sign bit flipped) | profile key
//                  (default family; the entry is the key, its value is empty)
//
// Length prefixes make the encoding injective (no store name or profile key can collide with or
// be a prefix of another), and big-endian numbers make a profile's versions and messages scan in
// numeric order. Profiles themselves order by (store length, store bytes, key length, key bytes).
#ifndef HOLDFAST_SRC_KEY_CODEC_H_
#define HOLDFAST_SRC_KEY_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast::internal {

// The reserved key of the manifest record in the default family.
inline constexpr std::string_view kManifestKey = "holdfast.manifest";

// The user-id index in the default family: every key under this prefix.
inline constexpr std::string_view kUserIdIndexPrefix = "holdfast.uid/";
// Every entry for `user_id` starts with this; the full entry appends the profile key.
std::string UserIdPrefix(int64_t user_id);
std::string UserIdKey(int64_t user_id, std::string_view profile_key);
// The user id and (store, key) of an index entry read from disk; Corruption when malformed.
struct DecodedUserIdKey {
  int64_t user_id = 0;
  std::string store;
  std::string key;
};
Result<DecodedUserIdKey> DecodeUserIdKey(std::string_view bytes);

// Callers validate names and keys first (ValidateStoreName / ValidateProfileKey).
std::string EncodeStorePrefix(std::string_view store);
std::string EncodeProfileKey(std::string_view store, std::string_view key);
std::string EncodeVersionKey(std::string_view store, std::string_view key, uint64_t version);
// The same key from an already encoded profile key (EncodeProfileKey).
std::string VersionKeyOf(std::string_view profile_key, uint64_t version);
std::string EncodeMessageKey(std::string_view store, std::string_view key, uint64_t sequence);
// The key of message `sequence` of the profile whose profile key is `profile_key` (the layout of
// a version key, in the `messages` family).
inline std::string MessageKeyOf(std::string_view profile_key, uint64_t sequence) {
  return VersionKeyOf(profile_key, sequence);
}

// Appends / reads a big-endian 64-bit number.
void AppendBigEndian64(std::string* out, uint64_t v);
uint64_t ReadBigEndian64(const char* p);

struct DecodedKey {
  std::string store;
  std::string key;
  // The trailing version or sequence number, for version and message keys.
  std::optional<uint64_t> number;
};

// Decodes bytes read from disk. `with_number` says whether a u64 suffix must follow (version and
// message keys) or must not (data and meta keys). Any malformed input gives Corruption.
Result<DecodedKey> DecodeKey(std::string_view bytes, bool with_number);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_KEY_CODEC_H_
