// Erasure and read-only views (issue 13): Store::Remove erases a profile's data, versions,
// messages and meta in one transaction, fences a live session of it (Removed, OnSessionEnd
// kRemoved), and compacts the bytes out of the database's files; Store::Get tells who holds the
// lock.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "internals.h"
#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using ErasureTest = SessionTest;

// How many records of any family are stored under the profile key of Players/`key`.
size_t RecordsOf(Engine& engine, const std::string& key) {
  const std::string prefix = internal::EncodeProfileKey("Players", key);
  size_t n = 0;
  for (internal::Family f : {internal::Family::kData, internal::Family::kMeta,
                             internal::Family::kVersions, internal::Family::kMessages}) {
    EXPECT_OK(StorageOf(engine).Scan(f, internal::ScanRange::Prefix(prefix),
                                     internal::ScanOrder::kForward,
                                     [&](std::string_view, std::string_view) {
                                       ++n;
                                       return true;
                                     }));
  }
  return n;
}

// A profile with two saved versions, metadata, a user id and a waiting message.
void WriteFullProfile(Store<BytesCodec>& players, const std::string& key) {
  auto p = players.StartSession(key);
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](std::string& d) { d = "level-9"; }));
  ASSERT_OK(p->AddUserId(4242));
  ASSERT_OK(p->SetMetadata("region", "eu"));
  ASSERT_OK(p->EndSession());
  ASSERT_OK(players.Message(key, "mail"));
}

TEST_F(ErasureTest, RemoveErasesEveryRecordInOneCommitAndALaterStartBeginsAfresh) {
  auto players = OpenPlayers();
  WriteFullProfile(players, "ann");
  WriteFullProfile(players, "bob");  // a neighbour that must stay
  ASSERT_GT(RecordsOf(*engine_, "ann"), 4u);
  const size_t bob_records = RecordsOf(*engine_, "bob");
  const size_t commits_before = gate_->Committed().size();

  ASSERT_OK(players.Remove("ann"));
  EXPECT_EQ(RecordsOf(*engine_, "ann"), 0u);
  EXPECT_EQ(RecordsOf(*engine_, "bob"), bob_records);
  const auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), commits_before + 1);
  EXPECT_EQ(commits.back().kind, CommitKind::kRemove);
  EXPECT_CODE(players.Get("ann"), kNotFound);
  EXPECT_CODE(players.Versions("ann"), kNotFound);
  EXPECT_EQ(engine_->Stats().removals, 1u);

  auto fresh = players.StartSession("ann");
  ASSERT_OK(fresh);
  EXPECT_EQ(fresh->Data(), "new-player");
  EXPECT_EQ(fresh->Info().load_count, 1u);
  EXPECT_TRUE(fresh->Info().user_ids.empty());
  EXPECT_FALSE(fresh->Metadata("region").has_value());
  ASSERT_OK(fresh->EndSession());
}

TEST_F(ErasureTest, RemoveUnderALiveSessionFencesItWithoutAFinalSave) {
  auto players = OpenPlayers();
  auto holder = players.StartSession("cat");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "unsaved"; }));
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  int last_saves = 0;
  holder->OnLastSave([&](EndReason) { ++last_saves; });
  auto close = CloseEngineAtExit();

  ASSERT_OK(players.Remove("cat"));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kRemoved);
  EXPECT_TRUE(end->unsaved_changes);
  EXPECT_EQ(last_saves, 0);
  EXPECT_FALSE(holder->IsActive());
  EXPECT_CODE(holder->Save(), kRemoved);
  EXPECT_CODE(holder->Edit([](std::string& d) { d = "more"; }), kRemoved);
  EXPECT_EQ(holder->Data(), "unsaved");  // still readable to the game
  EXPECT_EQ(RecordsOf(*engine_, "cat"), 0u);
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
}

TEST_F(ErasureTest, RemovingNothingOrABadKeyIsRefused) {
  auto players = OpenPlayers();
  EXPECT_CODE(players.Remove("nobody"), kNotFound);
  EXPECT_CODE(players.Remove(""), kInvalidArgument);
  EXPECT_EQ(engine_->Stats().removals, 0u);
}

TEST_F(ErasureTest, AProfileThatOnlyHasMessagesCanBeRemoved) {
  auto players = OpenPlayers();
  ASSERT_OK(players.Message("dan", "welcome"));
  ASSERT_OK(players.Remove("dan"));
  EXPECT_EQ(RecordsOf(*engine_, "dan"), 0u);
}

TEST_F(ErasureTest, ADamagedProfileCanStillBeRemoved) {
  auto players = OpenPlayers();
  WriteFullProfile(players, "eve");
  ASSERT_OK(internal::RunTransaction(StorageOf(*engine_), [&](internal::StorageTransaction& txn) {
    const std::string key = internal::EncodeProfileKey("Players", "eve");
    if (Status s = txn.Put(internal::Family::kMeta, key, "torn meta"); !s.ok()) return s;
    return txn.Put(internal::Family::kData, key, "torn data");
  }));
  ASSERT_OK(players.Remove("eve"));
  EXPECT_EQ(RecordsOf(*engine_, "eve"), 0u);
}

TEST_F(ErasureTest, GetTellsWhoHoldsTheLockAndSinceWhen) {
  auto players = OpenPlayers();
  const int64_t started = clock_->WallUnixMillis();
  auto p = players.StartSession("fay");
  ASSERT_OK(p);
  auto view = players.Get("fay");
  ASSERT_OK(view);
  EXPECT_TRUE(view->locked);
  ASSERT_TRUE(view->lock.has_value());
  EXPECT_NE(view->lock->owner.find(':'), std::string::npos);  // the default, "<host>:<pid>"
  EXPECT_EQ(view->lock->owner, StoredMeta("Players", "fay")->lock->owner);
  EXPECT_EQ(view->lock->since_unix_ms, started);
  EXPECT_EQ(view->lock->epoch, p->Info().epoch);
  EXPECT_EQ(view->lock->session_id, p->Info().session_id);
  EXPECT_EQ(view->lock->incarnation, engine_->Info().incarnation);
  ASSERT_OK(p->EndSession());
  view = players.Get("fay");
  ASSERT_OK(view);
  EXPECT_FALSE(view->locked);
  EXPECT_FALSE(view->lock.has_value());
}

// On a real directory: after Remove, the payload's bytes are in no file of the database — not
// in a table file, not in the write-ahead log.
TEST(ErasureOnDiskTest, RemovedBytesAreInNoFileOfTheDatabase) {
  TempDir dir;
  const std::string secret = "SECRET-PAYLOAD-7f3a9c";
  auto contains_secret = [&] {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(secret) != std::string::npos) return true;
    }
    return false;
  };
  EngineOptions options;
  options.create_if_missing = true;
  auto engine = Engine::Open(dir.path(), options);
  ASSERT_OK(engine);
  auto players = (*engine)->OpenStore<BytesCodec>("Players");
  ASSERT_OK(players);
  for (int i = 0; i < 3; ++i) {  // three versions hold it
    auto p = players->StartSession("gil");
    ASSERT_OK(p);
    ASSERT_OK(p->Edit([&](std::string& d) { d = secret + std::to_string(i); }));
    ASSERT_OK(p->EndSession());
  }
  ASSERT_OK(players->Message("gil", secret));
  ASSERT_TRUE(contains_secret());  // the check can see it
  ASSERT_OK(players->Remove("gil"));
  EXPECT_FALSE(contains_secret());
  ASSERT_OK((*engine)->Close());
  EXPECT_FALSE(contains_secret());
}

}  // namespace
}  // namespace holdfast::test
