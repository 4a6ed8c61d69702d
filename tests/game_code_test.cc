// Sessions that survive the game's own code (issue 14): handlers, codecs, validate hooks, cancel
// predicates and Edit functions that throw; the order of the save signals; failures that reach
// EngineOptions::on_error. Each test asserts the exact status, what the game heard, and what is
// stored afterwards.
//
// The policy under test: an exception from a save signal (OnSave, OnLastSave, OnAfterSave,
// OnSessionEnd) never stops the save or release — on the game's own thread (Save, EndSession)
// it is rethrown once the save is done; on engine threads (auto-save, handoff, Close) it is
// reported. Exceptions from codecs, validate and factories become statuses; from Edit/Read
// functions they propagate to the caller with every lock released.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "internals.h"
#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;

// Bytes, except that a value of "throw" cannot be encoded (the codec throws).
struct ThrowingCodec {
  using Value = std::string;
  static constexpr std::string_view kName = "throwing-bytes";
  static Result<std::string> Encode(const Value& value) {
    if (value == "throw") throw std::runtime_error("encoder exploded");
    return value;
  }
  static Result<Value> Decode(std::string_view bytes) { return std::string(bytes); }
};

using GameCodeTest = SessionTest;  // SessionTest records every ErrorEvent (Errors())

TEST_F(GameCodeTest, OnSaveThrowingStillSavesThenRethrowsToTheCaller) {
  auto players = OpenPlayers();
  auto p = players.StartSession("ann");
  ASSERT_OK(p);
  p->OnSave([] { throw std::runtime_error("quest log full"); });
  ASSERT_OK(p->Edit([](std::string& d) { d = "gold=5"; }));
  EXPECT_THROW((void)p->Save(), std::runtime_error);
  EXPECT_EQ(StoredPayload("Players", "ann"), "gold=5");  // the save happened anyway
  EXPECT_TRUE(p->IsActive());
  EXPECT_EQ(p->Info().version, 2u);
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kHandler);
  EXPECT_EQ(errors[0].store, "Players");
  EXPECT_EQ(errors[0].key, "ann");
  EXPECT_EQ(errors[0].exception, "OnSave threw: quest log full");
  EXPECT_EQ(engine_->Stats().handler_exceptions, 1u);
  // Nothing is left held: the next save and the end work as usual.
  p->OnSave(nullptr);
  ASSERT_OK(p->Edit([](std::string& d) { d = "gold=6"; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "ann"), "gold=6");
}

TEST_F(GameCodeTest, OnLastSaveThrowingStillReleasesTheProfileAtEndSession) {
  auto players = OpenPlayers();
  auto p = players.StartSession("bob");
  ASSERT_OK(p);
  p->OnLastSave([](EndReason) { throw std::logic_error("beforeClose failed"); });
  ASSERT_OK(p->Edit([](std::string& d) { d = "sword"; }));
  EXPECT_THROW((void)p->EndSession(), std::logic_error);
  EXPECT_FALSE(p->IsActive());
  auto meta = StoredMeta("Players", "bob");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());  // released although the handler threw
  EXPECT_EQ(StoredPayload("Players", "bob"), "sword");
  auto next = players.StartSession("bob");
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "sword");
  EXPECT_EQ(engine_->Stats().handler_exceptions, 1u);
}

TEST_F(GameCodeTest, HandlersThrowingOnEngineThreadsAreReportedAndTheHandoffCompletes) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("cat");
  ASSERT_OK(holder);
  holder->OnLastSave([](EndReason) { throw std::runtime_error("last"); });
  holder->OnAfterSave([](const std::string&) { throw std::runtime_error("after"); });
  holder->OnSessionEnd([](const SessionEnd&) { throw 42; });  // not a std::exception
  ASSERT_OK(holder->Edit([](std::string& d) { d = "shield"; }));
  auto next = players.StartSession("cat");  // the handoff's final save runs on a worker
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "shield");
  EXPECT_FALSE(holder->IsActive());
  EXPECT_EQ(engine_->Stats().handoffs, 1u);
  EXPECT_EQ(engine_->Stats().handler_exceptions, 3u);
  std::vector<std::string> reported;
  for (const auto& e : Errors()) {
    EXPECT_EQ(e.operation, FailedOperation::kHandler);
    reported.push_back(e.exception);
  }
  EXPECT_EQ(reported, (std::vector<std::string>{
                          "OnLastSave threw: last", "OnAfterSave threw: after",
                          "OnSessionEnd threw: an exception that is not a std::exception"}));
}

TEST_F(GameCodeTest, AutoSaveWithAThrowingOnSaveStillSavesAndIsReported) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dan");
  ASSERT_OK(p);
  p->OnSave([] { throw std::runtime_error("autosave hook"); });
  ASSERT_OK(p->Edit([](std::string& d) { d = "xp=100"; }));
  clock_->Advance(61s);  // past the first auto-save of the default 60 s period
  WaitAutosaveIdle(*engine_);
  EXPECT_EQ(StoredPayload("Players", "dan"), "xp=100");
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_EQ(Errors()[0].exception, "OnSave threw: autosave hook");
  EXPECT_TRUE(p->IsActive());
}

