// The admin API's writes through the session lock (holdfast/admin.h): Edit and Release end a
// live session through its final save and fence it for good; Message, Erase and EraseUser go
// through the store; refusals change nothing.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "admin_test_util.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using AdminWritesTest = AdminFixture;

// The meta record of a profile, read straight from storage.
internal::ProfileMeta StoredMeta(Engine& engine, const std::string& store, const std::string& key) {
  std::string bytes;
  EXPECT_OK(StorageOf(engine).Get(internal::Family::kMeta, internal::EncodeProfileKey(store, key),
                                  &bytes));
  auto meta = internal::DecodeProfileMeta(bytes);
  EXPECT_OK(meta);
  return meta.ok() ? *meta : internal::ProfileMeta{};
}

TEST_F(AdminWritesTest, EditEndsTheLiveSessionWithItsFinalSaveThenWritesAnAdminVersion) {
  auto players = OpenPlayers();
  WriteHistory(players, "alice", {"gold=10"});  // versions 1, 2
  auto holder = players.StartSession("alice");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  ASSERT_OK(holder->Edit([](std::string& d) { d = "gold=99"; }));
  const uint64_t epoch_before = holder->Info().epoch;

  auto written = Admin(*engine_).Edit("Players", "alice", "gold=1");
  ASSERT_OK(written);
  EXPECT_EQ(*written, 4u);  // 3: the holder's final save; 4: the edit
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kAdmin);
  EXPECT_FALSE(end->unsaved_changes);
  auto versions = players.Versions("alice");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kAdmin);
  EXPECT_EQ((*versions)[0].epoch, epoch_before + 1);
  EXPECT_EQ((*versions)[1].reason, VersionReason::kEndSession);
  auto saved = players.Get("alice", 3);
  ASSERT_OK(saved);
  EXPECT_EQ(saved->data, "gold=99");
  auto now = players.Get("alice");
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "gold=1");
  EXPECT_FALSE(now->locked);
  // The old holder can never write again.
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_CODE(holder->Edit([](std::string& d) { d = "clobber"; }), kLockLost);
  EXPECT_EQ(players.Get("alice")->data, "gold=1");
}

TEST_F(AdminWritesTest, EditRefusedByTheStoresCheckChangesNothing) {
  StoreOptions<std::string> options;
  options.validate = [](const std::string& d) {
    return d.starts_with("gold=") ? Status::Ok() : Status::InvalidArgument("no gold");
  };
  auto players = OpenPlayers(std::move(options));
  WriteHistory(players, "bob", {"gold=5"});
  auto holder = players.StartSession("bob");
  ASSERT_OK(holder);
  const auto before = players.Versions("bob");
  ASSERT_OK(before);

  Admin admin(*engine_);
  auto refused = admin.Edit("Players", "bob", "silver=5");
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("validate: InvalidArgument: no gold"),
            std::string::npos)
      << refused.status();
  EXPECT_OK(holder->Save());  // still the holder
  EXPECT_EQ(players.Versions("bob")->size(), before->size());

  EXPECT_CODE(admin.Edit("Players", "nobody", "gold=1"), kNotFound);
  EXPECT_CODE(admin.Edit("Nowhere", "bob", "gold=1"), kNotFound);
  EXPECT_CODE(admin.Edit("Players", "", "gold=1"), kInvalidArgument);
  const std::string huge(Options().max_payload_bytes + 1, 'x');
  EXPECT_CODE(admin.Edit("Players", "bob", huge), kInvalidArgument);
  EXPECT_OK(holder->Save());
}

TEST_F(AdminWritesTest, ReleaseEndsALiveSessionThroughItsFinalSave) {
  auto players = OpenPlayers();
  WriteHistory(players, "carol", {"gold=1"});
  auto holder = players.StartSession("carol");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  ASSERT_OK(holder->Edit([](std::string& d) { d = "gold=2"; }));

  auto released = Admin(*engine_).Release("Players", "carol");
  ASSERT_OK(released);
  EXPECT_EQ(*released, ReleaseOutcome::kEnded);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kAdmin);
  auto now = players.Get("carol");
  ASSERT_OK(now);
  EXPECT_EQ(now->data, "gold=2");  // the final save
  EXPECT_EQ(now->version.reason, VersionReason::kEndSession);
  EXPECT_FALSE(now->locked);
  EXPECT_CODE(holder->Save(), kLockLost);
  // Nothing holds it now: NotFound, and nothing is written (not even a new epoch).
  const uint64_t epoch = StoredMeta(*engine_, "Players", "carol").epoch;
  EXPECT_CODE(Admin(*engine_).Release("Players", "carol"), kNotFound);
  EXPECT_EQ(StoredMeta(*engine_, "Players", "carol").epoch, epoch);
}

TEST_F(AdminWritesTest, ReleaseClearsALockLeftByAnEngineThatIsGone) {
  auto players = OpenPlayers();
  WriteHistory(players, "dave", {"gold=1"});
  auto holder = players.StartSession("dave");
  ASSERT_OK(holder);
  const std::string copy = dir_.Sub("copy");
  ASSERT_OK(Admin(*engine_).Checkpoint(copy));  // dave's lock is an orphan there
  CloseEngine();
  auto engine = Engine::Open(copy, Options(/*create=*/false));
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  Admin admin(*engine_);
  const uint64_t epoch = StoredMeta(*engine_, "Players", "dave").epoch;

  auto released = admin.Release("Players", "dave");
  ASSERT_OK(released);
  EXPECT_EQ(*released, ReleaseOutcome::kCleared);
  auto meta = StoredMeta(*engine_, "Players", "dave");
  EXPECT_FALSE(meta.lock.has_value());
  EXPECT_EQ(meta.epoch, epoch + 1);
  auto locks = admin.Locks();
  ASSERT_OK(locks);
  EXPECT_TRUE(locks->empty());
  auto versions = admin.Versions("Players", "dave");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->front().version, 2u);  // no version written
}

TEST_F(AdminWritesTest, MessageEraseAndEraseUser) {
  auto players = OpenPlayers();
  for (const char* key : {"erin", "frank", "gina"}) {
    auto profile = players.StartSession(key, SessionOptions{.user_ids = {7}});
    ASSERT_OK(profile);
    ASSERT_OK(profile->EndSession());
  }
  Admin admin(*engine_);
  ASSERT_OK(admin.Message("Players", "erin", "gift"));
  auto report = admin.Verify();
  ASSERT_OK(report);
  EXPECT_EQ(report->messages, 1u);  // waiting for erin's next session
  EXPECT_CODE(admin.Message("Nowhere", "erin", "gift"), kNotFound);

  ASSERT_OK(admin.Erase("Players", "gina"));
  EXPECT_CODE(players.Get("gina"), kNotFound);
  EXPECT_CODE(admin.Erase("Players", "gina"), kNotFound);

  auto erased = admin.EraseUser(7);
  ASSERT_OK(erased);
  EXPECT_EQ(*erased, (std::vector<ProfileLocation>{{"Players", "erin"}, {"Players", "frank"}}));
  EXPECT_CODE(players.Get("erin"), kNotFound);
  EXPECT_CODE(players.Get("frank"), kNotFound);
  EXPECT_CODE(admin.EraseUser(7), kNotFound);
}

}  // namespace
}  // namespace holdfast::test
