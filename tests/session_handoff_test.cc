// Handoff, steal, cancel, timeout, newest-wins, rejoin races, fencing of ended sessions,
// auto-save, and EndSession racing an auto-save.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <set>
#include <thread>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using Handoff = SessionTest;
using PlayerProfile = Profile<BytesCodec>;

// Runs StartSession on another thread; the future yields its result.
std::future<Result<PlayerProfile>> StartAsync(Store<BytesCodec> store, std::string key,
                                              SessionOptions options = {}) {
  return std::async(std::launch::async,
                    [store, key, options]() mutable { return store.StartSession(key, options); });
}

TEST_F(Handoff, SecondStartHandsOffWithHoldersFinalData) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("alice");
  ASSERT_OK(holder);
  std::vector<std::string> events;
  std::mutex mu;
  auto note = [&](std::string e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  };
  holder->OnLastSave([&](EndReason r) { note("last:" + std::string(EndReasonName(r))); });
  auto close_first = CloseEngineAtExit();
  holder->OnSessionEnd([&](const SessionEnd& e) {
    note("end:" + std::string(EndReasonName(e.reason)) + (e.unsaved_changes ? ":unsaved" : ""));
  });
  ASSERT_OK(holder->Edit([](std::string& d) { d = "sword+1"; }));  // never saved by the holder

  auto next = players.StartSession("alice");
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "sword+1");
  EXPECT_EQ(next->Info().epoch, 2u);
  EXPECT_EQ(next->Info().load_count, 2u);
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(events, (std::vector<std::string>{"last:external", "end:external"}));
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_CODE(holder->EndSession(), kLockLost);
  EXPECT_CODE(holder->Edit([](std::string& d) { d = "dupe"; }), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "alice"), "sword+1");
  auto meta = StoredMeta("Players", "alice");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, next->Info().session_id);
  EngineStats stats = engine_->Stats();
  EXPECT_EQ(stats.handoffs, 1u);
  EXPECT_EQ(stats.steals, 0u);
  EXPECT_EQ(stats.active_sessions, 1u);
  // The handoff's points: the holder's release, then the new session's acquisition (one commit:
  // HandoffIsOneCommitThatGivesTheLockToTheStarter).
  auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), 3u);
  EXPECT_EQ(commits[1].kind, CommitKind::kRelease);
  EXPECT_EQ(commits[2].kind, CommitKind::kAcquire);
}

TEST_F(Handoff, HandoffIsOneCommitThatGivesTheLockToTheStarter) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("gil");
  ASSERT_OK(holder);
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "gold:40"; }));
  const uint64_t holder_epoch = holder->Info().epoch;
  const uint64_t commits_before = engine_->Stats().profile_commits;

  SessionOptions options;
  options.user_ids = {77};
  auto next = players.StartSession("gil", options);
  ASSERT_OK(next);
  // One transaction: the holder's final save wrote the payload and handed the lock over.
  EXPECT_EQ(engine_->Stats().profile_commits - commits_before, 1u);
  EXPECT_EQ(engine_->Stats().handoffs, 1u);
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(next->Data(), "gold:40");
  const ProfileInfo info = next->Info();
  EXPECT_EQ(info.epoch, holder_epoch + 1);
  EXPECT_EQ(info.load_count, 2u);
  EXPECT_EQ(info.user_ids, std::vector<int64_t>{77});
  auto meta = StoredMeta("Players", "gil");
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, info.session_id);
  EXPECT_EQ(meta->lock->epoch, info.epoch);
  EXPECT_EQ(meta->epoch, info.epoch);
  EXPECT_EQ(meta->load_count, 2u);
  EXPECT_EQ(meta->user_ids, std::vector<int64_t>{77});
  EXPECT_EQ(StoredPayload("Players", "gil"), "gold:40");
  auto by_id = engine_->FindByUserId(77);
  ASSERT_OK(by_id);
  ASSERT_EQ(by_id->size(), 1u);
  // The new session writes under the epoch the handoff gave it.
  ASSERT_OK(next->Edit([](std::string& d) { d = "gold:41"; }));
  ASSERT_OK(next->Save());
  EXPECT_EQ(StoredPayload("Players", "gil"), "gold:41");
}

