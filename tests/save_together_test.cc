// Engine::SaveTogether (issue 16): several active profiles stored in one transaction fenced on
// every epoch — all or nothing. Each test checks the status, the stored records afterwards and
// which sessions are still active.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "session_test_util.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using Player = Profile<BytesCodec>;

class SaveTogetherTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    players_.emplace(OpenPlayers());
    auto bank = engine_->OpenStore<BytesCodec>("Bank", StoreOptions<std::string>{});
    ASSERT_OK(bank);
    bank_.emplace(std::move(*bank));
  }

  Player Start(Store<BytesCodec>& store, const std::string& key, const std::string& data) {
    auto p = store.StartSession(key);
    EXPECT_OK(p);
    EXPECT_OK(p->Edit([&](std::string& d) { d = data; }));
    EXPECT_OK(p->Save());
    return std::move(*p);
  }

  std::optional<Store<BytesCodec>> players_;
  std::optional<Store<BytesCodec>> bank_;
};

TEST_F(SaveTogetherTest, StoresEveryProfileInOneCommitWithATradeVersionNamingThePartners) {
  Player ann = Start(*players_, "ann", "sword");
  Player vault = Start(*bank_, "vault", "gold:10");
  ASSERT_OK(ann.Edit([](std::string& d) { d = "gold:10"; }));
  ASSERT_OK(vault.Edit([](std::string& d) { d = "sword"; }));
  const size_t commits_before = gate_->Committed().size();
  const int calls_before = gate_->BeforeCommitCalls();

  ASSERT_OK(engine_->SaveTogether(ann, vault));

  EXPECT_EQ(StoredPayload("Players", "ann"), "gold:10");
  EXPECT_EQ(StoredPayload("Bank", "vault"), "sword");
  // One transaction: both commit points were checked before it, and both committed after it.
  const auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), commits_before + 2);
  EXPECT_EQ(gate_->BeforeCommitCalls(), calls_before + 2);
  EXPECT_EQ(commits[commits_before].kind, CommitKind::kTrade);
  EXPECT_EQ(commits[commits_before + 1].kind, CommitKind::kTrade);
  EXPECT_EQ(engine_->Stats().trades, 1u);

  auto ann_versions = players_->Versions("ann");
  ASSERT_OK(ann_versions);
  ASSERT_FALSE(ann_versions->empty());
  EXPECT_EQ(ann_versions->front().reason, VersionReason::kTrade);
  EXPECT_EQ(VersionReasonName(ann_versions->front().reason), "trade");
  EXPECT_EQ(ann_versions->front().partners, (std::vector<ProfileLocation>{{"Bank", "vault"}}));
  EXPECT_EQ(ann_versions->front().version, ann.Info().version);
  auto vault_versions = bank_->Versions("vault");
  ASSERT_OK(vault_versions);
  EXPECT_EQ(vault_versions->front().reason, VersionReason::kTrade);
  EXPECT_EQ(vault_versions->front().partners, (std::vector<ProfileLocation>{{"Players", "ann"}}));

  // The sessions keep their locks and go on as usual.
  EXPECT_TRUE(ann.IsActive());
  EXPECT_TRUE(vault.IsActive());
  EXPECT_EQ(ann.LastSavedData(), "gold:10");
  ASSERT_OK(ann.EndSession());
  ASSERT_OK(vault.EndSession());
}

TEST_F(SaveTogetherTest, UnchangedProfilesStillGetATradeVersion) {
  Player ann = Start(*players_, "ann", "a");
  Player bob = Start(*players_, "bob", "b");
  const uint64_t bob_version = bob.Info().version;
  ASSERT_OK(ann.Edit([](std::string& d) { d = "a+gift"; }));
  ASSERT_OK(engine_->SaveTogether(std::vector<RawSession>{ann.raw(), bob.raw()}));
  EXPECT_EQ(bob.Info().version, bob_version + 1);
  auto versions = players_->Versions("bob");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->front().reason, VersionReason::kTrade);
  EXPECT_EQ(versions->front().partners, (std::vector<ProfileLocation>{{"Players", "ann"}}));
  EXPECT_EQ(StoredPayload("Players", "bob"), "b");
}

