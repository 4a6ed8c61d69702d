// Session lifecycle: start, edit, save, end, reopen; load counts; limits; handles after the end.
#include <gtest/gtest.h>

#include "session_test_util.h"

namespace holdfast::test {
namespace {

using Lifecycle = SessionTest;

TEST_F(Lifecycle, StartOnFreeKeyOwnsItWithTemplateData) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("alice");
  ASSERT_OK(profile);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "new-player");
  EXPECT_EQ(profile->LastSavedData(), "new-player");
  ProfileInfo info = profile->Info();
  EXPECT_EQ(info.load_count, 1u);
  EXPECT_EQ(info.epoch, 1u);
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.first_session_unix_ms, clock_->WallUnixMillis());
  auto meta = StoredMeta("Players", "alice");
  ASSERT_TRUE(meta.has_value());
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->epoch, 1u);
  EXPECT_EQ(meta->lock->session_id, info.session_id);
  EXPECT_EQ(meta->lock->incarnation, engine_->Info().incarnation);
  EXPECT_EQ(StoredPayload("Players", "alice"), "new-player");
}

TEST_F(Lifecycle, SaveKeepsLockEndReleasesAndNextStartSeesData) {
  auto players = OpenPlayers();
  int64_t first_time = clock_->WallUnixMillis();
  {
    auto profile = players.StartSession("alice");
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=5"; }));
    ASSERT_OK(profile->Save());
    EXPECT_TRUE(profile->IsActive());
    EXPECT_EQ(profile->LastSavedData(), "gold=5");
    EXPECT_EQ(profile->Info().version, 2u);
    EXPECT_EQ(StoredPayload("Players", "alice"), "gold=5");
    ASSERT_TRUE(StoredMeta("Players", "alice")->lock.has_value());
    ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=9"; }));
    ASSERT_OK(profile->EndSession());
    EXPECT_FALSE(profile->IsActive());
    EXPECT_FALSE(StoredMeta("Players", "alice")->lock.has_value());
    EXPECT_EQ(StoredPayload("Players", "alice"), "gold=9");
  }
  clock_->Advance(std::chrono::seconds(10));
  auto again = players.StartSession("alice");
  ASSERT_OK(again);
  EXPECT_EQ(again->Data(), "gold=9");
  EXPECT_EQ(again->Info().load_count, 2u);
  EXPECT_EQ(again->Info().epoch, 2u);
  EXPECT_EQ(again->Info().first_session_unix_ms, first_time);  // set once
}

TEST_F(Lifecycle, DataSurvivesEngineReopen) {
  {
    auto players = OpenPlayers();
    auto profile = players.StartSession("bob");
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& d) { d = "level=3"; }));
    ASSERT_OK(profile->EndSession());
  }
  ReopenEngine();
  auto players = OpenPlayers();
  auto profile = players.StartSession("bob");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "level=3");
  EXPECT_EQ(profile->Info().load_count, 2u);
}

TEST_F(Lifecycle, EndSessionIsIdempotentAndLaterWritesFail) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("carol");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "final"; }));
  ASSERT_OK(profile->EndSession());
  ASSERT_OK(profile->EndSession());
  EXPECT_CODE(profile->Save(), kLockLost);
  EXPECT_CODE(profile->Edit([](std::string& d) { d = "after end"; }), kLockLost);
  EXPECT_CODE(profile->AddUserId(5), kLockLost);
  EXPECT_CODE(profile->SetMetadata("k", "v"), kLockLost);
  EXPECT_EQ(profile->Data(), "final");
  EXPECT_EQ(StoredPayload("Players", "carol"), "final");
}

TEST_F(Lifecycle, UnchangedSaveWritesNothing) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("dave");
  ASSERT_OK(profile);
  size_t commits = gate_->Committed().size();
  ASSERT_OK(profile->Save());
  ASSERT_OK(profile->Edit([](std::string&) {}));
  ASSERT_OK(profile->Save());
  EXPECT_EQ(gate_->Committed().size(), commits);
  EXPECT_EQ(profile->Info().version, 1u);
  EXPECT_EQ(engine_->Stats().saves_skipped, 2u);
}