TEST_F(Handoff, ALockHandedToAStartThatGaveUpIsGivenBack) {
  uint64_t holder_epoch = 0;
  {
    auto players = OpenPlayers();
    auto holder = players.StartSession("hal");
    ASSERT_OK(holder);
    ASSERT_OK(holder->Edit([](std::string& d) { d = "shield"; }));
    holder_epoch = holder->Info().epoch;
    std::atomic<bool> cancel{false};
    SessionOptions options;
    options.cancel = [&] { return cancel.load(); };
    // The holder's final save (which hands the lock to the start) waits at its commit while the
    // start gives up.
    gate_->PauseNext(CommitKind::kRelease, "hal");
    auto starter = StartAsync(players, "hal", options);
    gate_->WaitUntilPaused();
    cancel = true;
    EXPECT_CODE(starter.get(), kCancelled);
    gate_->Release();
    // Close waits for the worker running the handoff: its commit, then giving the lock back.
    ASSERT_OK(engine_->Close());
    EXPECT_FALSE(holder->IsActive());
  }
  // The final save committed, and the lock it handed to the start that left was given back:
  // free, with the holder's data, under the start's epoch; no orphan for the next process.
  ReopenEngine();
  auto meta = StoredMeta("Players", "hal");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->epoch, holder_epoch + 1);
  EXPECT_EQ(meta->load_count, 1u);  // the start that left never loaded it
  EXPECT_EQ(StoredPayload("Players", "hal"), "shield");
  auto players = OpenPlayers();
  auto later = players.StartSession("hal");
  ASSERT_OK(later);
  EXPECT_EQ(later->Data(), "shield");
  EXPECT_EQ(later->Info().epoch, holder_epoch + 2);
  EXPECT_EQ(later->Info().load_count, 2u);
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
}

TEST_F(Handoff, StuckHolderIsStolenAfterTimeoutAndItsLateCommitIsRejected) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.handoff_timeout = 5s; });
  auto holder = players.StartSession("bob");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "saved"; }));
  ASSERT_OK(holder->Save());
  std::promise<SessionEnd> ended;
  auto close_first = CloseEngineAtExit();
  holder->OnSessionEnd([&](const SessionEnd& e) { ended.set_value(e); });
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved-trade"; }));

  // The holder's own save is parked before its commit, holding the session's save lock, so the
  // handoff's final save cannot run either.
  gate_->PauseNext(CommitKind::kSave, "bob");
  auto stuck_save = std::async(std::launch::async, [&] { return holder->Save(); });
  gate_->WaitUntilPaused();

  auto starter = StartAsync(players, "bob");
  // The starter asks for a handoff that cannot complete; move the fake clock until it gives up
  // waiting and steals (it reads the clock when it asks, which this thread cannot observe).
  for (int i = 0; i < 1000 && starter.wait_for(2ms) != std::future_status::ready; ++i) {
    clock_->Advance(500ms);
  }
  auto next = starter.get();
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "saved");  // the last committed data, not the unsaved edit
  EXPECT_EQ(next->Info().epoch, 2u);

  SessionEnd end = ended.get_future().get();
  EXPECT_EQ(end.reason, EndReason::kStolen);
  EXPECT_TRUE(end.unsaved_changes);
  std::string left_behind;
  holder->Read([&](const std::string& d) { left_behind = d; });
  EXPECT_EQ(left_behind, "unsaved-trade");  // reported, still readable, not silently dropped

  gate_->Release();
  EXPECT_CODE(stuck_save.get(), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "bob"), "saved");
  ASSERT_OK(next->Edit([](std::string& d) { d = "new-owner"; }));
  ASSERT_OK(next->Save());
  EXPECT_EQ(StoredPayload("Players", "bob"), "new-owner");
  EXPECT_EQ(engine_->Stats().steals, 1u);
}