TEST_F(GameCodeTest, ACodecThatThrowsFailsTheSaveWithInternalAndTheSessionStaysActive) {
  auto store = engine_->OpenStore<ThrowingCodec>("Throwing", {});
  ASSERT_OK(store);
  auto p = store->StartSession("eve");
  ASSERT_OK(p);
  const auto before = RawRecords("Throwing", "eve");
  ASSERT_OK(p->Edit([](std::string& d) { d = "throw"; }));
  Status failed = p->Save();
  EXPECT_CODE(failed, kInternal);
  EXPECT_EQ(RawRecords("Throwing", "eve"), before);  // nothing written
  EXPECT_TRUE(p->IsActive());
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kHandler);
  EXPECT_EQ(errors[0].exception, "Encode threw: encoder exploded");
  EXPECT_EQ(errors[1].operation, FailedOperation::kSave);
  EXPECT_EQ(errors[1].status.code(), StatusCode::kInternal);
  EXPECT_FALSE(errors[1].will_retry);
  // A final save that cannot encode leaves the session active too; fixed data saves.
  EXPECT_CODE(p->EndSession(), kInternal);
  EXPECT_TRUE(p->IsActive());
  ASSERT_OK(p->Edit([](std::string& d) { d = "fine"; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Throwing", "eve"), "fine");
}

TEST_F(GameCodeTest, AValidateThatThrowsFailsTheStartWithInternalAndChangesNothing) {
  auto players = OpenPlayers();
  {
    auto p = players.StartSession("fay");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([](std::string& d) { d = "stored-before-the-deploy"; }));
    ASSERT_OK(p->EndSession());
  }
  ReopenEngine();  // the store reopens with a validate hook that throws
  auto strict = engine_->OpenStore<BytesCodec>("Players", [] {
    StoreOptions<std::string> o;
    o.validate = [](const std::string&) -> Status { throw std::runtime_error("validator bug"); };
    return o;
  }());
  ASSERT_OK(strict);
  const auto before = RawRecords("Players", "fay");
  auto refused = strict->StartSession("fay");
  EXPECT_CODE(refused, kInternal);
  // No verdict is not corruption: nothing was quarantined, restored or locked.
  EXPECT_EQ(RawRecords("Players", "fay"), before);
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 0u);
  EXPECT_EQ(engine_->Stats().handler_exceptions, 1u);
}

TEST_F(GameCodeTest, ACancelPredicateThatThrowsCancelsTheStartAndLeavesTheHolder) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("gus");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "gus");
  SessionOptions options;
  options.cancel = []() -> bool { throw std::runtime_error("predicate bug"); };
  EXPECT_CODE(players.StartSession("gus", options), kCancelled);
  EXPECT_TRUE(holder->IsActive());  // never asked to hand off
  EXPECT_EQ(holder->Data(), "unsaved");
  EXPECT_EQ(RawRecords("Players", "gus"), before);
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_EQ(Errors()[0].exception, "the cancel predicate threw: predicate bug");
}

TEST_F(GameCodeTest, AnEditFunctionThatThrowsPropagatesAndReleasesTheDataLock) {
  auto players = OpenPlayers();
  auto p = players.StartSession("hal");
  ASSERT_OK(p);
  EXPECT_THROW((void)p->Edit([](std::string& d) {
    d = "half-done";
    throw std::runtime_error("game bug");
  }),
               std::runtime_error);
  // The data lock was released: reads, edits and saves work (what the function changed before
  // it threw is kept: the engine does not undo game code).
  EXPECT_EQ(p->Data(), "half-done");
  ASSERT_OK(p->Edit([](std::string& d) { d = "done"; }));
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredPayload("Players", "hal"), "done");
  EXPECT_THROW((void)p->Read([](const std::string&) -> int { throw std::runtime_error("r"); }),
               std::runtime_error);
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(engine_->Stats().handler_exceptions, 0u);  // the caller's own code: not reported
}

TEST_F(GameCodeTest, FailedSavesAndLoadsAreHeardWithWhetherTheyWillBeRetried) {
  auto players = OpenPlayers();
  auto p = players.StartSession("ivy");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "v1"; }));
  gate_->FailNext(1, Status::IOError("disk unplugged"), CommitKind::kSave);
  EXPECT_CODE(p->Save(), kIOError);
  gate_->FailNext(1, Status::IOError("disk unplugged"), CommitKind::kSave);
  clock_->Advance(61s);
  WaitAutosaveIdle(*engine_);  // the auto-save fails too, and will be retried
  gate_->FailNext(1, Status::IOError("disk unplugged"), CommitKind::kAcquire);
  EXPECT_CODE(players.StartSession("jon"), kIOError);
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kSave);
  EXPECT_EQ(errors[0].key, "ivy");
  EXPECT_EQ(errors[0].status.code(), StatusCode::kIOError);
  EXPECT_FALSE(errors[0].will_retry);
  EXPECT_EQ(errors[1].operation, FailedOperation::kAutoSave);
  EXPECT_EQ(errors[1].status.code(), StatusCode::kIOError);
  EXPECT_TRUE(errors[1].will_retry);
  EXPECT_EQ(errors[2].operation, FailedOperation::kStart);
  EXPECT_EQ(errors[2].key, "jon");
  EXPECT_EQ(errors[2].status.code(), StatusCode::kIOError);
  // The retry lands once storage works again.
  clock_->Advance(60s);
  WaitAutosaveIdle(*engine_);
  EXPECT_EQ(StoredPayload("Players", "ivy"), "v1");
  EXPECT_EQ(Errors().size(), 3u);
}

