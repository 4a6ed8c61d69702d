// The operation-sequence fuzzer: RunSessionOps drives an in-memory engine with the operations an
// input encodes and checks it against a model after each one (fuzz/session_driver.cc). Targets
// fuzz/targets/session_ops.cc (no reopens: fast) and session_reopen.cc (with reopens) call it.
//
// The byte format of their inputs, shared with the seed generator (fuzz/make_seeds.cc):
//
// An input is a sequence of operations, each an opcode byte followed by its operands:
//
//   opcode  (byte % kOpcodeCount) selects the operation below
//   target  key = byte % kKeys, slot = (byte / kKeys) % kSlots       (every operation but
//           kAutosave and kReopen; the store-level ones and kFault ignore the slot)
//   value   one byte, for kEdit: 0 -> "", 1 -> the template, n -> "d<n>"
//   change  one byte, for kMeta: see MetaChangeOf()
//   version one byte, for kRollback: the version number itself (0 and numbers not written yet
//           are never valid); for kGet: 0 -> the current data, n -> version n
//   time    one byte, for kRollbackTo: see TimeOf()
//   query   one byte, for kVersions: see QueryOf()
//   fault   one byte, for kFault: see FaultOf()
//
// Missing bytes at the end read as zero; operations past kMaxOps are ignored. Opcode numbers
// are stored in the corpus: append new operations at the end and raise kOpcodeCount, so that
// every existing opcode keeps its meaning (opcode bytes of kOpcodeCount and above, which fuzzed
// inputs hold, do change what they select: such inputs just land elsewhere in the search).
#ifndef HOLDFAST_FUZZ_SESSION_DRIVER_H_
#define HOLDFAST_FUZZ_SESSION_DRIVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "holdfast/hooks.h"
#include "holdfast/status.h"
#include "holdfast/versions.h"
#include "storage.h"

