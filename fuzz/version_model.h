// The operation-sequence fuzzer's model of one profile's version history (fuzz/session_driver.cc):
// which versions a profile should have, with their numbers, times, reasons, epochs, sources and
// payloads, written from what holdfast/versions.h and holdfast/store.h promise rather than from
// the engine's code:
//
//  - every committed payload change is the next version number of its profile, also after
//    pruning (numbers are never reused);
//  - retention keeps the newest `keep_newest`; beyond those, the newest version of each hour for
//    `hourly_for`, of each day for `daily_for`, nothing older; the newest is never pruned;
//  - Versions() lists newest first, filtered by a VersionQuery; RollbackTo() picks the newest
//    version written at or before a time.
//
// The fuzzer never corrupts payloads, so quarantined versions do not occur here.
#ifndef HOLDFAST_FUZZ_VERSION_MODEL_H_
#define HOLDFAST_FUZZ_VERSION_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "holdfast/versions.h"

namespace holdfast::fuzz {

// One version as the model expects Versions(), Get(key, version) and the stored index to show it.
struct VersionModel {
  uint64_t version = 0;
  int64_t written_unix_ms = 0;
  VersionReason reason = VersionReason::kSave;
  uint64_t epoch = 0;
  uint64_t source_version = 0;  // kRollback: the version copied
  std::string payload;
};

class HistoryModel {
 public:
  explicit HistoryModel(const VersionRetention& retention) : retention_(retention) {}

  // Records the next version (its number is assigned here, from the last one ever written) and
  // prunes what retention drops at its write time. Returns the new version's number.
  uint64_t Append(VersionModel next);

  bool empty() const { return kept_.empty(); }
  uint64_t last_version() const { return last_version_; }
  // The retained versions, oldest first. The last one is the profile's current data.
  const std::vector<VersionModel>& kept() const { return kept_; }
  const VersionModel& newest() const { return kept_.back(); }

  // The retained version `version`, or null (never written, or pruned).
  const VersionModel* Find(uint64_t version) const;
  // The newest retained version written at or before `unix_ms`, or null.
  const VersionModel* NewestAtOrBefore(int64_t unix_ms) const;
  // What Versions(key, query) lists, newest first.
  std::vector<const VersionModel*> Select(const VersionQuery& query) const;

 private:
  void Prune(int64_t now_unix_ms);

  VersionRetention retention_;
  uint64_t last_version_ = 0;
  std::vector<VersionModel> kept_;
};

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_VERSION_MODEL_H_