TEST_F(GameCodeTest, AFailedFinalSaveIsHeardAndTheSessionStaysActive) {
  auto players = OpenPlayers();
  auto p = players.StartSession("kim");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "loot"; }));
  gate_->FailNext(1, Status::IOError("disk unplugged"), CommitKind::kRelease);
  EXPECT_CODE(p->EndSession(), kIOError);
  EXPECT_TRUE(p->IsActive());
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kFinalSave);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kIOError);
  EXPECT_FALSE(errors[0].will_retry);
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "kim"), "loot");
}

// Waiting starters decide (SessionOptions::on_held): told who holds the profile, a start may
// cancel, steal, wait for the holder to leave by itself, or take over (the default handoff).
TEST_F(GameCodeTest, AStartThatChoosesToCancelIsToldWhoHoldsAndLeavesEverythingAsItWas) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("lea");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "lea");
  const auto lock = StoredMeta("Players", "lea")->lock;
  ASSERT_TRUE(lock.has_value());
  std::vector<HolderInfo> asked;
  SessionOptions options;
  options.on_held = [&](const HolderInfo& h) {
    asked.push_back(h);
    return HeldChoice::kCancel;
  };
  auto refused = players.StartSession("lea", options);
  ASSERT_CODE(refused, kCancelled);
  EXPECT_EQ(refused.status().message(),
            "the start chose not to wait: the profile is held by session " +
                std::to_string(holder->Info().session_id));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].session_id, holder->Info().session_id);
  EXPECT_EQ(asked[0].epoch, holder->Info().epoch);
  EXPECT_EQ(asked[0].owner, lock->owner);
  EXPECT_EQ(asked[0].since_unix_ms, lock->acquired_unix_ms);
  EXPECT_EQ(asked[0].attempt, 1);
  EXPECT_TRUE(holder->IsActive());  // never asked to hand off
  EXPECT_EQ(holder->Data(), "unsaved");
  EXPECT_EQ(RawRecords("Players", "lea"), before);
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
}

TEST_F(GameCodeTest, AStartThatChoosesToStealTakesTheProfileWithoutTheFinalSave) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("max");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  SessionOptions options;
  options.on_held = [](const HolderInfo&) { return HeldChoice::kSteal; };
  auto thief = players.StartSession("max", options);
  ASSERT_OK(thief);
  EXPECT_EQ(thief->Data(), "new-player");  // the holder's edit was never saved
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kStolen);
  EXPECT_TRUE(end->unsaved_changes);
  EXPECT_EQ(engine_->Stats().steals, 1u);
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
}

TEST_F(GameCodeTest, AStartThatChoosesToWaitDoesNotAskTheHolderAndTakesTheProfileWhenItEnds) {
  Watchdog watchdog("AStartThatChoosesToWait", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("ned");
  ASSERT_OK(holder);
  std::promise<void> asked;
  SessionOptions options;
  options.on_held = [&](const HolderInfo&) {
    asked.set_value();
    return HeldChoice::kWait;
  };
  auto starter = std::async(std::launch::async, [players, options]() mutable {
    return players.StartSession("ned", options);
  });
  asked.get_future().wait();
  EXPECT_TRUE(holder->IsActive());
  ASSERT_OK(holder->Edit([](std::string& d) { d = "logged-out"; }));
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  ASSERT_OK(holder->EndSession());  // the holder leaves by itself
  auto next = starter.get();
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "logged-out");
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kManual);  // not handed off
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
}

TEST_F(GameCodeTest, AWaitingStartThatTimesOutNeverEndsTheHolder) {
  Watchdog watchdog("AWaitingStartThatTimesOutNeverEndsTheHolder", 60s);
  auto players = OpenPlayers();
  auto holder = players.StartSession("ola");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "ola");
  std::promise<void> asked;
  SessionOptions options;
  options.timeout = 2s;
  options.on_held = [&](const HolderInfo&) {
    asked.set_value();
    return HeldChoice::kWait;
  };
  auto starter = std::async(std::launch::async, [players, options]() mutable {
    return players.StartSession("ola", options);
  });
  asked.get_future().wait();
  clock_->Advance(3s);  // past the start's timeout (the handoff timeout, 5 s, is not reached)
  EXPECT_CODE(starter.get(), kTimedOut);
  EXPECT_TRUE(holder->IsActive());
  EXPECT_EQ(holder->Data(), "unsaved");
  EXPECT_EQ(RawRecords("Players", "ola"), before);
}

}  // namespace
}  // namespace holdfast::test