TEST_F(SaveTogetherTest, ALockLostInsideTheTransactionWritesNothingAndEndsOnlyThatSession) {
  Player ann = Start(*players_, "ann", "sword");
  Player bob = Start(*players_, "bob", "shield");
  std::optional<SessionEnd> bob_end;
  bob.OnSessionEnd([&](const SessionEnd& e) { bob_end = e; });
  ASSERT_OK(ann.Edit([](std::string& d) { d = "shield"; }));
  ASSERT_OK(bob.Edit([](std::string& d) { d = "sword"; }));
  const auto ann_before = RawRecords("Players", "ann");
  const auto bob_stored = StoredPayload("Players", "bob");

  // The trade parks just before its commit; bob is stolen meanwhile (his meta changes under
  // the transaction, which must then find bob's epoch gone).
  gate_->PauseNext(CommitKind::kTrade, "bob");
  Status traded;
  std::thread trade([&] { traded = engine_->SaveTogether(ann, bob); });
  gate_->WaitUntilPaused();
  SessionOptions steal;
  steal.steal = true;
  auto thief = players_->StartSession("bob", steal);
  ASSERT_OK(thief);
  gate_->Release();
  trade.join();

  ASSERT_CODE(traded, kLockLost);
  EXPECT_NE(traded.message().find("profile 'Players/bob'"), std::string::npos) << traded;
  EXPECT_EQ(RawRecords("Players", "ann"), ann_before);  // nothing of ann's side was stored
  EXPECT_EQ(StoredPayload("Players", "bob"), bob_stored);
  EXPECT_EQ(thief->Data(), "shield");
  EXPECT_TRUE(ann.IsActive());  // ann keeps her session and her (unsaved) data
  EXPECT_EQ(ann.Data(), "shield");
  EXPECT_FALSE(bob.IsActive());
  ASSERT_TRUE(bob_end.has_value());
  EXPECT_EQ(bob_end->reason, EndReason::kStolen);
  EXPECT_TRUE(bob_end->unsaved_changes);
  EXPECT_EQ(engine_->Stats().trades, 0u);
  const auto errors = Errors();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back().operation, FailedOperation::kSaveTogether);
  EXPECT_EQ(errors.back().key, "bob");
  ASSERT_OK(ann.Save());  // ann's own save still works
  EXPECT_EQ(StoredPayload("Players", "ann"), "shield");
  ASSERT_OK(thief->EndSession());
}

TEST_F(SaveTogetherTest, AnEndedSessionIsRefusedBeforeAnythingRuns) {
  Player ann = Start(*players_, "ann", "a");
  Player bob = Start(*players_, "bob", "b");
  ASSERT_OK(ann.Edit([](std::string& d) { d = "a2"; }));
  ASSERT_OK(bob.EndSession());
  const auto ann_before = RawRecords("Players", "ann");
  const int calls_before = gate_->BeforeCommitCalls();
  Status s = engine_->SaveTogether(ann, bob);
  ASSERT_CODE(s, kLockLost);
  EXPECT_NE(s.message().find("profile 'Players/bob'"), std::string::npos) << s;
  EXPECT_EQ(gate_->BeforeCommitCalls(), calls_before);
  EXPECT_EQ(RawRecords("Players", "ann"), ann_before);
  EXPECT_TRUE(ann.IsActive());
}

TEST_F(SaveTogetherTest, ARollbackRacingTheTradeEndsTheHolderFirstAndTheTradeIsRefused) {
  Player ann = Start(*players_, "ann", "a1");
  Player bob = Start(*players_, "bob", "b1");
  ASSERT_OK(bob.Edit([](std::string& d) { d = "b2"; }));
  ASSERT_OK(bob.Save());
  ASSERT_OK(players_->Rollback("bob", 2));  // ends bob's session with a final save, then restores
  ASSERT_FALSE(bob.IsActive());
  const auto ann_before = RawRecords("Players", "ann");
  const auto bob_before = RawRecords("Players", "bob");
  ASSERT_CODE(engine_->SaveTogether(ann, bob), kLockLost);
  EXPECT_EQ(RawRecords("Players", "ann"), ann_before);
  EXPECT_EQ(RawRecords("Players", "bob"), bob_before);
  EXPECT_EQ(StoredPayload("Players", "bob"), "b1");
}