TEST_F(Lifecycle, SignalsFireInOrder) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("erin");
  ASSERT_OK(profile);
  std::vector<std::string> events;
  auto close_first = CloseEngineAtExit();
  profile->OnSave([&] { events.push_back("save"); });
  profile->OnLastSave(
      [&](EndReason r) { events.push_back("last:" + std::string(EndReasonName(r))); });
  profile->OnAfterSave([&](const std::string& d) { events.push_back("after:" + d); });
  profile->OnSessionEnd([&](const SessionEnd& e) {
    events.push_back("end:" + std::string(EndReasonName(e.reason)) +
                     (e.unsaved_changes ? ":unsaved" : ":clean"));
  });
  ASSERT_OK(profile->Edit([](std::string& d) { d = "x"; }));
  ASSERT_OK(profile->Save());
  ASSERT_OK(profile->Edit([](std::string& d) { d = "y"; }));
  ASSERT_OK(profile->EndSession());
  // OnSave before OnLastSave on a final save (ProfileStore's order).
  EXPECT_EQ(events, (std::vector<std::string>{"save", "after:x", "save", "last:manual", "after:y",
                                              "end:manual:clean"}));
}

TEST_F(Lifecycle, UserIdsAndMetadataPersist) {
  auto players = OpenPlayers();
  {
    auto profile = players.StartSession("frank");
    ASSERT_OK(profile);
    ASSERT_OK(profile->AddUserId(42));
    ASSERT_OK(profile->AddUserId(7));
    ASSERT_OK(profile->AddUserId(42));
    ASSERT_OK(profile->SetMetadata("region", "eu"));
    EXPECT_CODE(profile->SetMetadata("", "v"), kInvalidArgument);
    ASSERT_OK(profile->EndSession());
  }
  auto profile = players.StartSession("frank");
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Info().user_ids, (std::vector<int64_t>{7, 42}));
  EXPECT_EQ(profile->Metadata("region"), "eu");
  ASSERT_OK(profile->RemoveUserId(7));
  ASSERT_OK(profile->EraseMetadata("region"));
  ASSERT_OK(profile->Save());
  auto meta = StoredMeta("Players", "frank");
  EXPECT_EQ(meta->user_ids, (std::vector<int64_t>{42}));
  EXPECT_TRUE(meta->metadata.empty());
}

TEST_F(Lifecycle, InvalidKeysAreRejectedAndWriteNothing) {
  auto players = OpenPlayers();
  EXPECT_CODE(players.StartSession(""), kInvalidArgument);
  EXPECT_CODE(players.StartSession(std::string(kMaxProfileKeyBytes + 1, 'k')), kInvalidArgument);
  EXPECT_OK(players.StartSession(std::string("nul\0key", 7)));
  EXPECT_EQ(gate_->Committed().size(), 1u);  // only the valid start
}

TEST_F(Lifecycle, InvalidStoreNamesAreRejected) {
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("", {}), kInvalidArgument);
  EXPECT_CODE(engine_->OpenStore<BytesCodec>("bad/name", {}), kInvalidArgument);
  EXPECT_CODE(engine_->OpenStore<BytesCodec>(std::string(65, 's'), {}), kInvalidArgument);
  EXPECT_TRUE(engine_->Info().stores.empty());
}

TEST_F(Lifecycle, OversizedPayloadIsRejectedAndSessionStaysActive) {
  engine_->Close().ok();
  engine_.reset();
  EngineOptions options = Options();
  options.max_payload_bytes = 1024;
  auto engine = Engine::Open(DatabasePath(), options);
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  auto players = OpenPlayers();
  auto profile = players.StartSession("gina");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = std::string(1025, 'x'); }));
  EXPECT_CODE(profile->Save(), kInvalidArgument);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(StoredPayload("Players", "gina"), "new-player");
  ASSERT_OK(profile->Edit([](std::string& d) { d = std::string(1024, 'y'); }));
  ASSERT_OK(profile->Save());
  EXPECT_EQ(StoredPayload("Players", "gina"), std::string(1024, 'y'));
}