namespace holdfast::fuzz {

inline constexpr int kKeys = 3;   // profiles per input
inline constexpr int kSlots = 3;  // handles kept per profile (old ones, to test fencing)
// Operations per input, and the bytes that hold them (the targets' -max_len): an operation costs
// 50 us to 1 ms under ASan (a commit or two; a handoff also crosses threads twice), so an input
// stays within a few milliseconds. The rest of a longer input is ignored.
inline constexpr size_t kMaxOps = 24;
inline constexpr size_t kMaxInputBytes = 64;
// How far kAutosave moves the fake clock (the store's auto-save period); times in operands are
// counted in it from the input's start.
inline constexpr std::chrono::milliseconds kAutosavePeriod{1000};

enum class SessionOp : uint8_t {
  kStart = 0,           // StartSession (hands off from a live session)
  kStartSteal = 1,      // StartSession with SessionOptions::steal
  kStartNoWait = 2,     // StartSession with a zero timeout: TimedOut on a held profile
  kStartCancelled = 3,  // StartSession with a cancelled token: Cancelled, nothing changes
  kEdit = 4,            // Edit the handle's data to `value`
  kSave = 5,            // Save()
  kEnd = 6,             // EndSession()
  kMeta = 7,            // a user id or metadata change on the handle
  kDrop = 8,            // destroy the handle (the session stays active in the engine)
  kOrphan = 9,          // leave a lock of a crashed engine on a free profile (via storage)
  kAutosave = 10,       // advance the fake clock one auto-save period and wait for the saves
  kReopen = 11,         // Engine::Close (final saves) and Engine::Open on the same volume, when
                        // the target allows it (SessionDriverOptions::max_reopens)
  kRollback = 12,       // Store::Rollback(key, `version`)
  kRollbackTo = 13,     // Store::RollbackTo(key, `time`)
  kVersions = 14,       // Store::Versions(key, `query`), checked against the model's history
  kGet = 15,            // Store::Get(key) or Get(key, `version`): the read-only view
  kFault = 16,          // arm a failure for the next commits of one kind on the profile: `fault`
};
inline constexpr int kOpcodeCount = 17;

inline uint8_t TargetByte(int key, int slot) { return static_cast<uint8_t>(key + kKeys * slot); }

inline std::string ValueOf(uint8_t byte, const std::string& template_value) {
  if (byte == 0) return "";
  if (byte == 1) return template_value;
  return "d" + std::to_string(byte);
}

// The `change` operand of kMeta.
struct MetaChange {
  enum Kind : uint8_t { kAddUserId, kRemoveUserId, kSetMetadata, kEraseMetadata, kSetEmptyKey };
  Kind kind;
  int64_t user_id;    // -1..2
  std::string key;    // "m0" or "m1"
  std::string value;  // "" or "v1".."v25"
};

inline MetaChange MetaChangeOf(uint8_t byte) {
  return MetaChange{static_cast<MetaChange::Kind>(byte % 5), static_cast<int64_t>(byte / 5 % 4) - 1,
                    "m" + std::to_string(byte / 5 % 2),
                    byte < 10 ? std::string() : "v" + std::to_string(byte / 10)};
}

// The `time` operand of kRollbackTo, as milliseconds from the input's start (the fake wall clock
// then): a whole number of auto-save periods from -1 to 2, plus 0, -1, +1 or half a period, so
// that versions written just at, before and after the time are all reachable.
inline int64_t TimeOf(uint8_t byte) {
  static constexpr int64_t kFine[4] = {0, -1, 1, kAutosavePeriod.count() / 2};
  return kAutosavePeriod.count() * ((byte >> 2) % 4 - 1) + kFine[byte & 3];
}

// The `query` operand of kVersions: bits 0-1 the limit (default 100, 1, 2, none), bits 2-4 an
// older-than version (none, or 3 * n), bits 5-6 a time range relative to the input's start at
// `start_unix_ms` (none; from one period on; up to the start; exactly one period in).
inline VersionQuery QueryOf(uint8_t byte, int64_t start_unix_ms) {
  static constexpr size_t kLimits[4] = {100, 1, 2, 0};
  VersionQuery query;
  query.limit = kLimits[byte & 3];
  if (int before = (byte >> 2) & 7; before != 0) query.before_version = 3 * before;
  const int64_t one_period = start_unix_ms + kAutosavePeriod.count();
  switch ((byte >> 5) & 3) {
    case 1:
      query.from_unix_ms = one_period;
      break;
    case 2:
      query.to_unix_ms = start_unix_ms;
      break;
    case 3:
      query.from_unix_ms = query.to_unix_ms = one_period;
      break;
  }
  return query;
}

// The `fault` operand of kFault: what the fuzzer's fault hooks (session_harness.h) do to the next
// commits of one kind on the target profile. Arming replaces what was armed for that kind there;
// everything is disarmed before the input ends its sessions.
//   bits 0-1  the commit kind: kAcquire (a start), kSave (Save, auto-save), kRelease (EndSession,
//             a handoff's, a rollback's or a shutdown's final save), kRollback (Store::Rollback)
//   bits 2-3  the failure: IOError, ResourceExhausted, conflicts fewer than the engine retries
//             (the commit succeeds after them), conflicts as many as it retries (it fails, Busy)
//   bits 4-5  how much: IOError and ResourceExhausted fail the next 1-4 commits; fewer
//             conflicts are 1, 2, 3 or kDefaultTransactionAttempts - 1 on the next commit; as
//             many fail the next 1 or 2 commits (bit 4; each costs all the engine's attempts)
//   bits 6-7  ignored
struct FaultSpec {
  CommitKind kind = CommitKind::kSave;
  StatusCode code = StatusCode::kIOError;  // kIOError, kResourceExhausted or kBusy
  int commits = 0;                         // commits it applies to
  int busy = 0;                            // kBusy: conflicts each of those commits meets
  // The model's copy of the hooks' state (FuzzHooks::Armed::busy_seen): conflicts the current
  // commit has met so far. Zero between one-point commits; a handoff's two-point transaction
  // can end with it set.
  int busy_seen = 0;
};

inline constexpr int kBusyLimit = internal::kDefaultTransactionAttempts;

inline FaultSpec FaultOf(uint8_t byte) {
  static constexpr CommitKind kKinds[4] = {CommitKind::kAcquire, CommitKind::kSave,
                                           CommitKind::kRelease, CommitKind::kRollback};
  static constexpr int kFewer[4] = {1, 2, 3, kBusyLimit - 1};
  const int how_much = (byte >> 4) & 3;
  FaultSpec spec;
  spec.kind = kKinds[byte & 3];
  switch ((byte >> 2) & 3) {
    case 0:
      spec = {spec.kind, StatusCode::kIOError, 1 + how_much, 0};
      break;
    case 1:
      spec = {spec.kind, StatusCode::kResourceExhausted, 1 + how_much, 0};
      break;
    case 2:
      spec = {spec.kind, StatusCode::kBusy, 1, kFewer[how_much]};
      break;
    case 3:
      spec = {spec.kind, StatusCode::kBusy, 1 + (how_much & 1), kBusyLimit};
      break;
  }
  return spec;
}

// The inverse of FaultOf for the seed generator: kind 0-3, failure 0-3, how much 0-3 (as above).
inline uint8_t FaultByte(int kind, int failure, int how_much) {
  return static_cast<uint8_t>((kind & 3) | (failure & 3) << 2 | (how_much & 3) << 4);
}

struct SessionDriverOptions {
  // Reopens that take effect per input; later kReopen operations do nothing. A reopen costs
  // ~45 ms under ASan (RocksDB writes and re-parses its OPTIONS file on every open) against
  // ~2 ms for a whole input without one, so the fast target has none.
  int max_reopens = 0;
};

// Runs one input. Aborts (FUZZ_CHECK) when the engine departs from the model.
void RunSessionOps(const uint8_t* data, size_t size, const SessionDriverOptions& options);

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_SESSION_DRIVER_H_
