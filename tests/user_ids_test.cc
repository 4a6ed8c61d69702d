// User ids and metadata (issue 13): ids given at StartSession or added later, the index behind
// Engine::FindByUserId kept in the same transactions, erasure of the entries, the index rebuilt
// for a database an older build wrote, and the documented limits.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "holdfast/limits.h"
#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using UserIdsTest = SessionTest;
using Locations = std::vector<ProfileLocation>;

Locations Find(Engine& engine, int64_t id) {
  auto found = engine.FindByUserId(id);
  EXPECT_OK(found);
  return found.ok() ? *found : Locations{};
}

TEST_F(UserIdsTest, FindByUserIdSeesSavedIdsAndIdsGivenAtTheStartInEveryStore) {
  auto players = OpenPlayers();
  auto guilds = engine_->OpenStore<BytesCodec>("Guilds");
  ASSERT_OK(guilds);
  auto p = players.StartSession("ann");
  ASSERT_OK(p);
  ASSERT_OK(p->AddUserId(7));
  EXPECT_TRUE(Find(*engine_, 7).empty());  // counted once saved
  ASSERT_OK(p->Save());
  EXPECT_EQ(Find(*engine_, 7), (Locations{{"Players", "ann"}}));

  SessionOptions with_ids;
  with_ids.user_ids = {7, -3};
  auto g = guilds->StartSession("red", with_ids);
  ASSERT_OK(g);
  EXPECT_EQ(g->Info().user_ids, (std::vector<int64_t>{-3, 7}));
  EXPECT_EQ(Find(*engine_, 7), (Locations{{"Guilds", "red"}, {"Players", "ann"}}));
  EXPECT_EQ(Find(*engine_, -3), (Locations{{"Guilds", "red"}}));
  EXPECT_TRUE(Find(*engine_, 3).empty());  // not confused with -3

  ASSERT_OK(p->RemoveUserId(7));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(Find(*engine_, 7), (Locations{{"Guilds", "red"}}));
  ASSERT_OK(g->EndSession());
}

TEST_F(UserIdsTest, RemoveErasesTheIndexEntries) {
  auto players = OpenPlayers();
  SessionOptions with_ids;
  with_ids.user_ids = {11, 12};
  auto p = players.StartSession("bob", with_ids);
  ASSERT_OK(p);
  ASSERT_OK(p->EndSession());
  ASSERT_OK(players.Remove("bob"));
  EXPECT_TRUE(Find(*engine_, 11).empty());
  EXPECT_TRUE(Find(*engine_, 12).empty());
}

TEST_F(UserIdsTest, AStartThatIsUndoneTakesItsUserIdsBackOutOfTheIndex) {
  auto players = OpenPlayers();
  std::atomic<bool> cancel{false};
  SessionOptions options;
  options.user_ids = {21};
  options.cancel = [&] { return cancel.load(); };
  gate_->PauseNext(CommitKind::kAcquire, "cy");
  auto start = std::async(std::launch::async, [&] { return players.StartSession("cy", options); });
  gate_->WaitUntilPaused();
  cancel = true;  // the acquisition commits, then the start is undone
  gate_->Release();
  EXPECT_CODE(start.get(), kCancelled);
  EXPECT_TRUE(Find(*engine_, 21).empty());
}

TEST_F(UserIdsTest, TheIndexIsRebuiltForADatabaseAnOlderBuildWrote) {
  auto players = OpenPlayers();
  for (const char* key : {"dee", "eli"}) {
    SessionOptions with_ids;
    with_ids.user_ids = {31};
    auto p = players.StartSession(key, with_ids);
    ASSERT_OK(p);
    ASSERT_OK(p->EndSession());
  }
  // What an older build leaves: the ids in meta, no index, a manifest without the flag.
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    for (const char* key : {"dee", "eli"}) {
      const auto entry = internal::UserIdKey(31, internal::EncodeProfileKey("Players", key));
      if (Status s = txn.Delete(internal::Family::kDefault, entry); !s.ok()) return s;
    }
    std::string bytes;
    if (Status s = txn.Get(internal::Family::kDefault, internal::kManifestKey, &bytes); !s.ok()) {
      return s;
    }
    auto manifest = internal::DecodeManifest(bytes);
    if (!manifest.ok()) return manifest.status();
    manifest->user_id_index = false;
    return txn.Put(internal::Family::kDefault, internal::kManifestKey,
                   internal::EncodeManifest(*manifest));
  }));
  EXPECT_TRUE(Find(*engine_, 31).empty());
  ReopenEngine();
  EXPECT_EQ(Find(*engine_, 31), (Locations{{"Players", "dee"}, {"Players", "eli"}}));
}

TEST_F(UserIdsTest, UserIdAndMetadataLimitsAreEnforcedAndChangeNothing) {
  auto players = OpenPlayers();
  auto p = players.StartSession("fay");
  ASSERT_OK(p);
  for (int64_t id = 0; id < static_cast<int64_t>(kMaxUserIdsPerProfile); ++id) {
    ASSERT_OK(p->AddUserId(id));
  }
  EXPECT_CODE(p->AddUserId(1000), kInvalidArgument);
  EXPECT_EQ(p->Info().user_ids.size(), kMaxUserIdsPerProfile);
  ASSERT_OK(p->AddUserId(5));  // already there: no change, no error

  EXPECT_CODE(p->SetMetadata(std::string(kMaxMetadataKeyBytes + 1, 'k'), "v"), kInvalidArgument);
  EXPECT_CODE(p->SetMetadata("", "v"), kInvalidArgument);
  EXPECT_CODE(p->SetMetadata("k", std::string(kMaxMetadataValueBytes + 1, 'v')),
              kInvalidArgument);
  for (size_t i = 0; i < kMaxMetadataEntries; ++i) {
    ASSERT_OK(p->SetMetadata("key" + std::to_string(i), "v"));
  }
  EXPECT_CODE(p->SetMetadata("one-more", "v"), kInvalidArgument);
  ASSERT_OK(p->SetMetadata("key0", "replaced"));  // replacing is not adding
  EXPECT_FALSE(p->Metadata("one-more").has_value());
  ASSERT_OK(p->EndSession());

  SessionOptions too_many;
  for (int64_t id = 0; id <= static_cast<int64_t>(kMaxUserIdsPerProfile); ++id) {
    too_many.user_ids.push_back(id + 100);
  }
  const auto before = RawRecords("Players", "fay");
  EXPECT_CODE(players.StartSession("fay", too_many), kInvalidArgument);
  EXPECT_EQ(RawRecords("Players", "fay"), before);
}

}  // namespace
}  // namespace holdfast::test