TEST_F(SaveTogetherTest, AnInjectedIoErrorWritesNothingAndEverySessionStaysActive) {
  Player ann = Start(*players_, "ann", "a");
  Player vault = Start(*bank_, "vault", "v");
  ASSERT_OK(ann.Edit([](std::string& d) { d = "a2"; }));
  ASSERT_OK(vault.Edit([](std::string& d) { d = "v2"; }));
  const auto ann_before = RawRecords("Players", "ann");
  const auto vault_before = RawRecords("Bank", "vault");
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kTrade);
  ASSERT_CODE(engine_->SaveTogether(ann, vault), kIOError);
  EXPECT_EQ(RawRecords("Players", "ann"), ann_before);
  EXPECT_EQ(RawRecords("Bank", "vault"), vault_before);
  EXPECT_TRUE(ann.IsActive());
  EXPECT_TRUE(vault.IsActive());
  ASSERT_OK(engine_->SaveTogether(ann, vault));  // a retry stores both
  EXPECT_EQ(StoredPayload("Players", "ann"), "a2");
  EXPECT_EQ(StoredPayload("Bank", "vault"), "v2");
}

TEST_F(SaveTogetherTest, InvalidDataOfOneProfileRefusesTheWholeTrade) {
  auto strict = engine_->OpenStore<BytesCodec>("Strict", [] {
    StoreOptions<std::string> o;
    o.template_value = "ok";
    o.validate = [](const std::string& d) {
      return d.find('!') == std::string::npos ? Status::Ok()
                                              : Status::InvalidArgument("no '!' allowed");
    };
    return o;
  }());
  ASSERT_OK(strict);
  Player ann = Start(*players_, "ann", "a");
  auto picky = strict->StartSession("picky");
  ASSERT_OK(picky);
  ASSERT_OK(ann.Edit([](std::string& d) { d = "a2"; }));
  ASSERT_OK(picky->Edit([](std::string& d) { d = "bad!"; }));
  const auto ann_before = RawRecords("Players", "ann");
  const auto picky_before = RawRecords("Strict", "picky");
  Status s = engine_->SaveTogether(ann, *picky);
  ASSERT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.message().find("profile 'Strict/picky'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("no '!' allowed"), std::string::npos) << s;
  EXPECT_EQ(RawRecords("Players", "ann"), ann_before);
  EXPECT_EQ(RawRecords("Strict", "picky"), picky_before);
  EXPECT_TRUE(ann.IsActive());
  EXPECT_TRUE(picky->IsActive());
  ASSERT_OK(picky->Edit([](std::string& d) { d = "fine"; }));  // so Close can save it
}

TEST_F(SaveTogetherTest, BadArgumentsAreRefusedWithNothingWritten) {
  Player ann = Start(*players_, "ann", "a");
  const auto before = RawRecords("Players", "ann");
  EXPECT_CODE(engine_->SaveTogether(std::vector<RawSession>{}), kInvalidArgument);
  EXPECT_CODE(engine_->SaveTogether(ann, ann), kInvalidArgument);
  EXPECT_CODE(engine_->SaveTogether(ann.raw(), RawSession()), kInvalidArgument);
  std::vector<RawSession> too_many(kMaxSaveTogetherProfiles + 1, ann.raw());
  EXPECT_CODE(engine_->SaveTogether(too_many), kInvalidArgument);
  // From inside an Edit of one of the profiles (it holds the data lock the save needs).
  Status inside;
  ASSERT_OK(ann.Edit([&](std::string&) { inside = engine_->SaveTogether(ann); }));
  EXPECT_CODE(inside, kInvalidArgument);
  // A profile of another engine.
  EngineOptions other_options = Options();
  other_options.memory_volume = MemoryVolume::Create();
  auto other = Engine::Open("/other", other_options);
  ASSERT_OK(other);
  auto other_players = (*other)->OpenStore<BytesCodec>("Players", StoreOptions<std::string>{});
  ASSERT_OK(other_players);
  auto stranger = other_players->StartSession("zed");
  ASSERT_OK(stranger);
  EXPECT_CODE(engine_->SaveTogether(ann, *stranger), kInvalidArgument);
  EXPECT_EQ(RawRecords("Players", "ann"), before);
  EXPECT_TRUE(ann.IsActive());
  ASSERT_OK((*other)->Close());
}

TEST_F(SaveTogetherTest, AfterCloseItReturnsClosed) {
  Player ann = Start(*players_, "ann", "a");
  ASSERT_OK(engine_->Close());
  EXPECT_CODE(engine_->SaveTogether(ann), kClosed);
}

TEST_F(SaveTogetherTest, SignalsFireForEveryProfileAndEditsMadeThereAreStored) {
  Player ann = Start(*players_, "ann", "a");
  Player bob = Start(*players_, "bob", "b");
  int saves = 0;
  std::vector<std::string> after;
  Status from_signal;
  auto close = CloseEngineAtExit();  // the handlers below use these locals
  ann.OnSave([&] {
    ++saves;
    EXPECT_OK(ann.Edit([](std::string& d) { d += "+onsave"; }));
  });
  bob.OnSave([&] { ++saves; });
  ann.OnAfterSave([&](const std::string& d) { after.push_back(d); });
  ASSERT_OK(engine_->SaveTogether(ann, bob));
  EXPECT_EQ(saves, 2);
  EXPECT_EQ(StoredPayload("Players", "ann"), "a+onsave");
  EXPECT_EQ(after, (std::vector<std::string>{"a+onsave"}));
  // Save of a trading profile from its own signal is refused, not a deadlock.
  bob.OnSave([&] { from_signal = engine_->SaveTogether(ann, bob); });
  ASSERT_OK(bob.Save());
  EXPECT_CODE(from_signal, kInvalidArgument);
}

TEST_F(SaveTogetherTest, AHandoffWaitsForATradeInFlightAndLoadsWhatItStored) {
  Player ann = Start(*players_, "ann", "a");
  Player bob = Start(*players_, "bob", "b");
  ASSERT_OK(ann.Edit([](std::string& d) { d = "b"; }));
  ASSERT_OK(bob.Edit([](std::string& d) { d = "a"; }));
  gate_->PauseNext(CommitKind::kTrade, "ann");
  Status traded;
  std::thread trade([&] { traded = engine_->SaveTogether(ann, bob); });
  gate_->WaitUntilPaused();
  // A rejoin on another thread asks ann's session to hand off; its final save needs the save
  // lock the trade holds, so it runs after the trade whatever the interleaving.
  Result<Player> rejoined = Status::Internal("not started");
  std::thread rejoin([&] { rejoined = players_->StartSession("ann"); });
  gate_->Release();
  trade.join();
  rejoin.join();
  ASSERT_OK(traded);
  ASSERT_OK(rejoined);
  EXPECT_EQ(rejoined->Data(), "b");
  EXPECT_EQ(StoredPayload("Players", "bob"), "a");
  EXPECT_FALSE(ann.IsActive());
  ASSERT_OK(rejoined->EndSession());
  ASSERT_OK(bob.EndSession());
}

// Items move between profiles only by trades, from several threads in opposite lock orders: no
// deadlock, and the stored total never changes.
TEST_F(SaveTogetherTest, ConcurrentTradesInOppositeOrdersConserveTheTotal) {
  constexpr int kProfiles = 4;
  constexpr int kTradesPerThread = 150;
  std::vector<Player> p;
  for (int i = 0; i < kProfiles; ++i) p.push_back(Start(*players_, "p" + std::to_string(i), "100"));
  auto move_one = [](Player& from, Player& to) {
    int moved = 0;
    EXPECT_OK(from.Edit([&](std::string& d) {
      int n = std::stoi(d);
      if (n > 0) {
        d = std::to_string(n - 1);
        moved = 1;
      }
    }));
    EXPECT_OK(to.Edit([&](std::string& d) { d = std::to_string(std::stoi(d) + moved); }));
  };
  std::vector<std::thread> threads;
  std::mutex edit_mu;  // a trade's two edits and its save are one step of the game
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTradesPerThread; ++i) {
        Player& a = p[(i + t) % kProfiles];
        Player& b = p[(i + t + 1 + t) % kProfiles];
        if (&a == &b) continue;
        {
          std::lock_guard lock(edit_mu);
          t == 0 ? move_one(a, b) : move_one(b, a);
        }
        EXPECT_OK(t == 0 ? engine_->SaveTogether(a, b) : engine_->SaveTogether(b, a));
      }
    });
  }
  for (auto& th : threads) th.join();
  int total = 0;
  for (int i = 0; i < kProfiles; ++i) {
    auto stored = StoredPayload("Players", "p" + std::to_string(i));
    ASSERT_TRUE(stored.has_value());
    total += std::stoi(*stored);
  }
  EXPECT_EQ(total, 100 * kProfiles);
  EXPECT_GT(engine_->Stats().trades, 0u);
}

