// The session concurrency stress test: many threads starting, editing, saving, ending, handing
// off and stealing sessions on a few keys (the workload: concurrency_workload.h), checked against
// the commit history the engine reports through FaultHooks (the shared oracle:
// tests/support/history_oracle.h), against the stored records (tests/support/stored_profile.h)
// and against what every call returned.
//
// HOLDFAST_SEED=<n> replays a run's choices; see concurrency_workload.h.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "concurrency_workload.h"
#include "internals.h"
#include "history_oracle.h"
#include "holdfast/holdfast.h"
#include "records.h"
#include "stored_profile.h"
#include "test_util.h"

namespace holdfast::test::stress {
namespace {

// After Close: every handle ended exactly once, with a reason that agrees with the commit log,
// and every write through it fails with the code its end calls for. Returns the data of the
// sessions that Close ended, by key.
std::map<int, std::string> CheckHandlesAfterClose(World& world, const CommitLog& log) {
  std::set<uint64_t> released_sessions;  // sessions whose final save committed
  for (const CommitEvent& e : log.Events()) {
    if (e.kind == CommitKind::kRelease) released_sessions.insert(e.session_id);
  }
  std::map<int, std::string> shutdown_data;  // what the sessions that Close ended held
  int stolen_stubborn = 0;
  for (Tracked& t : world.AllTracked()) {
    std::optional<SessionEnd> end;
    bool end_session_ok = false;
    {
      std::lock_guard lock(t.watch->mu);
      end = t.watch->end;
      end_session_ok = t.watch->end_session_ok;
    }
    const std::string who = "'" + world.key(t.key) + "' epoch " + std::to_string(t.epoch);
    if (t.handle.IsActive()) world.violations().Add(who + " is active after Close");
    if (!end) {
      world.violations().Add(who + ": OnSessionEnd never fired");
      continue;
    }
    if (end_session_ok && end->reason != EndReason::kManual) {
      world.violations().Add(who + ": EndSession returned OK but OnSessionEnd reported '" +
                             std::string(EndReasonName(end->reason)) + "' (" + end->detail + ")");
    }
    StatusCode save_code = StatusCode::kLockLost;
    StatusCode end_code = StatusCode::kLockLost;
    StatusCode edit_code = StatusCode::kLockLost;
    switch (end->reason) {
      case EndReason::kShutdown:
        save_code = end_code = edit_code = StatusCode::kClosed;
        if (end->unsaved_changes) world.violations().Add(who + ": Close left unsaved changes");
        if (shutdown_data.count(t.key)) {
          world.violations().Add(who + ": Close ended two sessions of one key");
        }
        shutdown_data[t.key] = t.handle.Data();
        break;
      case EndReason::kManual:
        end_code = StatusCode::kOk;
        break;
      case EndReason::kExternal:
        if (end->unsaved_changes) world.violations().Add(who + ": a handoff left unsaved changes");
        break;
      case EndReason::kStolen:
        if (t.stubborn) ++stolen_stubborn;
        if (released_sessions.count(t.session_id)) {
          world.violations().Add(who + ": OnSessionEnd reported 'stolen' (" + end->detail +
                                 ") but the session's final save committed and released the lock");
        }
        break;
      case EndReason::kLockLost:
        world.violations().Add(who + ": ended with LockLost though nothing but this engine wrote");
        break;
    }
    Status save = t.handle.Save();
    Status end_again = t.handle.EndSession();
    Status edit = t.handle.Edit([](std::string& d) { d = "after close"; });
    if (save.code() != save_code || end_again.code() != end_code ||
        edit.code() != edit_code) {
      world.violations().Add(who + " (ended '" + std::string(EndReasonName(end->reason)) +
                             "'): after Close Save " + save.ToString() + ", EndSession " +
                             end_again.ToString() + ", Edit " + edit.ToString());
    }
  }
  std::cout << "[  STATS   ] stubborn holders stolen after the handoff timeout: " << stolen_stubborn
            << std::endl;

  return shutdown_data;
}

// One key, read with a new engine on the same volume: the stored records against the history
// before the reopen and against what the workload acknowledged; then a fresh start loads exactly
// the last commit.
void CheckStoredAndReload(Engine& engine, Players& players, World& world, int k,
                          const std::map<std::string, KeyHistory>& history,
                          const std::map<int, std::string>& shutdown_data,
                          ViolationSink& oracle) {
  SCOPED_TRACE("key " + world.key(k));
  auto it = history.find(world.key(k));
  ASSERT_NE(it, history.end()) << "no commit at all";
  const KeyHistory& h = it->second;
  EXPECT_FALSE(h.locked) << "the history ends with the lock held";
  // Meta, data record and version history as the history says: epoch, no lock, version counter,
  // the newest payload's version and epoch.
  auto stored_profile = ReadStoredProfile(test::StorageOf(engine), kStore, world.key(k));
  ASSERT_OK(stored_profile);
  CheckStoredAgainstHistory(*stored_profile, h, "'" + world.key(k) + "' as stored: ", oracle);
  ASSERT_TRUE(stored_profile->meta.has_value());
  const std::optional<internal::ProfileRecord>& record = stored_profile->data;
  auto values = world.ValuesAtVersions(k);
  // Without a record (every start that created the profile was abandoned) the next start
  // creates it again from the template.
  std::string stored_payload = "0";
  uint64_t expected_version = h.last_version + 1;
  if (record) {
    stored_payload = record->payload;
    expected_version = h.last_version;
    if (auto v = values.find(h.last_version); v != values.end()) {
      EXPECT_EQ(stored_payload, std::to_string(v->second))
          << "the stored payload is not the last one committed";
    }
  }
  auto stored = ParseCounter(stored_payload);
  ASSERT_TRUE(stored.has_value()) << stored_payload;
  EXPECT_GE(*stored, world.MaxAcked(k)) << "an acknowledged save was lost";
  if (auto s = shutdown_data.find(k); s != shutdown_data.end()) {
    EXPECT_EQ(stored_payload, s->second) << "Close's final save is not what is stored";
  }
  // Committed payloads only grow: each session loads the latest commit and counts up from it.
  // A version created from the template holds "0" (it follows only an abandoned creation).
  uint64_t previous_version = 0;
  uint64_t previous_value = 0;
  for (auto [version, value] : values) {
    if (h.created_versions.count(version)) {
      if (value != 0) {
        world.violations().Add("'" + world.key(k) + "' version " + std::to_string(version) +
                               " was created from the template but holds " +
                               std::to_string(value));
      }
    } else if (previous_version != 0 && value <= previous_value) {
      world.violations().Add("'" + world.key(k) + "' version " + std::to_string(version) +
                             " holds " + std::to_string(value) + ", not more than version " +
                             std::to_string(previous_version) + "'s " +
                             std::to_string(previous_value));
    }
    previous_version = version;
    previous_value = value;
  }

  // A fresh start loads exactly the last commit.
  auto profile = players.StartSession(world.key(k));
  ASSERT_OK(profile);
  const ProfileInfo info = profile->Info();
  EXPECT_EQ(profile->Data(), stored_payload);
  EXPECT_EQ(info.version, expected_version);
  EXPECT_EQ(info.epoch, h.epoch + 1);
  EXPECT_EQ(info.load_count, stored_profile->meta->load_count + 1);
  world.AddLoad({k, info.epoch, info.session_id, info.version, *stored});
  EXPECT_OK(profile->EndSession());
}

// Every start against the history: its epoch was acquired by its session, and it loaded the
// latest commit before it.
void CheckLoadsAgainstHistory(World& world, std::map<std::string, KeyHistory>& history) {
  for (const LoadRecord& load : world.Loads()) {
    const std::string who =
        "start of '" + world.key(load.key) + "' at epoch " + std::to_string(load.epoch);
    const KeyHistory& h = history[world.key(load.key)];
    auto a = h.acquires.find(load.epoch);
    if (a == h.acquires.end()) {
      world.violations().Add(who + ": no acquire commit with that epoch");
      continue;
    }
    if (a->second.session_id != load.session_id) {
      world.violations().Add(who + ": acquired by session " + std::to_string(a->second.session_id) +
                             ", the handle says " + std::to_string(load.session_id));
    }
    if (a->second.loaded_version != load.version) {
      world.violations().Add(who + ": loaded version " + std::to_string(load.version) +
                             " but the latest commit before it was version " +
                             std::to_string(a->second.loaded_version));
    }
  }
}

// Every ended handle against what the next session of its key loaded (judged from the handles,
// not from the engine's reports). A handle that ended by its own final save (EndSession,
// handoff, rollback) without unsaved changes held exactly what the next start loaded: an Edit
// that returned OK is never dropped. A stolen handle's stored data is its last saved data, and it
// reports unsaved changes exactly when it held something else.
void CheckEndedHandles(World& world) {
  std::map<int, std::map<uint64_t, uint64_t>> loaded_at;  // key -> epoch -> value loaded
  for (const LoadRecord& load : world.Loads()) loaded_at[load.key][load.epoch] = load.value;
  int ended_handles_compared = 0;
  for (Tracked& t : world.AllTracked()) {
    std::optional<SessionEnd> end;
    {
      std::lock_guard lock(t.watch->mu);
      end = t.watch->end;
    }
    if (!end || end->reason == EndReason::kShutdown) continue;  // shutdown: checked above
    const std::string who = "'" + world.key(t.key) + "' epoch " + std::to_string(t.epoch) +
                            " (ended '" + std::string(EndReasonName(end->reason)) + "'): ";
    const std::string held = t.handle.Data();
    const std::string last_saved = t.handle.LastSavedData();
    auto next = loaded_at[t.key].upper_bound(t.epoch);
    if (next == loaded_at[t.key].end()) {
      world.violations().Add(who + "no later start loaded the key");
      continue;
    }
    const std::string loaded = std::to_string(next->second);
    ++ended_handles_compared;
    if (end->reason == EndReason::kStolen) {
      if (end->unsaved_changes != (held != last_saved)) {
        world.violations().Add(who + "unsaved_changes is " + std::to_string(end->unsaved_changes) +
                               " but the handle holds " + held + " and last saved " + last_saved);
      }
      if (loaded != last_saved) {
        world.violations().Add(who + "the next start (epoch " + std::to_string(next->first) +
                               ") loaded " + loaded + ", the handle last saved " + last_saved);
      }
    } else {
      if (end->unsaved_changes) world.violations().Add(who + "its final save left unsaved changes");
      if (loaded != held) {
        world.violations().Add(who + "the next start (epoch " + std::to_string(next->first) +
                               ") loaded " + loaded + " but the handle held " + held +
                               " (an acknowledged edit was dropped)");
      }
    }
  }
  std::cout << "[  STATS   ] ended handles compared with the next load: " << ended_handles_compared
            << std::endl;
  EXPECT_GT(ended_handles_compared, world.config().threads)
      << "the workload ended almost no session";
}

TEST(SessionConcurrency, RandomStartEditSaveEndHandoffAndStealKeepTheLockInvariants) {
  const uint64_t seed = SeedFromEnvironment();
  std::cout << "[   SEED   ] HOLDFAST_SEED=" << seed << std::endl;
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("HOLDFAST_SEED=" + std::to_string(seed));
  const StressConfig config;
  World world(seed, config);

  auto volume = MemoryVolume::Create();
  auto log = std::make_shared<CommitLog>(kStore);
  EngineOptions options;
  options.memory_volume = volume;
  options.fault_hooks = log;
  options.conflict_buckets = 1024;
  options.worker_threads = 3;
  auto opened = Engine::Open("/concurrency", options);
  ASSERT_OK(opened);
  std::unique_ptr<Engine> engine = std::move(*opened);
  auto players = engine->OpenStore<BytesCodec>(kStore, StressStoreOptions(config));
  ASSERT_OK(players);

  // --- The workload.
  const auto began = std::chrono::steady_clock::now();
  RunWorkload(world, *players);
  const auto ran_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - began);
  const EngineStats stats = engine->Stats();
  std::cout << "[  STATS   ] " << ran_ms.count() << " ms; starts ok " << world.starts_ok
            << ", aborted " << world.starts_aborted << ", timed out " << world.starts_timed_out
            << ", steal requests " << world.steal_requests << "; saves acked " << world.saves_acked
            << ", ends acked " << world.ends_acked << ", lost handles checked " << world.lock_lost
            << "; engine: handoffs " << stats.handoffs << ", steals " << stats.steals << ", saves "
            << stats.saves << ", saves skipped " << stats.saves_skipped << ", conflicts retried "
            << stats.conflicts_retried << ", active " << stats.active_sessions << std::endl;
  // The workload must have exercised what it is about.
  EXPECT_GT(stats.handoffs, 0u);
  EXPECT_GT(stats.steals, 0u);
  EXPECT_GT(world.starts_ok.load(), config.threads);
  EXPECT_EQ(stats.orphans_taken_over, 0u);
  EXPECT_EQ(stats.io_errors, 0u);

