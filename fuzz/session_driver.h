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
//           kAutosave and kReopen)
//   value   one byte, for kEdit: 0 -> "", 1 -> the template, n -> "d<n>"
//   change  one byte, for kMeta: see MetaChangeOf()
//
// Missing bytes at the end read as zero. Opcode numbers are stored in the corpus: append new
// operations (rollback, once version history lands) at the end and raise kOpcodeCount, so that
// every existing byte keeps its meaning.
#ifndef HOLDFAST_FUZZ_SESSION_DRIVER_H_
#define HOLDFAST_FUZZ_SESSION_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace holdfast::fuzz {

inline constexpr int kKeys = 3;   // profiles per input
inline constexpr int kSlots = 3;  // handles kept per profile (old ones, to test fencing)

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
};
inline constexpr int kOpcodeCount = 12;

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