// Engine::Trade: the edits run under the trade's save locks and are undone unless stored.
class TradeTest : public SaveTogetherTest {
 protected:
  // Moves one "item" (a character) from `from` to `to` inside the trade.
  static std::function<Status()> MoveLastChar(Player& from, Player& to) {
    return [&from, &to]() -> Status {
      char item = 0;
      if (Status s = from.Edit([&](std::string& d) {
            item = d.back();
            d.pop_back();
          });
          !s.ok()) {
        return s;
      }
      return to.Edit([&](std::string& d) { d.push_back(item); });
    };
  }
};

TEST_F(TradeTest, TheChangeAndTheCommitHappenTogether) {
  Player ann = Start(*players_, "ann", "abc");
  Player bob = Start(*players_, "bob", "xyz");
  ASSERT_OK(engine_->Trade(MoveLastChar(ann, bob), ann, bob));
  EXPECT_EQ(StoredPayload("Players", "ann"), "ab");
  EXPECT_EQ(StoredPayload("Players", "bob"), "xyzc");
  EXPECT_EQ(ann.Data(), "ab");
  EXPECT_EQ(bob.LastSavedData(), "xyzc");
  EXPECT_EQ(engine_->Stats().trades, 1u);
}

TEST_F(TradeTest, AFailedCommitPutsEveryProfileBackSoNoLaterSaveStoresHalfATrade) {
  Player ann = Start(*players_, "ann", "abc");
  Player bob = Start(*players_, "bob", "xyz");
  ASSERT_OK(ann.Edit([](std::string& d) { d = "abcd"; }));  // unsaved before the trade: kept
  gate_->FailNext(1, Status::IOError("injected"), CommitKind::kTrade);
  Status s = engine_->Trade(MoveLastChar(ann, bob), ann, bob);
  ASSERT_CODE(s, kIOError);
  EXPECT_NE(s.message().find("put back"), std::string::npos) << s;
  EXPECT_EQ(ann.Data(), "abcd");
  EXPECT_EQ(bob.Data(), "xyz");
  EXPECT_EQ(StoredPayload("Players", "ann"), "abc");
  EXPECT_EQ(StoredPayload("Players", "bob"), "xyz");
  // Saving one side alone now stores no part of the trade.
  ASSERT_OK(ann.Save());
  EXPECT_EQ(StoredPayload("Players", "ann"), "abcd");
  ASSERT_OK(bob.Save());
  EXPECT_EQ(StoredPayload("Players", "bob"), "xyz");
}

