// Game code calling back into its own profile: Save or EndSession inside Edit/Read or inside a
// save signal returns InvalidArgument naming the mistake instead of deadlocking on a lock the
// caller already holds; Read returns what its function returns; handlers given in
// SessionOptions are in place before the lock is taken, so a handoff right after StartSession
// returns reaches them. A call that deadlocks would hang the test, so each runs under a deadline
// that aborts the test binary with a message instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using Reentrancy = SessionTest;

// Runs `fn` on its own thread; if it has not returned after 10 s (a deadlock), ends the test
// binary with a message naming `what` (a deadlocked thread cannot be joined or cancelled).
void WithinDeadline(const char* what, std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread([fn = std::move(fn), done] {
    fn();
    done->set_value();
  }).detach();
  if (finished.wait_for(10s) != std::future_status::ready) {
    std::fprintf(stderr, "DEADLOCK: %s did not return within 10 s\n", what);
    std::abort();
  }
}

TEST_F(Reentrancy, SaveOrEndSessionInsideEditIsInvalidArgumentAndNothingIsWritten) {
  auto players = OpenPlayers();
  auto p = players.StartSession("amy");
  ASSERT_OK(p);
  Profile<BytesCodec> handle = *p;
  Status save, end;
  Status edit;
  WithinDeadline("Save inside Edit", [&] {
    edit = handle.Edit([&](std::string& d) {
      d = "gold=1";
      save = handle.Save();
      end = handle.EndSession();
    });
  });
  EXPECT_OK(edit);
  EXPECT_CODE(save, kInvalidArgument);
  EXPECT_NE(save.message().find("inside Edit or Read"), std::string::npos) << save.ToString();
  EXPECT_CODE(end, kInvalidArgument);
  EXPECT_TRUE(handle.IsActive());
  EXPECT_EQ(StoredPayload("Players", "amy"), "new-player");  // nothing written
  ASSERT_OK(handle.EndSession());  // outside the edit it works
  EXPECT_EQ(StoredPayload("Players", "amy"), "gold=1");
}

TEST_F(Reentrancy, SaveInsideReadAndEditInsideEditAreInvalidArgument) {
  auto players = OpenPlayers();
  auto p = players.StartSession("ben");
  ASSERT_OK(p);
  Profile<BytesCodec> handle = *p;
  Status save, inner_edit;
  std::string seen_inside;
  WithinDeadline("Save inside Read", [&] {
    handle.Read([&](const std::string&) { save = handle.Save(); });
  });
  EXPECT_CODE(save, kInvalidArgument);
  WithinDeadline("Edit and Read inside Edit", [&] {
    EXPECT_OK(handle.Edit([&](std::string& d) {
      d = "outer";
      inner_edit = handle.Edit([](std::string& inner) { inner = "inner"; });
      // A Read inside Edit runs under the lock the Edit holds and sees its change.
      seen_inside = handle.Read([](const std::string& data) { return data; });
    }));
  });
  EXPECT_CODE(inner_edit, kInvalidArgument);
  EXPECT_EQ(seen_inside, "outer");
  EXPECT_EQ(handle.Data(), "outer");
}

TEST_F(Reentrancy, SaveFromASaveSignalIsInvalidArgumentAndTheRunningSaveStillLands) {
  auto players = OpenPlayers();
  auto p = players.StartSession("cat");
  ASSERT_OK(p);
  Profile<BytesCodec> handle = *p;
  std::vector<StatusCode> from_signals;
  handle.OnSave([&] {
    from_signals.push_back(handle.Save().code());
    EXPECT_OK(handle.Edit([](std::string& d) { d += "+on-save"; }));  // edits are allowed
  });
  handle.OnLastSave([&](EndReason) { from_signals.push_back(handle.EndSession().code()); });
  handle.OnAfterSave([&](const std::string&) { from_signals.push_back(handle.Save().code()); });
  ASSERT_OK(handle.Edit([](std::string& d) { d = "loot"; }));
  Status ended;
  WithinDeadline("EndSession from save signals", [&] { ended = handle.EndSession(); });
  ASSERT_OK(ended);
  EXPECT_EQ(from_signals, (std::vector<StatusCode>{StatusCode::kInvalidArgument,
                                                   StatusCode::kInvalidArgument,
                                                   StatusCode::kInvalidArgument}));
  EXPECT_EQ(StoredPayload("Players", "cat"), "loot+on-save");
  EXPECT_FALSE(handle.IsActive());
}

TEST_F(Reentrancy, ReadReturnsWhatItsFunctionReturns) {
  auto players = OpenPlayers();
  auto p = players.StartSession("dan");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "gold=42"; }));
  const size_t length = p->Read([](const std::string& d) { return d.size(); });
  EXPECT_EQ(length, 7u);
  const bool rich = p->Read([](const std::string& d) { return d == "gold=42"; });
  EXPECT_TRUE(rich);
  ASSERT_OK(p->EndSession());
  // Also after the session ended (a steal's unsaved data stays readable).
  EXPECT_EQ(p->Read([](const std::string& d) { return d; }), "gold=42");
}

TEST_F(Reentrancy, HandlersFromSessionOptionsSeeAHandoffRightAfterStartReturns) {
  auto players = OpenPlayers();
  std::vector<std::string> signals;
  SessionOptions options;
  options.on_save = [&] { signals.push_back("save"); };
  options.on_last_save = [&](EndReason r) {
    signals.push_back("last-save:" + std::string(EndReasonName(r)));
  };
  options.on_session_end = [&](const SessionEnd& e) {
    signals.push_back("end:" + std::string(EndReasonName(e.reason)) +
                      (e.unsaved_changes ? ":unsaved" : ""));
  };
  auto first = players.StartSession("eve", options);
  ASSERT_OK(first);
  // No handler attached through the handle: the next start hands off at once.
  auto second = players.StartSession("eve");
  ASSERT_OK(second);
  EXPECT_FALSE(first->IsActive());
  // OnLastSave fires for the handoff's final save, after OnSave and before OnSessionEnd.
  EXPECT_EQ(signals, (std::vector<std::string>{"save", "last-save:external", "end:external"}));
}

}  // namespace
}  // namespace holdfast::test
