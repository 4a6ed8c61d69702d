// Messages (issue 13): Store::Message appends durably whether or not a session holds the
// profile; a session of this engine gets it at once; a later session gets the unprocessed ones in
// order; processed() removes a message in the same commit as the data change it caused; a message
// arriving while the handler runs is queued; the cap and the size limit refuse, never drop.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using MessagesTest = SessionTest;
using PlayerProfile = Profile<BytesCodec>;

// Messages a handler received, for the test thread to wait on (handlers run on engine workers).
class Inbox {
 public:
  void Add(const Message& m) {
    std::lock_guard lock(mu_);
    received_.push_back(m.payload);
    cv_.notify_all();
  }
  // True once `n` messages arrived; false after a generous real-time deadline (a failure).
  [[nodiscard]] bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return received_.size() >= n; });
  }
  std::vector<std::string> Received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> received_;
};

// A handler that appends each message to the profile's data, then marks it processed.
MessageHandler AppendAndProcess(PlayerProfile profile, Inbox& inbox) {
  return [profile, &inbox](const Message& m, const MessageProcessed& processed) mutable {
    EXPECT_OK(profile.Edit([&](std::string& d) { d += "+" + m.payload; }));
    processed();
    inbox.Add(m);
  };
}

// The sequence numbers of the messages stored for a profile of "Players".
std::vector<uint64_t> StoredMessages(Engine& engine, const std::string& key) {
  std::vector<uint64_t> out;
  const std::string prefix = internal::EncodeProfileKey("Players", key);
  EXPECT_OK(StorageOf(engine).Scan(
      internal::Family::kMessages, internal::ScanRange::Prefix(prefix),
      internal::ScanOrder::kForward, [&](std::string_view k, std::string_view) {
        out.push_back(internal::ReadBigEndian64(k.data() + prefix.size()));
        return true;
      }));
  return out;
}

TEST_F(MessagesTest, MessagesToAProfileNeverCreatedWaitAndTheNextSessionGetsThemInOrder) {
  auto players = OpenPlayers();
  ASSERT_OK(players.Message("ana", "gift-1"));
  ASSERT_OK(players.Message("ana", "gift-2"));
  ASSERT_OK(players.Message("ana", "gift-3"));
  EXPECT_EQ(StoredMessages(*engine_, "ana"), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(StoredPayload("Players", "ana").has_value());  // messages create no profile
  EXPECT_CODE(players.Get("ana"), kNotFound);

  Inbox inbox;
  auto p = players.StartSession("ana");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  p->SetMessageHandler(AppendAndProcess(*p, inbox));
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.Received(), (std::vector<std::string>{"gift-1", "gift-2", "gift-3"}));
  EXPECT_EQ(StoredMessages(*engine_, "ana").size(), 3u);  // removed only with the next save
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredPayload("Players", "ana"), "new-player+gift-1+gift-2+gift-3");
  EXPECT_TRUE(StoredMessages(*engine_, "ana").empty());
  EXPECT_EQ(engine_->Stats().messages_sent, 3u);
  EXPECT_EQ(engine_->Stats().messages_delivered, 3u);
  EXPECT_EQ(engine_->Stats().messages_processed, 3u);
}

TEST_F(MessagesTest, ALiveSessionGetsAMessageAtOnceNotAtItsNextAutoSave) {
  auto players = OpenPlayers();
  Inbox inbox;
  auto p = players.StartSession("ben");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  p->SetMessageHandler(AppendAndProcess(*p, inbox));
  ASSERT_OK(players.Message("ben", "gold"));
  ASSERT_TRUE(inbox.WaitFor(1));  // the fake clock never moved: no auto-save ran
  EXPECT_EQ(p->Data(), "new-player+gold");
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "ben"), "new-player+gold");
  EXPECT_TRUE(StoredMessages(*engine_, "ben").empty());
}

TEST_F(MessagesTest, TheRemovalCommitsWithTheDataChangeSoAnUnsavedEffectIsRedelivered) {
  auto players = OpenPlayers();
  ASSERT_OK(players.Message("cai", "sword"));
  Inbox first;
  auto p = players.StartSession("cai");
  ASSERT_OK(p);
  p->SetMessageHandler(AppendAndProcess(*p, first));
  ASSERT_TRUE(first.WaitFor(1));
  EXPECT_EQ(p->Data(), "new-player+sword");
  // The session is stolen before any save: neither the edit nor the removal was stored.
  SessionOptions steal;
  steal.steal = true;
  Inbox second;
  auto q = players.StartSession("cai", steal);
  ASSERT_OK(q);
  auto close = CloseEngineAtExit();
  EXPECT_FALSE(p->IsActive());
  EXPECT_EQ(q->Data(), "new-player");
  q->SetMessageHandler(AppendAndProcess(*q, second));
  ASSERT_TRUE(second.WaitFor(1));  // delivered again: at-least-once delivery
  ASSERT_OK(q->EndSession());
  // ... and applied once to the saved data: exactly-once effect.
  EXPECT_EQ(StoredPayload("Players", "cai"), "new-player+sword");
  EXPECT_TRUE(StoredMessages(*engine_, "cai").empty());
}

TEST_F(MessagesTest, AMessageNotMarkedProcessedStaysForTheNextSession) {
  auto players = OpenPlayers();
  ASSERT_OK(players.Message("dee", "later"));
  Inbox ignored;
  {
    auto p = players.StartSession("dee");
    ASSERT_OK(p);
    p->SetMessageHandler([&](const Message& m, const MessageProcessed&) { ignored.Add(m); });
    ASSERT_TRUE(ignored.WaitFor(1));
    ASSERT_OK(p->EndSession());
  }
  EXPECT_EQ(StoredMessages(*engine_, "dee"), std::vector<uint64_t>{1});
  Inbox inbox;
  auto p = players.StartSession("dee");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  p->SetMessageHandler(AppendAndProcess(*p, inbox));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.Received(), std::vector<std::string>{"later"});
}

