// Engine::Close commits the final saves of many sessions in shared transactions (issue 17:
// closing 100k live sessions in under a second). What must not change: every session fires its
// signals and ends as before, one session's lost lock never costs the others their saves, and a
// failed commit is reported exactly as a failed final save.
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "internals.h"
#include "key_codec.h"
#include "session_test_util.h"
#include "storage.h"

namespace holdfast::test {
namespace {

using ShutdownBatchTest = SessionTest;

std::string Key(int i) { return "p" + std::to_string(i); }

size_t ReleasesCommitted(const CommitGate& gate) {
  size_t n = 0;
  for (const CommitRecord& c : gate.Committed()) n += c.kind == CommitKind::kRelease;
  return n;
}

TEST_F(ShutdownBatchTest, CloseStagesEverySessionsReleaseBeforeCommittingAny) {
  constexpr int kSessions = 10;
  auto players = OpenPlayers();
  std::vector<Profile<BytesCodec>> profiles;
  for (int i = 0; i < kSessions; ++i) {
    auto p = players.StartSession(Key(i));
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([&](std::string& d) { d = "saved-" + std::to_string(i); }));
    profiles.push_back(std::move(*p));
  }
  const int before_close = gate_->BeforeCommitCalls();
  // Keys sort as strings: "p9" is the last of the batch.
  gate_->PauseNext(CommitKind::kRelease, Key(kSessions - 1));
  auto closing = std::async(std::launch::async, [&] { return engine_->Close(); });
  gate_->WaitUntilPaused();
  // One transaction: every release was staged and none is committed yet. One commit each
  // would have committed the earlier sessions before reaching the last.
  EXPECT_EQ(gate_->BeforeCommitCalls() - before_close, kSessions);
  EXPECT_EQ(ReleasesCommitted(*gate_), 0u);
  gate_->Release();
  ASSERT_OK(closing.get());
  EXPECT_EQ(ReleasesCommitted(*gate_), static_cast<size_t>(kSessions));

  engine_.reset();
  OpenEngine();
  for (int i = 0; i < kSessions; ++i) {
    EXPECT_EQ(StoredPayload("Players", Key(i)), "saved-" + std::to_string(i));
    auto meta = StoredMeta("Players", Key(i));
    ASSERT_TRUE(meta.has_value());
    EXPECT_FALSE(meta->lock.has_value()) << Key(i);
    EXPECT_FALSE(profiles[i].IsActive());
  }
}

TEST_F(ShutdownBatchTest, ASessionWhoseLockWasLostDoesNotCostTheOthersTheirFinalSaves) {
  auto players = OpenPlayers();
  std::vector<Profile<BytesCodec>> profiles;
  auto ends = std::make_shared<std::map<std::string, SessionEnd>>();
  for (const char* key : {"a", "b", "c"}) {
    SessionOptions options;  // no save signal: all three go in one batch
    options.on_session_end = [ends, key](const SessionEnd& e) { (*ends)[key] = e; };
    auto p = players.StartSession(key, options);
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([&](std::string& d) { d = std::string("closing-") + key; }));
    profiles.push_back(std::move(*p));
  }
  // Another holder took "b" behind this engine's back (as another engine on a shared database
  // can): its stored lock carries a newer epoch, so b's final save is fenced out.
  auto meta = StoredMeta("Players", "b");
  ASSERT_TRUE(meta.has_value() && meta->lock.has_value());
  meta->epoch += 1;
  meta->lock->epoch = meta->epoch;
  meta->lock->session_id += 1000;
  const std::string b_key = internal::EncodeProfileKey("Players", "b");
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    if (Status w = txn.Put(internal::Family::kMeta, b_key, internal::EncodeProfileMeta(*meta));
        !w.ok()) {
      return w;
    }
    return Status::Ok();
  }));

  ASSERT_OK(engine_->Close());  // a lost lock is the session's end, not a failed close
  ASSERT_EQ(ends->size(), 3u);
  EXPECT_EQ(ends->at("a").reason, EndReason::kShutdown);
  EXPECT_FALSE(ends->at("a").unsaved_changes);
  EXPECT_EQ(ends->at("b").reason, EndReason::kLockLost);
  EXPECT_TRUE(ends->at("b").unsaved_changes);
  EXPECT_EQ(ends->at("c").reason, EndReason::kShutdown);
  EXPECT_FALSE(ends->at("c").unsaved_changes);

  engine_.reset();
  OpenEngine();
  EXPECT_EQ(StoredPayload("Players", "a"), "closing-a");
  EXPECT_EQ(StoredPayload("Players", "b"), "new-player");  // fenced out: nothing stored
  EXPECT_EQ(StoredPayload("Players", "c"), "closing-c");
  EXPECT_FALSE(StoredMeta("Players", "a")->lock.has_value());
  EXPECT_EQ(StoredMeta("Players", "b")->lock->session_id, meta->lock->session_id);
  EXPECT_FALSE(StoredMeta("Players", "c")->lock.has_value());
}

