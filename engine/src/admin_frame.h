// The admin socket's frames (schema/admin_frame.fbs): requests and responses as plain structs,
// their one encode and one verifying decode each, and the length prefix that carries them on
// the socket. Used by the engine's admin socket server and by AdminClient; fuzzed by
// fuzz/targets/admin_frame.cc.
//
// A frame on the socket: a 4-byte little-endian body length, then the body (one AdminFrame
// flatbuffer, identifier "HFAF"). Decoding never trusts the bytes: the identifier, the
// flatbuffers Verifier (bounds, depth, table count, scalar alignment), the alignment of 8-byte
// vectors, the frame version and every enum value are checked before a field is read; anything
// else is InvalidArgument naming what is wrong.
//
// Thread safety: pure functions.
#ifndef HOLDFAST_SRC_ADMIN_FRAME_H_
#define HOLDFAST_SRC_ADMIN_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/admin.h"
#include "holdfast/engine.h"
#include "holdfast/stats.h"
#include "holdfast/status.h"

namespace holdfast::internal {

// The newest frame version this build writes and reads.
inline constexpr uint32_t kAdminFrameVersion = 1;
// The length prefix of every frame.
inline constexpr size_t kAdminFrameHeaderBytes = 4;

// One AdminService call each (schema/admin_frame.fbs AdminOp; same numbers).
enum class AdminOp : uint8_t {
  kUnknown = 0,
  kInfo,
  kStores,
  kProfiles,
  kLocks,
  kInspect,
  kVersions,
  kFindByUserId,
  kVerify,
  kCheckpoint,
  kCompact,
  kRollback,
  kRollbackTo,
  kEdit,
  kRelease,
  kMessage,
  kErase,
  kEraseUser,
  kRegistration,
  kStats,
};
inline constexpr AdminOp kLastAdminOp = AdminOp::kStats;

// Which fields an op uses is listed in the schema; the others stay at their defaults.
struct AdminRequest {
  AdminOp op = AdminOp::kUnknown;
  std::string store;
  std::string key;
  std::optional<uint64_t> version;  // Inspect (unset: current data), Rollback
  int64_t unix_ms = 0;              // RollbackTo
  std::string payload;              // Edit, Message
  int64_t user_id = 0;              // FindByUserId, EraseUser
  ProfileQuery profiles;            // Profiles
  VersionQuery versions;            // Versions
  std::string path;                 // Checkpoint
};

struct AdminResponse {
  Status status;
  uint64_t number = 0;  // Rollback, RollbackTo, Edit: the new version; Release: ReleaseOutcome
  EngineInfo info;
  std::vector<StoreSummary> stores;
  ProfileList profiles;
  std::vector<HeldLock> locks;
  std::optional<ProfileDetails> details;
  std::vector<VersionInfo> versions;
  std::vector<ProfileLocation> locations;
  VerifyReport verify;
  std::optional<StoreRegistration> registration;
  std::optional<EngineStats> stats;  // Stats
};

// The length prefix of a body of `body_bytes`, and its reading.
std::string AdminFrameHeader(size_t body_bytes);
uint32_t ReadAdminFrameHeader(const char* header);

// Frame bodies (no length prefix).
std::string EncodeAdminRequest(const AdminRequest& request);
Result<AdminRequest> DecodeAdminRequest(std::string_view body);
std::string EncodeAdminResponse(const AdminResponse& response);
Result<AdminResponse> DecodeAdminResponse(std::string_view body);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ADMIN_FRAME_H_