TEST_F(Handoff, StealOptionTakesAtOnce) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("carol");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "held"; }));
  bool last_save_fired = false;
  auto close_first = CloseEngineAtExit();
  holder->OnLastSave([&](EndReason) { last_save_fired = true; });
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });

  SessionOptions steal;
  steal.steal = true;
  auto thief = players.StartSession("carol", steal);
  ASSERT_OK(thief);
  EXPECT_EQ(thief->Data(), "new-player");
  EXPECT_FALSE(holder->IsActive());
  EXPECT_FALSE(last_save_fired);  // no final save on a steal
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kStolen);
  EXPECT_TRUE(end->unsaved_changes);
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "carol"), "new-player");
  EXPECT_EQ(StoredMeta("Players", "carol")->epoch, 2u);
}

TEST_F(Handoff, CancelledStartLeavesNoLockAndNoData) {
  auto players = OpenPlayers();
  SessionOptions options;
  options.cancel = [] { return true; };
  EXPECT_CODE(players.StartSession("dave", options), kCancelled);
  auto token = std::make_shared<CancelToken>();
  token->Cancel();
  options = {};
  options.cancel_token = token;
  EXPECT_CODE(players.StartSession("dave", options), kCancelled);
  EXPECT_FALSE(StoredMeta("Players", "dave").has_value());
  EXPECT_FALSE(StoredPayload("Players", "dave").has_value());
  EXPECT_TRUE(gate_->Committed().empty());
}

TEST_F(Handoff, CancelWhileWaitingForHandoff) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("erin");
  ASSERT_OK(holder);
  gate_->PauseNext(CommitKind::kRelease, "erin");
  auto token = std::make_shared<CancelToken>();
  SessionOptions options;
  options.cancel_token = token;
  auto starter = StartAsync(players, "erin", options);
  gate_->WaitUntilPaused();  // the holder was asked to hand off and is stuck
  token->Cancel();
  EXPECT_CODE(starter.get(), kCancelled);
  auto meta = StoredMeta("Players", "erin");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, holder->Info().session_id);  // the starter took nothing
  gate_->Release();
}

TEST_F(Handoff, CancelAfterAcquireCommitGivesTheLockBack) {
  auto players = OpenPlayers();
  std::atomic<bool> cancel{false};
  SessionOptions options;
  options.cancel = [&] { return cancel.load(); };
  gate_->PauseNext(CommitKind::kAcquire, "fay");
  auto starter = StartAsync(players, "fay", options);
  gate_->WaitUntilPaused();
  cancel = true;  // the player left while the profile was loading
  gate_->Release();
  EXPECT_CODE(starter.get(), kCancelled);
  auto meta = StoredMeta("Players", "fay");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->load_count, 0u);
  EXPECT_FALSE(StoredPayload("Players", "fay").has_value());
  auto later = players.StartSession("fay");
  ASSERT_OK(later);
  EXPECT_EQ(later->Info().load_count, 1u);
  EXPECT_GT(later->Info().epoch, 1u);  // epochs never go back
}

TEST_F(Handoff, TimeoutLeavesHolderInPlace) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.handoff_timeout = 10s; });
  auto holder = players.StartSession("gus");
  ASSERT_OK(holder);
  const auto before = RawRecords("Players", "gus");
  gate_->PauseNext(CommitKind::kRelease, "gus");
  SessionOptions options;
  options.timeout = 2s;
  auto starter = StartAsync(players, "gus", options);
  gate_->WaitUntilPaused();
  clock_->Advance(2s);
  EXPECT_CODE(starter.get(), kTimedOut);
  // The start that gave up wrote nothing: every record is byte for byte as before it began.
  EXPECT_EQ(RawRecords("Players", "gus"), before);
  EXPECT_EQ(StoredMeta("Players", "gus")->lock->session_id, holder->Info().session_id);
  gate_->Release();
}

