// Input limits. Every public call checks its inputs against these and returns InvalidArgument
// with a message naming the limit; nothing is written when a check fails.
#ifndef HOLDFAST_LIMITS_H_
#define HOLDFAST_LIMITS_H_

#include <cstddef>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast {

// Store names: 1–64 bytes of ASCII letters, digits, '_', '-' and '.'. They appear in file-free
// places only (keys, the manifest, CLI output) but are kept printable for operators.
inline constexpr size_t kMaxStoreNameBytes = 64;
// Profile keys: 1–256 arbitrary bytes (NUL and non-UTF-8 bytes included).
inline constexpr size_t kMaxProfileKeyBytes = 256;
// Default largest payload (encoded profile data) a save may write: 4 MiB. Configurable per engine
// with EngineOptions::max_payload_bytes up to kMaxPayloadLimitBytes.
inline constexpr size_t kDefaultMaxPayloadBytes = size_t{4} << 20;
// Hard ceiling for EngineOptions::max_payload_bytes: 256 MiB (flatbuffers address 2 GiB; the rest
// is headroom for the record around the payload and for version history).
inline constexpr size_t kMaxPayloadLimitBytes = size_t{256} << 20;

// User ids per profile (GDPR requests, Engine::FindByUserId): at most 64.
inline constexpr size_t kMaxUserIdsPerProfile = 64;
// Profile metadata: at most 64 entries, keys 1–128 bytes, values up to 4 KiB.
inline constexpr size_t kMaxMetadataEntries = 64;
inline constexpr size_t kMaxMetadataKeyBytes = 128;
inline constexpr size_t kMaxMetadataValueBytes = 4096;

// Profiles one Engine::SaveTogether may store in its single transaction.
inline constexpr size_t kMaxSaveTogetherProfiles = 64;

// OK, or InvalidArgument saying which rule the name breaks.
Status ValidateStoreName(std::string_view name);
// OK, or InvalidArgument when the key is empty or longer than kMaxProfileKeyBytes.
Status ValidateProfileKey(std::string_view key);
// OK, or InvalidArgument when `size` exceeds `limit`.
Status ValidatePayloadSize(size_t size, size_t limit);

}  // namespace holdfast

#endif  // HOLDFAST_LIMITS_H_
