// What the parent checks after each kill, on the closed directory:
//  - RocksDB opens it read-only and its checksum verification passes;
//  - every record decodes (records.h verifies flatbuffers and checksums) and names a known
//    profile; the manifest's incarnation never goes back;
//  - per profile: the stored epoch is at least every acknowledged one, a lock carries the stored
//    epoch, an acknowledged profile still exists, the payload is whole and was written by the
//    session whose epoch it names (no stale write), it is no older than the last acknowledged
//    save and, when newer, a value that was really in flight; the version history agrees with
//    the data record;
// and, on some kills, through a real engine: every orphaned lock is taken over at once (a start
// with a zero timeout) and reported with the dead holder's identity, and loads the stored data.
// Afterwards the model (model.h) restarts from the stored state.
#ifndef HOLDFAST_TESTS_CRASH_CHECKER_H_
#define HOLDFAST_TESTS_CRASH_CHECKER_H_

#include <map>
#include <string>

#include "model.h"

namespace holdfast::crash {

class Checker {
 public:
  Checker(std::string dir, Model& model, Violations& violations)
      : dir_(std::move(dir)), model_(model), v_(violations) {}

  // Read-only checks of the directory after a kill; resets the model to the stored state.
  void VerifyStored();
  // Opens an engine, starts (and ends) every profile at once, checking orphan takeovers.
  void TakeOverWithEngine();
  // Orphaned locks the engine checks took over (and verified the reports of).
  uint64_t orphans_taken_over() const { return orphans_taken_over_; }

 private:
  std::string dir_;
  Model& model_;
  Violations& v_;
  std::map<std::string, std::string> stored_payloads_;  // from the last VerifyStored
  uint64_t orphans_taken_over_ = 0;
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_CHECKER_H_
