// A start that gives up withdraws its handoff request (issue 14): when a start asked the holder
// to hand off and then times out, is cancelled or is superseded by nothing, the holder keeps its
// session — as long as its final save had not begun. The engine runs handoff releases on its
// workers; these tests run it with a single worker and keep that worker busy, so the release is
// still queued when the start gives up, and learn that the queue drained from a task queued
// behind it (FIFO, one worker).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>

#include "internals.h"
#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using PlayerProfile = Profile<BytesCodec>;

class HandoffWithdrawTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    ASSERT_OK(engine_->Close());
    engine_.reset();
    EngineOptions options = Options();
    options.worker_threads = 1;
    auto engine = Engine::Open(DatabasePath(), options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
  }

  void TearDown() override {
    Unblock();
    SessionTest::TearDown();
  }

  // Occupies the engine's only worker until Unblock().
  void BlockWorker() {
    auto started = std::make_shared<std::promise<void>>();
    auto started_future = started->get_future();
    ASSERT_TRUE(ContextOf(*engine_).workers().Submit([started, go = go_] {
      started->set_value();
      go->wait();
    }));
    started_future.wait();
  }
  void Unblock() {
    if (!unblocked_) go_promise_.set_value();
    unblocked_ = true;
  }
  // Returns once every task queued so far has run.
  void DrainWorker() {
    std::promise<void> done;
    ASSERT_TRUE(ContextOf(*engine_).workers().Submit([&done] { done.set_value(); }));
    done.get_future().wait();
  }

  // StartSession on another thread; `give_up` runs inside the start's cancel predicate from its
  // second call on — the first call comes before the start looks at the holder, later ones
  // while it waits for the handoff it requested — and its result is the predicate's.
  std::future<Result<PlayerProfile>> StartThenGiveUp(Store<BytesCodec> players, std::string key,
                                                     SessionOptions options,
                                                     std::function<bool()> give_up) {
    auto calls = std::make_shared<std::atomic<int>>(0);
    options.cancel = [calls, give_up] { return ++*calls >= 2 && give_up(); };
    return std::async(std::launch::async, [players, key, options]() mutable {
      return players.StartSession(key, options);
    });
  }

  std::promise<void> go_promise_;
  std::shared_future<void> go_future_ = go_promise_.get_future().share();
  std::shared_ptr<std::shared_future<void>> go_ =
      std::make_shared<std::shared_future<void>>(go_future_);
  bool unblocked_ = false;
};

TEST_F(HandoffWithdrawTest, AStartThatTimesOutWithdrawsItsRequestAndTheHolderStays) {
  Watchdog watchdog("AStartThatTimesOutWithdrawsItsRequestAndTheHolderStays", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("pia");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  auto close = CloseEngineAtExit();  // the handler above must not outlive `end`
  const auto before = RawRecords("Players", "pia");
  BlockWorker();

  SessionOptions options;
  options.timeout = 2s;
  auto starter = StartThenGiveUp(players, "pia", options, [this] {
    clock_->Advance(3s);  // past the start's timeout, short of the handoff timeout (5 s)
    return false;
  });
  EXPECT_CODE(starter.get(), kTimedOut);
  Unblock();
  DrainWorker();  // the queued release ran and found its request withdrawn

  EXPECT_TRUE(holder->IsActive());
  EXPECT_FALSE(end.has_value());
  EXPECT_EQ(holder->Data(), "unsaved");
  EXPECT_EQ(RawRecords("Players", "pia"), before);
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
  ASSERT_OK(holder->Save());
  EXPECT_EQ(StoredPayload("Players", "pia"), "unsaved");
}

TEST_F(HandoffWithdrawTest, ACancelledStartWithdrawsItsRequestAndALaterStartCanAskAgain) {
  Watchdog watchdog("ACancelledStartWithdrawsItsRequestAndALaterStartCanAskAgain", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("quin");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "kept"; }));
  int last_saves = 0;
  holder->OnLastSave([&](EndReason) { ++last_saves; });
  auto close = CloseEngineAtExit();
  BlockWorker();

  auto starter = StartThenGiveUp(players, "quin", {}, [] { return true; });
  EXPECT_CODE(starter.get(), kCancelled);
  Unblock();
  DrainWorker();
  EXPECT_TRUE(holder->IsActive());
  EXPECT_EQ(last_saves, 0);  // the holder never began a final save
  EXPECT_EQ(StoredMeta("Players", "quin")->lock->session_id, holder->Info().session_id);

  // The withdrawn request does not block the next one: this start hands off normally.
  auto next = players.StartSession("quin");
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "kept");
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(last_saves, 1);
  EXPECT_EQ(engine_->Stats().handoffs, 1u);
  EXPECT_EQ(StoredMeta("Players", "quin")->lock->session_id, next->Info().session_id);
}

TEST_F(HandoffWithdrawTest, ASupersededStartLeavesItsRequestToTheNewerStart) {
  Watchdog watchdog("ASupersededStartLeavesItsRequestToTheNewerStart", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("rex");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "rex-data"; }));
  BlockWorker();

  // The first start requests the handoff; the second supersedes it (Aborted) and still wants
  // the release, so the request stands.
  std::promise<void> first_waiting;
  std::atomic<bool> told{false};
  auto first = StartThenGiveUp(players, "rex", {}, [&] {
    if (!told.exchange(true)) first_waiting.set_value();
    return false;
  });
  first_waiting.get_future().wait();
  auto second = std::async(std::launch::async, [players]() mutable {
    return players.StartSession("rex");
  });
  EXPECT_CODE(first.get(), kAborted);
  Unblock();
  auto winner = second.get();
  ASSERT_OK(winner);
  EXPECT_EQ(winner->Data(), "rex-data");
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(engine_->Stats().handoffs, 1u);
}

TEST_F(HandoffWithdrawTest, AReleaseThatHasBegunCompletesEvenIfTheStartGivesUp) {
  Watchdog watchdog("AReleaseThatHasBegunCompletesEvenIfTheStartGivesUp", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("sue");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "final"; }));
  gate_->PauseNext(CommitKind::kRelease, "sue");
  auto token = std::make_shared<CancelToken>();
  SessionOptions options;
  options.cancel_token = token;
  auto starter = std::async(std::launch::async, [players, options]() mutable {
    return players.StartSession("sue", options);
  });
  gate_->WaitUntilPaused();  // the holder's final save has begun: OnLastSave has fired
  token->Cancel();
  EXPECT_CODE(starter.get(), kCancelled);
  gate_->Release();
  DrainWorker();
  // The release completes: the data is stored, the lock is free, and nobody holds the profile.
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(StoredPayload("Players", "sue"), "final");
  EXPECT_FALSE(StoredMeta("Players", "sue")->lock.has_value());
}

}  // namespace
}  // namespace holdfast::test
