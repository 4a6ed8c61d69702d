// The stored-record half of the shared oracle: one profile's records as stored (meta, data record
// and the version records its index names) and the checks every harness makes of them.
//
// CheckStoredProfile reports, to a ViolationSink (violations.h):
//  - what every stored profile keeps, whatever happened before: no data record without a meta
//    record; a stored lock carries the stored epoch; the data record is the newest version
//    (its number is meta's last_version) and was written under an epoch no newer than the
//    stored one; the index is strictly ascending, holds no number above last_version, and each
//    entry has its record; the data record's version is indexed, not quarantined, and its
//    record holds the same payload written under the same epoch;
//  - what the caller's history or model says (ExpectedProfile, each field optional): the
//    stored epoch (exactly, or at least every acknowledged one), whether a lock is stored and by
//    which session, the version counter, and whether data is stored, written under which epoch,
//    holding which payload.
// VersionLedger adds the rule across observations of one profile (the crash test's kills):
// last_version never goes back, and a version number always names the same payload.
//
// Not thread-safe; read a profile while no commit runs on it (a closed engine, or between
// operations of a single-threaded driver).
#ifndef HOLDFAST_TESTS_SUPPORT_STORED_PROFILE_H_
#define HOLDFAST_TESTS_SUPPORT_STORED_PROFILE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "history_oracle.h"
#include "records.h"
#include "storage.h"
#include "violations.h"

namespace holdfast::test {

struct StoredProfile {
  std::optional<internal::ProfileMeta> meta;    // nullopt: no meta record
  std::optional<internal::ProfileRecord> data;  // nullopt: no data record
  // The version records of meta's index that exist, by number (a missing one is a violation).
  std::map<uint64_t, internal::VersionRecord> versions;
};

// Reads one profile's records through the engine's storage. Returns Corruption when a record
// fails to decode, and other storage errors as Storage::Get returns them.
Result<StoredProfile> ReadStoredProfile(internal::Storage& storage, std::string_view store,
                                        std::string_view key);

// What a history or a model says a profile's stored records hold. Unset fields are not checked.
struct ExpectedProfile {
  std::optional<bool> has_meta;
  std::optional<uint64_t> epoch;  // the stored epoch, exactly
  uint64_t min_epoch = 0;         // the stored epoch at least (every acknowledged one)
  std::optional<bool> locked;     // whether a lock is stored
  std::optional<uint64_t> lock_session_id;
  std::optional<uint64_t> last_version;  // meta's version counter
  std::optional<bool> has_data;
  std::optional<uint64_t> data_epoch;  // the epoch of the commit that wrote the newest payload
  std::optional<std::string> payload;
};

// What a replayed history (history_oracle.h) says of a profile that no engine holds locks on
// apart from the sessions in the history: no orphaned lock, no record damaged.
ExpectedProfile ExpectedFromHistory(const KeyHistory& history);

// Reports to `sink`, each report starting with `who`, every rule (top of this file) that
// `stored` breaks.
void CheckStoredProfile(const StoredProfile& stored, const ExpectedProfile& expected,
                        std::string_view who, ViolationSink& sink);

// CheckStoredProfile(stored, ExpectedFromHistory(history), who, sink).
void CheckStoredAgainstHistory(const StoredProfile& stored, const KeyHistory& history,
                               std::string_view who, ViolationSink& sink);

class VersionLedger {
 public:
  // Checks `stored` against every earlier observation, then remembers it.
  void Observe(const StoredProfile& stored, std::string_view who, ViolationSink& sink);
  uint64_t last_version() const { return last_version_; }

 private:
  uint64_t last_version_ = 0;              // the highest last_version observed
  std::map<uint64_t, size_t> payloads_;  // version number -> hash of the payload it held
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_SUPPORT_STORED_PROFILE_H_