TEST_F(MessagesTest, AMessageArrivingWhileTheHandlerRunsIsQueuedNotLost) {
  auto players = OpenPlayers();
  auto p = players.StartSession("eli");
  ASSERT_OK(p);
  Inbox inbox;
  std::promise<void> in_handler;
  std::promise<void> go;
  std::shared_future<void> go_future = go.get_future().share();
  bool first = true;
  PlayerProfile profile = *p;
  p->SetMessageHandler([&, profile](const Message& m, const MessageProcessed& processed) mutable {
    if (first) {
      first = false;
      in_handler.set_value();
      go_future.wait();  // the second message is sent meanwhile
    }
    EXPECT_OK(profile.Edit([&](std::string& d) { d += "+" + m.payload; }));
    processed();
    inbox.Add(m);
  });
  ASSERT_OK(players.Message("eli", "one"));
  in_handler.get_future().wait();
  ASSERT_OK(players.Message("eli", "two"));
  go.set_value();
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(inbox.Received(), (std::vector<std::string>{"one", "two"}));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredPayload("Players", "eli"), "new-player+one+two");
}

TEST_F(MessagesTest, TheCapAndTheSizeLimitRefuseAndDropNothing) {
  auto players = OpenPlayers([](StoreOptions<std::string>& o) {
    o.max_pending_messages = 2;
    o.max_message_bytes = 8;
  });
  ASSERT_OK(players.Message("fox", "a"));
  ASSERT_OK(players.Message("fox", "b"));
  auto full = players.Message("fox", "c");
  EXPECT_CODE(full, kResourceExhausted);
  EXPECT_NE(full.message().find("max_pending_messages"), std::string::npos) << full;
  auto big = players.Message("gus", "123456789");
  EXPECT_CODE(big, kResourceExhausted);
  EXPECT_NE(big.message().find("max_message_bytes"), std::string::npos) << big;
  EXPECT_EQ(StoredMessages(*engine_, "fox"), (std::vector<uint64_t>{1, 2}));  // none dropped
  EXPECT_TRUE(StoredMessages(*engine_, "gus").empty());
  EXPECT_EQ(engine_->Stats().io_errors, 0u);  // a refusal is no storage error
  EXPECT_FALSE(engine_->Stats().critical);

  // Processing makes room again.
  Inbox inbox;
  auto p = players.StartSession("fox");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  p->SetMessageHandler(AppendAndProcess(*p, inbox));
  ASSERT_TRUE(inbox.WaitFor(2));
  ASSERT_OK(p->Save());
  ASSERT_OK(players.Message("fox", "c"));
  ASSERT_TRUE(inbox.WaitFor(3));
  EXPECT_EQ(inbox.Received(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(MessagesTest, AHandlerThatThrowsIsReportedAndItsMessageStays) {
  auto players = OpenPlayers();
  auto p = players.StartSession("gil");
  ASSERT_OK(p);
  std::promise<void> thrown;
  p->SetMessageHandler([&](const Message&, const MessageProcessed&) {
    thrown.set_value();
    throw std::runtime_error("bad gift");
  });
  ASSERT_OK(players.Message("gil", "cursed"));
  thrown.get_future().wait();
  p->SetMessageHandler(nullptr);  // stops delivery
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredMessages(*engine_, "gil"), std::vector<uint64_t>{1});
  EXPECT_EQ(engine_->Stats().handler_exceptions, 1u);
}

TEST_F(MessagesTest, SaveFromAMessageHandlerIsRefusedAndTheEditsLandInTheNextSave) {
  auto players = OpenPlayers();
  Inbox inbox;
  Status from_handler;
  auto p = players.StartSession("hal");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  PlayerProfile profile = *p;
  p->SetMessageHandler([&, profile](const Message& m, const MessageProcessed& processed) mutable {
    EXPECT_OK(profile.Edit([&](std::string& d) { d = m.payload; }));
    processed();
    from_handler = profile.Save();
    inbox.Add(m);
  });
  ASSERT_OK(players.Message("hal", "shield"));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_CODE(from_handler, kInvalidArgument);
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredPayload("Players", "hal"), "shield");
  EXPECT_TRUE(StoredMessages(*engine_, "hal").empty());
}

TEST_F(MessagesTest, ADamagedMessageIsReportedAndSkippedAndTheOthersAreDelivered) {
  auto players = OpenPlayers();
  ASSERT_OK(players.Message("ivy", "one"));
  ASSERT_OK(players.Message("ivy", "two"));
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    return txn.Put(internal::Family::kMessages,
                   internal::EncodeMessageKey("Players", "ivy", 1), "torn message");
  }));
  Inbox inbox;
  auto p = players.StartSession("ivy");
  ASSERT_OK(p);
  auto close = CloseEngineAtExit();
  p->SetMessageHandler(AppendAndProcess(*p, inbox));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.Received(), std::vector<std::string>{"two"});
  const auto errors = Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].operation, FailedOperation::kMessage);
  EXPECT_EQ(errors[0].status.code(), StatusCode::kCorruption);
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredMessages(*engine_, "ivy"), std::vector<uint64_t>{1});  // kept as evidence
}

TEST_F(MessagesTest, BadKeysAndAClosedEngineAreRefused) {
  auto players = OpenPlayers();
  EXPECT_CODE(players.Message("", "x"), kInvalidArgument);
  ASSERT_OK(engine_->Close());
  EXPECT_CODE(players.Message("jo", "x"), kClosed);
}

}  // namespace
}  // namespace holdfast::test
