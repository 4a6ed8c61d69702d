// What the parent checks after each kill, reading the records as stored (record_reader.h): a
// closed RocksDB directory, or on PostgreSQL the tables in one snapshot while the other workers
// go on writing (then only the killed worker's own profiles and mailboxes, and the shared vault,
// are checked: CheckTarget):
//  - RocksDB opens it read-only and its checksum verification passes (no equivalent on
//    PostgreSQL);
//  - every record decodes (records.h verifies flatbuffers and checksums) and names a known
//    profile; the manifest's incarnation never goes back;
//  - per profile, through the shared oracle (tests/support/stored_profile.h): the stored epoch
//    is at least every acknowledged one, a lock carries the stored epoch, an acknowledged profile
//    still exists, the data record is the newest version and the version history agrees with
//    it, version numbers never go back or change payload across kills;
//  - per profile, with this test's payload tags: the payload is whole and was written by the
//    session whose epoch it names (no stale write), it is no older than the last acknowledged
//    save and, when newer, a value that was really in flight;
// and, on some kills, through a real engine: every orphaned lock is taken over at once (a start
// with a zero timeout) and reported with the dead holder's identity, and loads the stored data;
// a data record damaged on purpose between kills (DamageOne) is repaired by the next start.
// Afterwards the model (model.h) restarts from the stored state.
#ifndef HOLDFAST_TESTS_CRASH_CHECKER_H_
#define HOLDFAST_TESTS_CRASH_CHECKER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "model.h"
#include "raw_database.h"
#include "record_reader.h"

namespace holdfast::crash {

// What one checker reads and which profiles are its own.
struct CheckTarget {
  std::string database;  // a RocksDB directory or a PostgreSQL connection string
  bool postgres = false;
  // PostgreSQL: the lease of the workers' engines (a dead worker's locks become orphans when it
  // runs out) and of the engine check's own engine.
  std::chrono::milliseconds lease{0};
  // The model's profiles are "<key_prefix>p00"...; Players profiles named with one of
  // other_prefixes belong to another worker slot's checker (PostgreSQL).
  std::string key_prefix;
  std::vector<std::string> other_prefixes;
};

class Checker {
 public:
  Checker(CheckTarget target, Model& model, Violations& violations)
      : target_(std::move(target)), model_(model), v_(violations) {}
  Checker(std::string dir, Model& model, Violations& violations)
      : Checker(CheckTarget{std::move(dir)}, model, violations) {}

  // Read-only checks of the directory after a kill; resets the model to the stored state.
  void VerifyStored();
  // Opens an engine, starts (and ends) every profile at once, checking orphan takeovers.
  void TakeOverWithEngine();
  // Orphaned locks the engine checks took over (and verified the reports of).
  uint64_t orphans_taken_over() const { return orphans_taken_over_; }
  // After VerifyStored (and TakeOverWithEngine), on the closed directory: flips a byte of the
  // stored payload of a random profile that has data, straight through RocksDB, and tells the
  // model what the next start must do about it. False when there was nothing to damage, and
  // always on PostgreSQL (no damage mode there: the server checks nothing it could catch).
  bool DamageOne(std::mt19937_64& rng, int kill);
  uint64_t damages() const { return damages_; }
  // Conservation checks passed: after each kill the stored vault accounts, and the accounts as
  // loaded by the engine check's starts, hold kVaultAccounts * kItemsPerAccount items in all.
  uint64_t conservation_checks() const { return conservation_checks_; }
  // The items traded away from their first account at least once (some trade was stored).
  bool trades_stored() const { return trades_stored_; }
  uint64_t repairs_verified() const { return repairs_verified_; }
  uint64_t damages_overwritten_by_rollback() const { return damages_overwritten_by_rollback_; }

 private:
  // A damaged record still in place: true (and the model keeps waiting for its repair).
  bool StillDamaged(test::RecordReader& raw, const std::string& key,
                    const Result<std::optional<internal::ProfileMeta>>& meta, ProfileModel& p);
  // The record changed since the damage: the stored history must show the repair.
  void VerifyRepair(test::RecordReader& raw, const std::string& key,
                    const internal::ProfileMeta& meta, ProfileModel& p);

  Result<std::unique_ptr<test::RecordReader>> OpenReader();
  // Whether a Players profile of this name is another slot's (PostgreSQL).
  bool Others(const std::string& key) const;

  CheckTarget target_;
  Model& model_;
  Violations& v_;
  // Sums the vault accounts' items (`items(key)`: nullopt for a violation already reported) and
  // reports a total other than kVaultAccounts * kItemsPerAccount.
  void CheckConservation(const std::string& where,
                         const std::function<std::optional<int64_t>(const std::string&)>& items);

  std::map<std::string, std::string> stored_payloads_;  // from the last VerifyStored
  uint64_t conservation_checks_ = 0;
  bool trades_stored_ = false;
  uint64_t orphans_taken_over_ = 0;
  uint64_t damages_ = 0;
  uint64_t repairs_verified_ = 0;
  uint64_t damages_overwritten_by_rollback_ = 0;
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_CHECKER_H_