TEST_F(Lifecycle, CloseEndsSessionsWithShutdownAndRefusesStarts) {
  auto players = OpenPlayers();
  auto a = players.StartSession("a");
  auto b = players.StartSession("b");
  ASSERT_OK(a);
  ASSERT_OK(b);
  std::vector<std::string> reasons;
  auto close_first = CloseEngineAtExit();
  std::mutex mu;
  for (auto* p : {&*a, &*b}) {
    p->OnLastSave([&](EndReason r) {
      std::lock_guard lock(mu);
      reasons.push_back(std::string(EndReasonName(r)));
    });
  }
  ASSERT_OK(a->Edit([](std::string& d) { d = "a-final"; }));
  ASSERT_OK(b->Edit([](std::string& d) { d = "b-final"; }));
  ASSERT_OK(engine_->Close());
  EXPECT_EQ(reasons, (std::vector<std::string>{"shutdown", "shutdown"}));
  EXPECT_FALSE(a->IsActive());
  EXPECT_CODE(a->Save(), kClosed);
  EXPECT_CODE(players.StartSession("c"), kClosed);
  EXPECT_TRUE(engine_->IsClosing());
  OpenEngine();
  EXPECT_EQ(StoredPayload("Players", "a"), "a-final");
  EXPECT_EQ(StoredPayload("Players", "b"), "b-final");
  EXPECT_FALSE(StoredMeta("Players", "a")->lock.has_value());
  EXPECT_FALSE(StoredMeta("Players", "b")->lock.has_value());
}

struct OtherCodec : BytesCodec {
  static constexpr std::string_view kName = "other";
};

TEST_F(Lifecycle, StoreCodecMismatchIsInvalidArgument) {
  auto players = OpenPlayers();
  EXPECT_CODE(engine_->OpenStore<OtherCodec>("Players", {}), kInvalidArgument);
}

TEST_F(Lifecycle, ZeroTimeoutStillAcquiresAFreeProfile) {
  auto players = OpenPlayers();
  SessionOptions no_wait;
  no_wait.timeout = std::chrono::milliseconds(0);
  auto profile = players.StartSession("hank", no_wait);
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "hank");
  // A held profile cannot be waited for with no time at all, and the start that gave up leaves
  // every stored record (meta, data, history) byte for byte as it was, and the holder untouched.
  EXPECT_CODE(players.StartSession("hank", no_wait), kTimedOut);
  EXPECT_EQ(RawRecords("Players", "hank"), before);
  EXPECT_TRUE(profile->IsActive());
  EXPECT_EQ(profile->Data(), "unsaved");
  EXPECT_EQ(StoredMeta("Players", "hank")->lock->session_id, profile->Info().session_id);
}

// StatusCode::kLocked: a start that must not disturb a live holder.
TEST_F(Lifecycle, FailIfHeldReturnsLockedNamingTheHolderAndChangesNothing) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("ivy");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  const auto before = RawRecords("Players", "ivy");
  SessionOptions polite;
  polite.fail_if_held = true;
  auto refused = players.StartSession("ivy", polite);
  ASSERT_CODE(refused, kLocked);
  EXPECT_NE(refused.status().message().find(
                "session " + std::to_string(holder->Info().session_id)),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_TRUE(holder->IsActive());  // not asked to hand off
  EXPECT_EQ(holder->Data(), "unsaved");
  EXPECT_EQ(RawRecords("Players", "ivy"), before);
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
  // A free profile is taken as usual; with steal the option is ignored.
  ASSERT_OK(holder->EndSession());
  auto next = players.StartSession("ivy", polite);
  ASSERT_OK(next);
  polite.steal = true;
  auto thief = players.StartSession("ivy", polite);
  ASSERT_OK(thief);
  EXPECT_FALSE(next->IsActive());
}

}  // namespace
}  // namespace holdfast::test
