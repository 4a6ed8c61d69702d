// The on-disk records (schema/*.fbs) as plain C++ values, with one encode and one decode function
// per record type. Decoding is the only way bytes from disk enter the engine: it checks the
// envelope checksum, runs the flatbuffers Verifier with limits, checks the format version and the
// payload checksum, and returns Corruption instead of crashing on any bad input.
//
// Value layout (docs/format.md): flatbuffer bytes | u32le masked CRC-32C of those bytes.
#ifndef HOLDFAST_SRC_RECORDS_H_
#define HOLDFAST_SRC_RECORDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"
#include "holdfast/versions.h"

namespace holdfast::internal {

// The newest on-disk format this build reads and writes.
inline constexpr uint32_t kFormatVersion = 1;

struct ProfileRecord {
  uint64_t version = 0;
  std::string payload;
  std::string codec;
  int64_t updated_unix_ms = 0;
  uint64_t epoch = 0;
  uint32_t schema_version = 0;  // the store's migration steps the payload has been through
};

struct SessionLock {
  uint64_t incarnation = 0;
  uint64_t session_id = 0;
  uint64_t epoch = 0;
  int64_t acquired_unix_ms = 0;
  int64_t renewed_unix_ms = 0;
  std::string owner;
};

struct ReleaseRequest {
  uint64_t incarnation = 0;
  uint64_t session_id = 0;
  int64_t requested_unix_ms = 0;
};

// One entry of ProfileMeta::versions.
struct VersionIndexEntry {
  uint64_t version = 0;
  int64_t written_unix_ms = 0;
  uint8_t reason = 0;  // a VersionReason value
  friend bool operator==(const VersionIndexEntry&, const VersionIndexEntry&) = default;
};

struct ProfileMeta {
  uint64_t epoch = 0;
  std::optional<SessionLock> lock;
  std::optional<ReleaseRequest> release_request;
  uint64_t load_count = 0;
  int64_t first_session_unix_ms = 0;
  int64_t created_unix_ms = 0;
  int64_t updated_unix_ms = 0;
  std::vector<int64_t> user_ids;                // sorted, unique
  std::map<std::string, std::string> metadata;  // sorted by key
  uint64_t last_version = 0;
  uint64_t next_message_seq = 0;
  uint64_t acked_message_seq = 0;
  std::vector<VersionIndexEntry> versions;  // retained versions, ascending
};

// Mirrors fb::VersionReason; the numbers are stored on disk.
// Why a version was written: the public holdfast::VersionReason is the one enum for it; its
// numbers are the schema's (schema/version_record.fbs), checked in records.cc.
inline constexpr uint8_t kMaxVersionReason = static_cast<uint8_t>(VersionReason::kTrade);

struct VersionRecord {
  uint64_t version = 0;
  std::string payload;
  std::string codec;
  int64_t written_unix_ms = 0;
  VersionReason reason = VersionReason::kSave;
  uint64_t epoch = 0;
  uint64_t source_version = 0;
  std::vector<ProfileLocation> partners;  // kTrade: the other profiles of the commit
  uint32_t schema_version = 0;
};

struct MessageRecord {
  uint64_t sequence = 0;
  std::string payload;
  int64_t sent_unix_ms = 0;
};

struct StoreEntry {
  std::string name;
  std::string codec;
  std::string schema;
  int64_t created_unix_ms = 0;
};

struct Manifest {
  uint32_t format_version = kFormatVersion;
  int64_t created_unix_ms = 0;
  uint64_t last_incarnation = 0;
  std::vector<StoreEntry> stores;  // sorted by name
  std::string last_writer;
  bool user_id_index = false;  // the user-id index is complete (schema/manifest.fbs)
};

std::string EncodeProfileRecord(const ProfileRecord& r);
std::string EncodeProfileMeta(const ProfileMeta& m);
std::string EncodeVersionRecord(const VersionRecord& r);
std::string EncodeManifest(const Manifest& m);
std::string EncodeMessageRecord(const MessageRecord& r);

// Each returns Corruption (with the reason) for any bytes that are not a valid record of its type.
Result<ProfileRecord> DecodeProfileRecord(std::string_view bytes);
Result<ProfileMeta> DecodeProfileMeta(std::string_view bytes);
Result<VersionRecord> DecodeVersionRecord(std::string_view bytes);
Result<MessageRecord> DecodeMessageRecord(std::string_view bytes);
// A manifest with a format version newer than kFormatVersion decodes successfully, so that the
// caller can refuse the database with a clear message; every other record type refuses it here.
Result<Manifest> DecodeManifest(std::string_view bytes);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_RECORDS_H_