  // --- Close: every live session makes its final save and ends with "shutdown".
  world.Stop();
  ASSERT_OK(engine->Close());
  EXPECT_CODE(players->StartSession(world.key(0)), kClosed);

  const std::map<int, std::string> shutdown_data = CheckHandlesAfterClose(world, *log);

  // --- The stored state, read with a new engine on the same volume.
  engine.reset();
  ViolationList replayed_twice;  // the full history is checked (and reported) at the end
  const std::map<std::string, KeyHistory> before_reopen =
      ReplayHistory(log->Events(), replayed_twice);
  log->NextIncarnation();
  opened = Engine::Open("/concurrency", options);
  ASSERT_OK(opened);
  engine = std::move(*opened);
  players = engine->OpenStore<BytesCodec>(kStore, StressStoreOptions(config));
  ASSERT_OK(players);
  // What the shared oracle reports (history replay, stored records), apart from the workload's.
  ViolationList oracle;
  for (int k = 0; k < config.keys; ++k) {
    ASSERT_NO_FATAL_FAILURE(
        CheckStoredAndReload(*engine, *players, world, k, before_reopen, shutdown_data, oracle));
  }
  EXPECT_EQ(engine->Stats().orphans_taken_over, 0u);
  ASSERT_OK(engine->Close());

  // --- The whole history, every start against it, and every ended handle.
  std::map<std::string, KeyHistory> history = ReplayHistory(log->Events(), oracle);
  CheckLoadsAgainstHistory(world, history);
  CheckEndedHandles(world);

  std::ostringstream counts;
  for (const auto& [key, h] : history) {
    counts << " " << key << "{epochs " << h.epoch << ", versions " << h.last_version;
    for (auto [kind, n] : h.counts) counts << ", " << CommitKindName(kind) << " " << n;
    counts << "}";
  }
  std::cout << "[  STATS   ] commits:" << counts.str() << std::endl;
  EXPECT_EQ(oracle.count(), 0u) << "the commit history and stored records: " << oracle.Report();
  EXPECT_EQ(world.violations().count(), 0u) << world.violations().Report();
}

}  // namespace
}  // namespace holdfast::test::stress