TEST_F(TradeTest, AChangeThatFailsOrThrowsStoresNothingAndPutsTheDataBack) {
  Player ann = Start(*players_, "ann", "abc");
  Player bob = Start(*players_, "bob", "xyz");
  const int calls_before = gate_->BeforeCommitCalls();
  auto refuse = [&]() -> Status {
    EXPECT_OK(ann.Edit([](std::string& d) { d = "half"; }));
    return Status::Aborted("bob cannot afford it");
  };
  Status s = engine_->Trade(refuse, ann, bob);
  ASSERT_CODE(s, kAborted);
  EXPECT_EQ(ann.Data(), "abc");
  auto throws = [&]() -> Status {
    EXPECT_OK(bob.Edit([](std::string& d) { d = "half"; }));
    throw std::runtime_error("game bug");
  };
  EXPECT_THROW((void)engine_->Trade(throws, ann, bob), std::runtime_error);
  EXPECT_EQ(bob.Data(), "xyz");
  EXPECT_EQ(gate_->BeforeCommitCalls(), calls_before);
  EXPECT_TRUE(ann.IsActive());
  EXPECT_TRUE(bob.IsActive());
  // A Save from inside the change would wait for the trade's own lock: refused.
  Status inner;
  ASSERT_OK(engine_->Trade(
      [&]() -> Status {
        inner = ann.Save();
        return Status::Ok();
      },
      ann, bob));
  EXPECT_CODE(inner, kInvalidArgument);
}

}  // namespace
}  // namespace holdfast::test
