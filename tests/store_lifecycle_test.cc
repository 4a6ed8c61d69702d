// A store's life in one engine (issue 14): opening it twice, switching auto-save off, closing the
// engine while a start is acquiring, and keeping nothing for profiles whose sessions all ended.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "internals.h"
#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using StoreLifecycle = SessionTest;

TEST_F(StoreLifecycle, OpeningAStoreAgainWithOtherOptionsNamesEveryDifference) {
  auto first = OpenPlayers();
  StoreOptions<std::string> other;
  other.template_value = "another-template";
  other.autosave_period = 30s;
  other.retention.keep_newest = 7;
  auto second = engine_->OpenStore<BytesCodec>("Players", other);
  ASSERT_CODE(second, kInvalidArgument);
  EXPECT_EQ(second.status().message(),
            "store 'Players' is already open in this engine with other options: autosave_period "
            "60000 ms (asked 30000 ms), retention.keep_newest 50 (asked 7), template (differs)");
  // Nothing changed: the store still works with its first options.
  auto p = first.StartSession("ann");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), "new-player");
}

TEST_F(StoreLifecycle, OpeningAStoreAgainWithTheSameOptionsSharesItsSessions) {
  auto first = OpenPlayers();
  auto again = OpenPlayers();  // same options: the same store
  auto holder = first.StartSession("bob");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "sword"; }));
  auto next = again.StartSession("bob");  // hands off from the first handle's session
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "sword");
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(engine_->Stats().handoffs, 1u);
}

TEST_F(StoreLifecycle, WithAutoSaveOffOnlyExplicitSavesWrite) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) { o.autosave = false; });
  auto p = players.StartSession("cat");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "unsaved"; }));
  for (int period = 0; period < 3; ++period) {
    clock_->Advance(61s);
    WaitAutosaveIdle(*engine_);
  }
  EXPECT_EQ(StoredPayload("Players", "cat"), "new-player");  // never auto-saved
  EXPECT_EQ(engine_->Stats().saves, 0u);
  EXPECT_EQ(ContextOf(*engine_).autosaves().Size(), 0u);
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredPayload("Players", "cat"), "unsaved");
  ASSERT_OK(p->Edit([](std::string& d) { d = "at-the-end"; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "cat"), "at-the-end");
}

TEST_F(StoreLifecycle, CloseWhileAStartIsAcquiringLeavesNoLock) {
  Watchdog watchdog("CloseWhileAStartIsAcquiringLeavesNoLock", 60s);
  auto players = OpenPlayers();
  gate_->PauseNext(CommitKind::kAcquire, "dan");
  auto starter =
      std::async(std::launch::async, [players]() mutable { return players.StartSession("dan"); });
  gate_->WaitUntilPaused();  // the acquisition is about to commit
  auto closer = std::async(std::launch::async, [this] { return engine_->Close(); });
  while (!engine_->IsClosing()) std::this_thread::yield();  // Close began (it waits for the start)
  gate_->Release();
  auto started = starter.get();
  ASSERT_OK(closer.get());
  // The acquisition committed, but the engine was closing: the start gave the lock back.
  EXPECT_CODE(started, kClosed);
  ReopenEngine();
  auto meta = StoredMeta("Players", "dan");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->load_count, 0u);
  EXPECT_FALSE(StoredPayload("Players", "dan").has_value());  // its creation was undone
  auto again = OpenPlayers().StartSession("dan", SessionOptions{.timeout = 0ms});
  ASSERT_OK(again);  // no lock left behind to wait for
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
}

TEST_F(StoreLifecycle, NothingIsKeptForProfilesWhoseSessionsEnded) {
  auto players = OpenPlayers();
  constexpr int kProfiles = 300;
  std::vector<Profile<BytesCodec>> live;
  for (int i = 0; i < kProfiles; ++i) {
    auto p = players.StartSession("p" + std::to_string(i));
    ASSERT_OK(p);
    live.push_back(std::move(*p));
  }
  RawStore::Impl& registry = *ImplAccess::Of(players.raw());
  EXPECT_EQ(registry.EntryCount(), static_cast<size_t>(kProfiles));
  EXPECT_EQ(ContextOf(*engine_).autosaves().Size(), static_cast<size_t>(kProfiles));
  // Half end by EndSession, half by a handoff whose new session then ends too.
  for (int i = 0; i < kProfiles; ++i) {
    if (i % 2 == 0) {
      ASSERT_OK(live[i].EndSession());
    } else {
      auto next = players.StartSession("p" + std::to_string(i));
      ASSERT_OK(next);
      ASSERT_OK(next->EndSession());
    }
  }
  EXPECT_EQ(registry.EntryCount(), 0u);
  EXPECT_EQ(registry.LiveCount(), 0u);
  EXPECT_EQ(ContextOf(*engine_).autosaves().Size(), 0u);
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
  // The handles are all that still refers to the ended sessions: dropping them frees them.
  std::weak_ptr<RawSession::Impl> one = ImplAccess::Of(live[0].raw());
  live.clear();
  EXPECT_TRUE(one.expired());
}

}  // namespace
}  // namespace holdfast::test
