// Version history: every committed payload change of a profile is kept as a numbered version,
// thinned by a retention policy; corrupt payloads are restored from it; admins roll back to it.
#ifndef HOLDFAST_VERSIONS_H_
#define HOLDFAST_VERSIONS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast {

// Where a profile lives: its store and key.
struct ProfileLocation {
  std::string store;
  std::string key;
  friend bool operator==(const ProfileLocation&, const ProfileLocation&) = default;
  friend auto operator<=>(const ProfileLocation&, const ProfileLocation&) = default;
};

// Why a version was written. The numbers are stored on disk.
enum class VersionReason : uint8_t {
  kSave = 0,                // Save() or an auto-save
  kEndSession = 1,          // the final save of EndSession()
  kHandoff = 2,             // the final save of a session handed off to a newer start
  kRollback = 3,            // Store::Rollback copied an older version (source_version)
  kCorruptionRecovery = 4,  // restored after the payload was found corrupt (source_version)
  kQuarantine = 5,          // the corrupt bytes themselves, kept as evidence, never loaded
  kAdmin = 6,               // written by an admin tool
  kCreate = 7,              // the template written when the profile was created
  kSteal = 8,               // reserved
  kShutdown = 9,            // the final save of Engine::Close()
  kTrade = 10,              // Engine::SaveTogether: one commit with other profiles (partners)
};
std::string_view VersionReasonName(VersionReason reason);  // "save", "end-session", ...

struct VersionInfo {
  uint64_t version = 0;
  int64_t written_unix_ms = 0;
  VersionReason reason = VersionReason::kSave;
  uint64_t epoch = 0;           // the session epoch (or admin epoch) that wrote it
  uint64_t source_version = 0;  // for kRollback / kCorruptionRecovery: the version copied
  uint64_t payload_bytes = 0;
  // The version record itself failed verification (it is listed, and skipped by restores).
  bool damaged = false;
  // For kTrade: the other profiles stored in the same commit (Engine::SaveTogether).
  std::vector<ProfileLocation> partners;
  // The store schema version the payload is in (the migration steps it has been through).
  uint32_t schema_version = 0;
};

// Selects versions, newest first.
struct VersionQuery {
  // Only versions written in [from_unix_ms, to_unix_ms] (inclusive; unset = unbounded).
  std::optional<int64_t> from_unix_ms;
  std::optional<int64_t> to_unix_ms;
  // At most this many (0 = no limit). Default 100.
  size_t limit = 100;
  // Continuation: only versions older than this one (pass the last version of the previous page).
  std::optional<uint64_t> before_version;
};

// Which versions survive pruning. Defaults: the newest 50; beyond those, the newest version of
// each hour for 7 days and of each day for 90 days; nothing older. The newest version is never
// pruned, and quarantined versions stay for the whole daily window.
struct VersionRetention {
  uint32_t keep_newest = 50;
  std::chrono::hours hourly_for{24 * 7};
  std::chrono::hours daily_for{24 * 90};
};

// Stops mass repairs: a bad deploy (a codec or validate that refuses good data) must never roll
// back every player. When, within `window`, more than `min_repairs` starts of a store would
// repair and they are more than `max_share` of its starts, further repairs are refused — the
// start fails with Corruption and changes nothing — until the share falls again. Each refusal
// reaches EngineOptions::on_error and EngineStats::repairs_refused. max_share >= 1 disables it.
struct RepairBreaker {
  double max_share = 0.1;
  std::chrono::milliseconds window{5 * 60'000};
  uint32_t min_repairs = 10;
};

// What a start does when the stored payload is corrupt (fails verification, its checksum, the
// codec's decode, or the store's validate hook).
enum class CorruptionPolicy : uint8_t {
  // Quarantine the corrupt bytes as a version and restore the newest valid version (the
  // template when none is valid). Default.
  kRestoreNewestValid,
  // Fail the start with Corruption and leave the record untouched.
  kFail,
  // Quarantine the corrupt bytes and start from the template.
  kResetToTemplate,
};

struct CorruptionEvent {
  std::string store;
  std::string key;
  uint64_t quarantined_version = 0;  // where the corrupt bytes are kept now
  uint64_t restored_from = 0;        // the version restored (0: the template)
  uint64_t restored_as = 0;          // the new version holding the restored payload
  std::string reason;                // why the payload was judged corrupt
};

}  // namespace holdfast

#endif  // HOLDFAST_VERSIONS_H_
