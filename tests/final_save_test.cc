// Final saves seal the session with their snapshot: an Edit (or a user id / metadata change) that
// runs after a final save took the data fails and changes nothing, so every Edit that returned OK
// is stored or reported unsaved. Each final save path — shutdown, handoff, EndSession from
// another thread — is held at its commit while the edit is tried.
// Regression tests for issue 10, part 1 ("an acknowledged edit lost at a final save").
#include <gtest/gtest.h>

#include <future>

#include "session_test_util.h"

namespace holdfast::test {
namespace {

using FinalSaveTest = SessionTest;

TEST_F(FinalSaveTest, ShutdownRefusesEditsAfterItsSnapshotAndStoresTheSnapshot) {
  auto players = OpenPlayers();
  auto p = players.StartSession("alice");
  ASSERT_OK(p);
  std::optional<SessionEnd> end;
  p->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  ASSERT_OK(p->Edit([](std::string& d) { d = "before-close"; }));

  gate_->PauseNext(CommitKind::kRelease, "alice");
  auto closing = std::async(std::launch::async, [&] { return engine_->Close(); });
  gate_->WaitUntilPaused();
  // The shutdown's final save holds its snapshot: this edit would not be stored.
  EXPECT_CODE(p->Edit([](std::string& d) { d = "during-close"; }), kClosed);
  EXPECT_CODE(p->AddUserId(7), kClosed);
  EXPECT_CODE(p->SetMetadata("k", "v"), kClosed);
  EXPECT_EQ(p->Data(), "before-close");  // the refused edit changed nothing
  gate_->Release();
  ASSERT_OK(closing.get());

  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kShutdown);
  EXPECT_FALSE(end->unsaved_changes);
  EXPECT_CODE(p->Edit([](std::string& d) { d = "after-close"; }), kClosed);
  engine_.reset();
  OpenEngine();
  EXPECT_EQ(StoredPayload("Players", "alice"), "before-close");
  auto meta = StoredMeta("Players", "alice");
  ASSERT_TRUE(meta.has_value());
  EXPECT_TRUE(meta->user_ids.empty());
  EXPECT_TRUE(meta->metadata.empty());
}

TEST_F(FinalSaveTest, HandoffRefusesEditsAfterItsSnapshotAndTheNewSessionLoadsTheSnapshot) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("bob");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](std::string& d) { d = "sword"; }));

  gate_->PauseNext(CommitKind::kRelease, "bob");
  auto starter = std::async(std::launch::async, [&] { return players.StartSession("bob"); });
  gate_->WaitUntilPaused();
  EXPECT_CODE(holder->Edit([](std::string& d) { d = "sword+shield"; }), kLockLost);
  EXPECT_EQ(holder->Data(), "sword");
  gate_->Release();
  auto next = starter.get();
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), "sword");
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kExternal);
  EXPECT_FALSE(end->unsaved_changes);
  EXPECT_EQ(StoredPayload("Players", "bob"), "sword");
}

TEST_F(FinalSaveTest, EndSessionOnAnotherThreadRefusesEditsAfterItsSnapshot) {
  auto players = OpenPlayers();
  auto p = players.StartSession("carol");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "gold=5"; }));

  gate_->PauseNext(CommitKind::kRelease, "carol");
  auto ending = std::async(std::launch::async, [&] { return p->EndSession(); });
  gate_->WaitUntilPaused();
  Status refused = p->Edit([](std::string& d) { d = "gold=6"; });
  EXPECT_CODE(refused, kLockLost);
  EXPECT_NE(refused.message().find("EndSession is in progress"), std::string::npos)
      << refused.ToString();
  gate_->Release();
  ASSERT_OK(ending.get());
  EXPECT_EQ(StoredPayload("Players", "carol"), "gold=5");
  EXPECT_EQ(p->Data(), "gold=5");
}

TEST_F(FinalSaveTest, AFailedFinalSaveUnsealsAndTheNextEndSessionStoresLaterEdits) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dave");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "one"; }));
  gate_->FailNext(1, Status::IOError("injected: disk unplugged"), CommitKind::kRelease);
  EXPECT_CODE(p->EndSession(), kIOError);
  EXPECT_TRUE(p->IsActive());
  // The session stays active and accepts edits again.
  ASSERT_OK(p->Edit([](std::string& d) { d = "two"; }));
  ASSERT_OK(p->AddUserId(42));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "dave"), "two");
  auto meta = StoredMeta("Players", "dave");
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->user_ids, std::vector<int64_t>{42});
}

TEST_F(FinalSaveTest, EditsInsideOnLastSaveAndOnSaveLandInThatFinalSave) {
  auto players = OpenPlayers();
  auto p = players.StartSession("erin");
  ASSERT_OK(p);
  Profile<BytesCodec> handle = *p;
  p->OnLastSave([&](EndReason) { EXPECT_OK(handle.Edit([](std::string& d) { d += "+last"; })); });
  p->OnSave([&] { EXPECT_OK(handle.Edit([](std::string& d) { d += "+save"; })); });
  ASSERT_OK(p->Edit([](std::string& d) { d = "logout"; }));
  ASSERT_OK(p->EndSession());
  // OnSave runs first, then OnLastSave; both edits are in the one final save.
  EXPECT_EQ(StoredPayload("Players", "erin"), "logout+save+last");
  EXPECT_EQ(p->Data(), "logout+save+last");
  EXPECT_EQ(engine_->Stats().saves, 1u);
}

TEST_F(FinalSaveTest, LockLostFromEndSessionSaysWhetherTheDataWasStored) {
  auto players = OpenPlayers();
  auto victim = players.StartSession("frank");
  ASSERT_OK(victim);
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(victim->Edit([](std::string& d) { d = "unsaved-loot"; }));
  SessionOptions steal;
  steal.steal = true;
  auto thief = players.StartSession("frank", steal);
  ASSERT_OK(thief);
  Status lost = victim->EndSession();
  EXPECT_CODE(lost, kLockLost);
  EXPECT_NE(lost.message().find("were not stored"), std::string::npos) << lost.ToString();

  ASSERT_OK(thief->EndSession());
  auto next = players.StartSession("frank");
  ASSERT_OK(next);
  auto again = players.StartSession("frank");  // hands `next` off: its data is stored
  ASSERT_OK(again);
  Status handed = next->EndSession();
  EXPECT_CODE(handed, kLockLost);
  EXPECT_NE(handed.message().find("everything it changed is stored"), std::string::npos)
      << handed.ToString();
}

}  // namespace
}  // namespace holdfast::test