TEST_F(Handoff, NewestStarterWinsOthersAreAborted) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("hal");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "hal-data"; }));
  gate_->PauseNext(CommitKind::kRelease, "hal");
  auto first = StartAsync(players, "hal");
  gate_->WaitUntilPaused();
  auto second = StartAsync(players, "hal");
  EXPECT_CODE(first.get(), kAborted);  // superseded as soon as the second registered
  gate_->Release();
  auto winner = second.get();
  ASSERT_OK(winner);
  EXPECT_EQ(winner->Data(), "hal-data");
  EXPECT_EQ(StoredMeta("Players", "hal")->lock->session_id, winner->Info().session_id);
}

TEST_F(Handoff, RejoinDuringLoadNeverGivesTwoHandles) {
  auto players = OpenPlayers();
  {
    auto p = players.StartSession("ivy");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "latest"; }));
    ASSERT_OK(p->EndSession());
  }
  gate_->PauseNext(CommitKind::kAcquire, "ivy");
  auto first = StartAsync(players, "ivy");
  gate_->WaitUntilPaused();                  // first load is mid-commit
  auto second = StartAsync(players, "ivy");  // the player rejoined
  gate_->Release();
  auto a = first.get();
  auto b = second.get();
  ASSERT_OK(b);
  if (a.ok()) {
    // The rejoin registered after the first load committed: the first session was handed off.
    EXPECT_FALSE(a->IsActive());
    EXPECT_CODE(a->Save(), kLockLost);
  } else {
    EXPECT_CODE(a, kAborted);  // the rejoin superseded the load in flight
  }
  EXPECT_EQ(b->Data(), "latest");
  EXPECT_EQ(engine_->Stats().active_sessions, 1u);
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
  EXPECT_EQ(StoredMeta("Players", "ivy")->lock->session_id, b->Info().session_id);
}

TEST_F(Handoff, DelayedWriteOfOldEpochIsRejectedWhileLockIsFree) {
  auto players = OpenPlayers();
  auto old_session = players.StartSession("jo");
  ASSERT_OK(old_session);
  ASSERT_OK(old_session->Edit([](std::string& d) { d = "stale"; }));
  gate_->PauseNext(CommitKind::kSave, "jo");
  auto delayed = std::async(std::launch::async, [&] { return old_session->Save(); });
  gate_->WaitUntilPaused();
  SessionOptions steal;
  steal.steal = true;
  auto newer = players.StartSession("jo", steal);
  ASSERT_OK(newer);
  ASSERT_OK(newer->Edit([](std::string& d) { d = "fresh"; }));
  ASSERT_OK(newer->EndSession());
  ASSERT_FALSE(StoredMeta("Players", "jo")->lock.has_value());  // the lock is free now
  gate_->Release();
  EXPECT_CODE(delayed.get(), kLockLost);
  EXPECT_EQ(StoredPayload("Players", "jo"), "fresh");
  EXPECT_FALSE(StoredMeta("Players", "jo")->lock.has_value());
}

