// The operation-sequence fuzzer's checks (fuzz/session_driver.cc: what is checked when):
// handles, counters and the critical state after every operation, stored records of the
// profiles an operation may have changed, and the input's whole commit history at its end.
#include "session_driver_model.h"

namespace holdfast::fuzz::driver {

void Driver::CheckAll(uint8_t written, bool sessions_change) {
  const std::vector<test::CommitEvent> events = h_.commit_log().Events();
  for (size_t i = events_checked_; i < events.size(); ++i) {
    int k = 0;
    while (k < kKeys && keys_[k].name != events[i].key) ++k;
    FUZZ_CHECK(k < kKeys, "a commit on profile " << Printable(events[i].key)
                                                 << ", which this input never used");
    written |= 1u << k;
  }
  events_checked_ = events.size();
  uint64_t live = 0;
  for (ProfileModel& key : keys_) {
    int live_handles = 0;
    for (Slot& slot : key.slots) {
      if (!slot.handle) continue;
      const SessionModel& m = *slot.session;
      const bool active = slot.handle->IsActive();
      FUZZ_CHECK(active == (m.state == State::kLive), "IsActive() is " << active);
      live_handles += active;
      FUZZ_CHECK(!active || key.live == slot.session, "a live handle that is not the holder");
      FUZZ_CHECK(slot.handle->Data() == m.data, "handle data " << Printable(slot.handle->Data())
                                                               << ", expected "
                                                               << Printable(m.data));
      FUZZ_CHECK(slot.handle->LastSavedData() == m.saved, "last saved data");
      FUZZ_CHECK(m.ends->calls == (active ? 0 : 1), "OnSessionEnd calls " << m.ends->calls);
      ProfileInfo info = slot.handle->Info();
      FUZZ_CHECK(info.epoch == m.epoch && info.user_ids == m.user_ids, "handle info");
    }
    FUZZ_CHECK(live_handles <= 1, live_handles << " live handles on one profile");
    live += key.live != nullptr;
  }
  const Counters now = Read();
  CheckCounters(now);
  std::optional<EngineStats> stats;
  if (sessions_change || faults_armed_) stats = h_.engine().Stats();
  if (sessions_change) {
    FUZZ_CHECK(stats->active_sessions == live,
               "active sessions " << stats->active_sessions << ", expected " << live);
  }
  // Keep the critical states the engine's agree with (the state is read only in inputs that
  // armed faults: without storage errors it cannot change).
  const uint64_t entries = now.critical_entries - base_.critical_entries;
  const uint64_t exits = now.left_calls - base_.left_calls;
  FUZZ_CHECK(now.entered_calls - base_.entered_calls == entries,
             "on_critical_state(true) ran " << now.entered_calls - base_.entered_calls
                                            << " times for " << entries << " entries");
  std::vector<CriticalState> agree;
  for (const CriticalState& c : critical_) {
    if (c.entries == entries && c.exits == exits && (!stats || c.critical == stats->critical)) {
      agree.push_back(c);
    }
  }
  FUZZ_CHECK(!agree.empty(), "critical state: critical "
                                 << (stats && stats->critical) << ", entered " << entries
                                 << " times, left " << exits << " times; the model expected "
                                 << DescribeCriticalStates(critical_));
  critical_ = std::move(agree);
  for (int k = 0; k < kKeys; ++k) {
    if (written & (1u << k)) CheckStored(keys_[k]);
  }
}

void Driver::CheckCounters(const Counters& now) {
  FUZZ_CHECK(now.handoffs - base_.handoffs == model_.handoffs, "handoffs " << now.handoffs);
  FUZZ_CHECK(now.steals - base_.steals == model_.steals, "steals " << now.steals);
  FUZZ_CHECK(now.orphans - base_.orphans == model_.orphans, "orphans taken over");
  FUZZ_CHECK(now.orphan_reports - base_.orphan_reports == model_.orphan_reports,
             "orphan reports");
  FUZZ_CHECK(now.rollbacks - base_.rollbacks == model_.rollbacks, "rollbacks " << now.rollbacks);
  FUZZ_CHECK(now.injected - base_.injected == model_.injected,
             "the hooks injected " << now.injected - base_.injected << " failures, expected "
                                   << model_.injected
                                   << " (a commit the model did not expect, or one missing)");
  FUZZ_CHECK(now.conflicts - base_.conflicts == model_.conflicts,
             "conflicts retried " << now.conflicts - base_.conflicts << ", expected "
                                  << model_.conflicts);
  FUZZ_CHECK(
      now.io_errors - base_.io_errors == model_.io_errors,
      "io errors " << now.io_errors - base_.io_errors << ", expected " << model_.io_errors);
}

std::string Driver::Who(const ProfileModel& key) {
  return "'" + Printable(key.name) + "' as stored: ";
}

void Driver::Report(const test::ViolationList& violations) {
  FUZZ_CHECK(violations.count() == 0, violations.Report());
}

void Driver::CheckStored(ProfileModel& key) {
  auto stored = test::ReadStoredProfile(test::StorageOf(h_.engine()), kStoreName, key.name);
  FUZZ_CHECK(stored.ok(), stored.status().ToString());
  test::ExpectedProfile expected;
  expected.has_meta = expected.has_data = key.exists;
  if (key.exists) {
    expected.epoch = key.epoch;
    expected.locked = key.live || key.orphan_lock || key.stale_lock;
    expected.last_version = key.history.last_version();
    expected.data_epoch = key.history.newest().epoch;
    expected.payload = key.history.newest().payload;
  }
  test::ViolationList violations;
  test::CheckStoredProfile(*stored, expected, Who(key), violations);
  Report(violations);
  if (!key.exists) return;
  const internal::ProfileRecord& record = *stored->data;
  const internal::ProfileMeta& meta = *stored->meta;
  const VersionModel& newest = key.history.newest();
  FUZZ_CHECK(record.version == newest.version && record.updated_unix_ms == newest.written_unix_ms,
             "stored version " << record.version << " at " << record.updated_unix_ms
                               << ", expected " << newest.version << " at "
                               << newest.written_unix_ms);
  for (Slot& slot : key.slots) {
    if (slot.handle && slot.session == key.live) {
      FUZZ_CHECK(slot.handle->Info().version == record.version, "live handle's version");
    }
  }
  FUZZ_CHECK(meta.load_count == key.load_count, "stored load count " << meta.load_count);
  FUZZ_CHECK(meta.user_ids == key.user_ids, "stored user ids");
  FUZZ_CHECK(meta.metadata == key.metadata, "stored metadata");
  const std::vector<VersionModel>& kept = key.history.kept();
  FUZZ_CHECK(meta.versions.size() == kept.size(), "stored index holds " << meta.versions.size()
                                                                        << " versions, expected "
                                                                        << kept.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    const internal::VersionIndexEntry& e = meta.versions[i];
    FUZZ_CHECK(e.version == kept[i].version && e.written_unix_ms == kept[i].written_unix_ms &&
                   e.reason == static_cast<uint8_t>(kept[i].reason),
               "stored index entry " << i << ": version " << e.version << " at "
                                     << e.written_unix_ms << " reason " << int{e.reason});
  }
}

void Driver::CheckHistory() {
  test::ViolationList violations;
  const std::map<std::string, test::KeyHistory> history =
      test::ReplayHistory(h_.commit_log().Events(), violations);
  for (ProfileModel& key : keys_) {
    auto it = history.find(key.name);
    if (it == history.end()) {
      FUZZ_CHECK(!key.exists, Who(key) << "a profile that no logged commit wrote");
      continue;
    }
    auto stored = test::ReadStoredProfile(test::StorageOf(h_.engine()), kStoreName, key.name);
    FUZZ_CHECK(stored.ok(), stored.status().ToString());
    test::ExpectedProfile expected = test::ExpectedFromHistory(it->second);
    expected.locked = key.orphan_lock || key.stale_lock;
    if (key.orphan_lock) expected.lock_session_id.reset();
    test::CheckStoredProfile(*stored, expected, Who(key), violations);
  }
  Report(violations);
}

}  // namespace holdfast::fuzz::driver