TEST_F(ShutdownBatchTest, ASessionWithSaveSignalsIsFinishedAloneHoldingNoBatchsLocks) {
  auto players = OpenPlayers();
  auto quiet = players.StartSession("a");  // no signals: batched
  ASSERT_OK(quiet);
  ASSERT_OK(quiet->Edit([](std::string& d) { d = "a-final"; }));
  auto seen = std::make_shared<std::vector<std::string>>();
  SessionOptions options;
  // Game code in a save signal saving another profile. Batched with "a", this signal would run
  // while the batch holds a's save lock, and the save would be refused as re-entrant
  // (InvalidArgument); finished alone, it finds "a" closed like any save after its final one.
  options.on_last_save = [&, seen](EndReason reason) {
    seen->push_back(std::string(EndReasonName(reason)));
    seen->push_back(std::string(StatusCodeName(quiet->Save().code())));
  };
  auto b = players.StartSession("b", options);
  ASSERT_OK(b);
  ASSERT_OK(b->Edit([](std::string& d) { d = "b-final"; }));

  ASSERT_OK(engine_->Close());
  EXPECT_EQ(*seen, (std::vector<std::string>{std::string(EndReasonName(EndReason::kShutdown)),
                                             std::string(StatusCodeName(StatusCode::kClosed))}));
  engine_.reset();
  OpenEngine();
  EXPECT_EQ(StoredPayload("Players", "a"), "a-final");
  EXPECT_EQ(StoredPayload("Players", "b"), "b-final");
}

TEST_F(ShutdownBatchTest, AFaultAtOneSessionsCommitPointFailsOnlyThatSessionAndCloseReportsIt) {
  auto players = OpenPlayers();
  std::vector<Profile<BytesCodec>> profiles;
  auto ends = std::make_shared<std::map<std::string, SessionEnd>>();
  for (const char* key : {"a", "b", "c"}) {
    SessionOptions options;
    options.on_session_end = [ends, key](const SessionEnd& e) { (*ends)[key] = e; };
    auto p = players.StartSession(key, options);
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([&](std::string& d) { d = std::string("final-") + key; }));
    profiles.push_back(std::move(*p));
  }
  // The next release commit point to reach the hooks is a's, the first of the batch: it fails
  // a's final save as it would have failed a's own commit; b and c still commit.
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kRelease);
  EXPECT_CODE(engine_->Close(), kIOError);
  ASSERT_EQ(ends->size(), 3u);
  for (const char* key : {"a", "b", "c"}) EXPECT_EQ(ends->at(key).reason, EndReason::kShutdown);
  EXPECT_TRUE(ends->at("a").unsaved_changes);
  EXPECT_FALSE(ends->at("b").unsaved_changes);
  EXPECT_FALSE(ends->at("c").unsaved_changes);
  EXPECT_EQ(ReleasesCommitted(*gate_), 2u);
  engine_.reset();
  OpenEngine();
  EXPECT_EQ(StoredPayload("Players", "a"), "new-player");
  EXPECT_TRUE(StoredMeta("Players", "a")->lock.has_value());  // an orphan at the next start
  EXPECT_EQ(StoredPayload("Players", "b"), "final-b");
  EXPECT_EQ(StoredPayload("Players", "c"), "final-c");
}

}  // namespace
}  // namespace holdfast::test