TEST_F(Handoff, AutoSaveSpreadsOverThePeriodAndSkipsUnchangedData) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.autosave_period = 60s; });
  constexpr int kProfiles = 12;
  std::vector<PlayerProfile> profiles;
  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> save_seconds;
  std::vector<std::string> order;
  Clock::Duration origin = clock_->Monotonic();
  auto close_first = CloseEngineAtExit();
  for (int i = 0; i < kProfiles; ++i) {
    std::string key = "p" + std::to_string(i);
    auto p = players.StartSession(key);
    ASSERT_OK(p);
    p->OnSave([&, key] {
      std::lock_guard lock(mu);
      order.push_back("save:" + key);
    });
    p->OnAfterSave([&, key](const std::string&) {
      std::lock_guard lock(mu);
      order.push_back("after:" + key);
      save_seconds[key].push_back(
          std::chrono::duration_cast<std::chrono::seconds>(clock_->Monotonic() - origin).count());
    });
    ASSERT_OK(p->Edit([i](std::string& d) { d = "edited-" + std::to_string(i); }));
    profiles.push_back(std::move(*p));
  }
  for (int second = 1; second <= 60; ++second) {
    clock_->Advance(1s);
    test::WaitAutosaveIdle(*engine_);
  }
  // The schedule: a session's first auto-save is due at fraction (session id x golden ratio,
  // mod 1) of the period after its start, so sessions 1..12 save at 12 different seconds
  // (38, 15, 52, 29, 6, 43, 20, 57, 34, 11, 48, 25): spread over the whole period, not a burst.
  std::set<int64_t> distinct_seconds;
  for (int i = 0; i < kProfiles; ++i) {
    std::string key = "p" + std::to_string(i);
    const uint64_t session_id = profiles[i].Info().session_id;
    const double fraction = std::fmod(static_cast<double>(session_id) * 0.6180339887498949, 1.0);
    // Due just after that fraction (the offset + 1 ns): the first whole second at or after it.
    const int64_t due_second = static_cast<int64_t>(fraction * 60) + 1;
    ASSERT_EQ(save_seconds[key].size(), 1u) << key;  // once per period
    EXPECT_EQ(save_seconds[key][0], due_second) << key << ", session " << session_id;
    distinct_seconds.insert(save_seconds[key][0]);
    EXPECT_EQ(StoredPayload("Players", key), "edited-" + std::to_string(i));
    EXPECT_EQ(profiles[i].LastSavedData(), "edited-" + std::to_string(i));
    EXPECT_EQ(profiles[i].Info().version, 2u);
  }
  EXPECT_EQ(distinct_seconds.size(), static_cast<size_t>(kProfiles));
  ASSERT_EQ(order.size(), 2u * kProfiles);
  for (size_t i = 0; i + 1 < order.size(); i += 2) {  // each save's OnSave precedes its OnAfterSave
    EXPECT_EQ(order[i].substr(0, 5), "save:");
    EXPECT_EQ(order[i + 1], "after:" + order[i].substr(5));
  }
  // A second period without edits writes nothing.
  size_t commits = gate_->Committed().size();
  for (int second = 1; second <= 60; ++second) {
    clock_->Advance(1s);
    test::WaitAutosaveIdle(*engine_);
  }
  EXPECT_EQ(gate_->Committed().size(), commits);
  // Each profile's second auto-save came one period after its first, and found nothing to write.
  EXPECT_EQ(engine_->Stats().saves_skipped, static_cast<uint64_t>(kProfiles));
}

TEST_F(Handoff, EndSessionRacingAutoSaveKeepsLastEditAndReleases) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.autosave_period = 10s; });
  for (int round = 0; round < 20; ++round) {
    std::string key = "race" + std::to_string(round);
    auto p = players.StartSession(key);
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "autosaved"; }));
    gate_->PauseNext(CommitKind::kSave, key);
    clock_->Advance(10s);
    gate_->WaitUntilPaused();  // an auto-save is mid-commit
    ASSERT_OK(p->Edit([](std::string& d) { d = "last-edit"; }));
    auto ender = std::async(std::launch::async, [&] { return p->EndSession(); });
    gate_->Release();
    ASSERT_OK(ender.get());
    test::WaitAutosaveIdle(*engine_);
    clock_->Advance(30s);  // later auto-save periods must not re-lock the record
    test::WaitAutosaveIdle(*engine_);
    EXPECT_EQ(StoredPayload("Players", key), "last-edit") << key;
    EXPECT_FALSE(StoredMeta("Players", key)->lock.has_value()) << key;
  }
}

}  // namespace
}  // namespace holdfast::test
