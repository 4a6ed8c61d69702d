// Engines sharing one PostgreSQL database, in one test process (each engine has its own
// connections, lease and listener, exactly as in separate processes; tests/postgres_process_test.cc
// runs them in separate processes too): leases in holdfast_engines, a handoff across engines
// (release request + notification), steals and fail_if_held across engines, orphans by lease
// expiry, a lease that cannot be renewed stopping writes before it expires, and messages reaching a
// holder on another engine.
//
// No test sleeps: each waits for the event it checks (a future the engine's callback sets), with
// a generous bound that only a broken engine reaches. Where the broken behaviour would be a slow
// fallback rather than a hang (a handoff that degrades into a steal after handoff_timeout), the
// test asserts which of the two happened.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "holdfast/holdfast.h"
#include "peer_store.h"
#include "pg_connection.h"
#include "test_backend.h"
#include "test_util.h"

namespace holdfast {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Longest wait for an event before the test fails (only a broken engine gets near it).
constexpr auto kEventBound = seconds(30);

template <typename T>
bool Arrives(std::future<T>& f) {
  return f.wait_for(kEventBound) == std::future_status::ready;
}

class PostgresPeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = test::TestPostgresDatabase::Create();
    ASSERT_OK(database);
    db_ = std::move(*database);
  }

  std::unique_ptr<Engine> Open(const std::string& owner, milliseconds lease = milliseconds(10'000),
                               std::function<void(EngineOptions&)> tweak = nullptr) {
    EngineOptions o;
    o.worker_threads = 2;
    o.owner_description = owner;
    o.lease_duration = lease;
    o.on_orphan_takeover = [this](const OrphanTakeover& t) { orphans_.push_back(t); };
    if (tweak) tweak(o);
    auto engine = Engine::Open(db_->conninfo(), std::move(o));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static Store<BytesCodec> Players(Engine& engine) { return test::PeerPlayers(engine); }

  // A game server on the database: its engine and its players store.
  struct Server {
    std::unique_ptr<Engine> engine;
    std::optional<Store<BytesCodec>> players;
  };
  Server Serve(const std::string& owner, milliseconds lease = milliseconds(10'000),
               std::function<void(EngineOptions&)> tweak = nullptr) {
    Server server;
    server.engine = Open(owner, lease, std::move(tweak));
    if (server.engine) server.players.emplace(Players(*server.engine));
    return server;
  }

  std::string Value(const std::string& sql) {
    auto v = db_->QueryValue(sql);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : "";
  }

  std::string LeaseRow(const Engine& engine, const std::string& column) {
    return Value("SELECT " + column + " FROM holdfast_engines WHERE incarnation = " +
                 std::to_string(engine.Info().incarnation));
  }

  std::unique_ptr<test::TestPostgresDatabase> db_;
  std::vector<OrphanTakeover> orphans_;
};

// A session's end, reported through SessionOptions (in place before the lock is taken).
struct EndWatch {
  std::promise<SessionEnd> promise;
  std::future<SessionEnd> future = promise.get_future();
  SessionOptions Options() {
    SessionOptions o;
    o.on_session_end = [this](const SessionEnd& end) { promise.set_value(end); };
    return o;
  }
};

TEST_F(PostgresPeersTest, EnginesShareOneDatabaseEachWithItsOwnLease) {
  Server a = Serve("server-a");
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  EXPECT_NE(a.engine->Info().incarnation, b.engine->Info().incarnation);
  EXPECT_EQ(Value("SELECT count(*) FROM holdfast_engines WHERE lease_expires > now()"), "2");
  EXPECT_EQ(LeaseRow(*a.engine, "owner"), "server-a");
  EXPECT_EQ(LeaseRow(*b.engine, "owner"), "server-b");
  // The lease is the database's now() plus the lease, not anything the host's clock said.
  EXPECT_EQ(LeaseRow(*a.engine, "lease_expires - now() <= interval '10 seconds'"), "t");
  ASSERT_OK(a.engine->Close());
  // A closed engine leaves no registration: whatever it still held is an orphan at once.
  EXPECT_EQ(Value("SELECT count(*) FROM holdfast_engines"), "1");
  EXPECT_EQ(LeaseRow(*b.engine, "owner"), "server-b");
  ASSERT_OK(b.engine->Close());
  EXPECT_EQ(Value("SELECT count(*) FROM holdfast_engines"), "0");
}

TEST_F(PostgresPeersTest, RowsOfEnginesLongGoneAreSweptWhenAnEngineJoins) {
  Server first = Serve("server-a");
  ASSERT_TRUE(first.engine);
  // Two engines that crashed: one an hour and a half ago, one a minute ago (its row stays: the
  // sweep is only housekeeping, an absent row and an expired one mean the same).
  ASSERT_OK(db_->Exec("INSERT INTO holdfast_engines VALUES (900001, 'crashed long ago', "
                      "now() - interval '2 hours', now() - interval '90 minutes'), (900002, "
                      "'crashed recently', now() - interval '5 minutes', now() - interval '1 minute')"));
  Server second = Serve("server-b");
  ASSERT_TRUE(second.engine);
  EXPECT_EQ(Value("SELECT string_agg(owner, ',' ORDER BY owner) FROM holdfast_engines"),
            "crashed recently,server-a,server-b");
}

TEST_F(PostgresPeersTest, AStartOnAnotherEngineIsAHandoffNotASteal) {
  Server a = Serve("server-a");
  // b's clock never moves: its start can only finish by the notifications (a's engine hears the
  // release request, a's releasing commit wakes b), never by a timeout or a retry.
  Server b = Serve("server-b", milliseconds(10'000),
                [](EngineOptions& o) { o.clock = std::make_shared<FakeClock>(); });
  ASSERT_TRUE(a.engine && b.engine);
  EndWatch a_end;
  std::promise<EndReason> last_save;
  SessionOptions options = a_end.Options();
  options.on_last_save = [&](EndReason r) { last_save.set_value(r); };
  auto held = a.players->StartSession("p", options);
  ASSERT_OK(held);
  ASSERT_OK(held->Edit([](std::string& d) { d = "edited on a, never saved by a"; }));

  auto start = std::async(std::launch::async, [&] { return b.players->StartSession("p"); });
  if (!Arrives(start)) {
    ADD_FAILURE() << "the start on b never heard that a released the profile";
    (void)b.engine->Close();  // the waiting start returns Closed
  }
  auto taken = start.get();
  ASSERT_OK(taken);
  // a's final save carried the unsaved edit to b: a handoff, not a steal after handoff_timeout.
  EXPECT_EQ(taken->Data(), "edited on a, never saved by a");
  ASSERT_TRUE(Arrives(a_end.future));
  const SessionEnd end = a_end.future.get();
  EXPECT_EQ(end.reason, EndReason::kExternal) << end.detail;
  EXPECT_FALSE(end.unsaved_changes);
  EXPECT_EQ(last_save.get_future().get(), EndReason::kExternal);
  EXPECT_FALSE(held->IsActive());
  EXPECT_EQ(b.engine->Stats().steals, 0u);
  EXPECT_EQ(b.engine->Stats().orphans_taken_over, 0u);
  EXPECT_TRUE(orphans_.empty());

  auto view = b.players->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "edited on a, never saved by a");
  ASSERT_TRUE(view->lock.has_value());
  EXPECT_EQ(view->lock->incarnation, b.engine->Info().incarnation);
  EXPECT_EQ(view->lock->owner, "server-b");
  // a, whose session ended, writes nothing more for it.
  EXPECT_CODE(held->Save(), kLockLost);
  ASSERT_OK(taken->EndSession());
  ASSERT_OK(a.engine->Close());
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, AStealFromAnotherEngineFencesTheHolder) {
  Server a = Serve("server-a");
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  EndWatch a_end;
  auto held = a.players->StartSession("p", a_end.Options());
  ASSERT_OK(held);
  ASSERT_OK(held->Edit([](std::string& d) { d = "saved by a"; }));
  ASSERT_OK(held->Save());
  ASSERT_OK(held->Edit([](std::string& d) { d = "unsaved on a"; }));

  std::vector<HolderInfo> asked;
  SessionOptions steal;
  steal.on_held = [&](const HolderInfo& h) {
    asked.push_back(h);
    return HeldChoice::kSteal;
  };
  auto taken = b.players->StartSession("p", steal);
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "saved by a");  // no final save: a steal
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].owner, "server-a");
  EXPECT_EQ(asked[0].session_id, held->Info().session_id);
  EXPECT_EQ(b.engine->Stats().steals, 1u);
  EXPECT_EQ(b.engine->Stats().orphans_taken_over, 0u);

  // a's next write is fenced out by the epoch in its own transaction.
  EXPECT_CODE(held->Save(), kLockLost);
  ASSERT_TRUE(Arrives(a_end.future));
  EXPECT_EQ(a_end.future.get().reason, EndReason::kLockLost);
  auto view = b.players->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "saved by a");
  EXPECT_EQ(view->lock->incarnation, b.engine->Info().incarnation);
  ASSERT_OK(a.engine->Close());
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, FailIfHeldNamesTheOtherEngineAndChangesNothing) {
  Server a = Serve("server-a");
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  auto held = a.players->StartSession("p");
  ASSERT_OK(held);
  SessionOptions fail;
  fail.fail_if_held = true;
  auto refused = b.players->StartSession("p", fail);
  ASSERT_CODE(refused, kLocked);
  EXPECT_NE(refused.status().message().find("another engine"), std::string::npos);
  EXPECT_NE(refused.status().message().find("server-a"), std::string::npos);
  EXPECT_TRUE(held->IsActive());
  auto view = b.players->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->lock->incarnation, a.engine->Info().incarnation);
  ASSERT_OK(held->Save());  // still a's
  ASSERT_OK(a.engine->Close());
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, ALockOfAnEngineWhoseLeaseExpiredIsAnOrphan) {
  std::promise<Status> lost;
  Server a = Serve("server-a", milliseconds(300),
                [&](EngineOptions& o) { o.on_lease_lost = [&](const Status& s) { lost.set_value(s); }; });
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  EndWatch a_end;
  auto held = a.players->StartSession("p", a_end.Options());
  ASSERT_OK(held);
  ASSERT_OK(held->Edit([](std::string& d) { d = "saved by a"; }));
  ASSERT_OK(held->Save());

  // a's lease runs out (as if its process had stopped): by the database's clock, now.
  ASSERT_OK(db_->Exec("UPDATE holdfast_engines SET lease_expires = now() - interval '1 second' "
                      "WHERE incarnation = " + std::to_string(a.engine->Info().incarnation)));
  auto taken = b.players->StartSession("p");  // at once: no release request, no handoff_timeout
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "saved by a");
  ASSERT_EQ(orphans_.size(), 1u);
  EXPECT_EQ(orphans_[0].previous_incarnation, a.engine->Info().incarnation);
  EXPECT_EQ(orphans_[0].previous_owner, "server-a");
  EXPECT_EQ(b.engine->Stats().orphans_taken_over, 1u);
  EXPECT_EQ(b.engine->Stats().steals, 0u);

  // a finds its lease expired at its next renewal: it stops and tells the game.
  auto lost_future = lost.get_future();
  ASSERT_TRUE(Arrives(lost_future));
  EXPECT_EQ(lost_future.get().code(), StatusCode::kLockLost);
  ASSERT_TRUE(Arrives(a_end.future));
  EXPECT_EQ(a_end.future.get().reason, EndReason::kLockLost);
  EXPECT_CODE(held->Save(), kLockLost);
  EXPECT_CODE(a.players->StartSession("q"), kLockLost);
  EXPECT_CODE(a.players->Message("p", "from a"), kLockLost);

  ASSERT_OK(taken->Edit([](std::string& d) { d = "b"; }));
  ASSERT_OK(taken->EndSession());
  auto view = b.players->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "b");
  EXPECT_FALSE(view->locked);
  (void)a.engine->Close();
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, ALeaseThatCannotBeRenewedStopsWritesBeforeItExpires) {
  const std::string a_row = "holdfast_engines WHERE incarnation = ";
  // When the engine gave up, in microseconds since the epoch: the database runs on this machine,
  // so its clock is this clock. Compared with the lease's expiry after the fact (a query from the
  // callback would add its own round trip, under load enough to cross the expiry).
  std::promise<int64_t> lost_at;
  Server a;
  // The engine gives up a tenth of the lease (150 ms) before the database's expiry, less the
  // renewal's round trip: the margin for the engine's thread to run under a loaded machine.
  a = Serve("server-a", milliseconds(1500), [&](EngineOptions& o) {
    o.on_lease_lost = [&](const Status&) {
      lost_at.set_value(std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
    };
  });
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  EndWatch a_end;
  auto held = a.players->StartSession("p", a_end.Options());
  ASSERT_OK(held);
  ASSERT_OK(held->Edit([](std::string& d) { d = "saved by a"; }));
  ASSERT_OK(held->Save());
  ASSERT_OK(held->Edit([](std::string& d) { d = "unsaved on a"; }));

  // A partition between a and the database, as far as renewals go: its lease row is locked by
  // another transaction, so every renewal waits until it times out.
  auto blocker = internal::PgConnection::Connect(db_->conninfo(), true);
  ASSERT_OK(blocker);
  ASSERT_OK((*blocker)->Exec("BEGIN"));
  ASSERT_OK((*blocker)->Exec("SELECT 1 FROM " + a_row + std::to_string(a.engine->Info().incarnation) +
                             " FOR UPDATE"));

  auto lost = lost_at.get_future();
  ASSERT_TRUE(Arrives(lost));
  // By the database's clock the lease was still valid then: no other engine could have taken
  // anything yet.
  const std::string when = std::to_string(lost.get());
  auto valid = db_->QueryValue("SELECT lease_expires > to_timestamp(" + when + " / 1e6) FROM " +
                               a_row + std::to_string(a.engine->Info().incarnation));
  ASSERT_OK(valid);
  EXPECT_EQ(*valid, "t") << "the engine stopped only after its lease had expired";
  ASSERT_TRUE(Arrives(a_end.future));
  const SessionEnd end = a_end.future.get();
  EXPECT_EQ(end.reason, EndReason::kLockLost);
  EXPECT_TRUE(end.unsaved_changes);
  EXPECT_CODE(held->Save(), kLockLost);
  ASSERT_OK((*blocker)->Exec("ROLLBACK"));
  // Reachable again, the engine still writes nothing: its lease may have been taken over.
  EXPECT_CODE(a.players->StartSession("q"), kLockLost);

  // b finds a's lock held under a lease that is still running: it asks for a release nobody
  // answers and takes the lock as an orphan the moment the lease runs out (by the database's
  // clock), long before its handoff_timeout.
  auto taken = b.players->StartSession("p");
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "saved by a");
  ASSERT_EQ(orphans_.size(), 1u);
  EXPECT_EQ(orphans_[0].previous_incarnation, a.engine->Info().incarnation);
  EXPECT_EQ(b.engine->Stats().steals, 0u);
  ASSERT_OK(taken->EndSession());
  (void)a.engine->Close();
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, AMessageReachesItsHolderOnAnotherEngine) {
  Server a = Serve("server-a");
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  auto held = a.players->StartSession("p");
  ASSERT_OK(held);
  std::promise<std::string> received;
  held->SetMessageHandler([&](const Message& m, const MessageProcessed& processed) {
    ASSERT_OK(held->Edit([&](std::string& d) { d += "+" + m.payload; }));
    processed();
    received.set_value(m.payload);
  });
  ASSERT_OK(b.players->Message("p", "gift"));
  // Auto-save is off and nothing else asks a for messages: only the notification brings it.
  auto got = received.get_future();
  ASSERT_TRUE(Arrives(got));
  EXPECT_EQ(got.get(), "gift");
  ASSERT_OK(held->EndSession());
  auto view = b.players->Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "new+gift");
  ASSERT_OK(a.engine->Close());
  ASSERT_OK(b.engine->Close());
}

TEST_F(PostgresPeersTest, AClosedEnginesProfilesAreFreeNotOrphans) {
  Server a = Serve("server-a");
  Server b = Serve("server-b");
  ASSERT_TRUE(a.engine && b.engine);
  auto held = a.players->StartSession("p");
  ASSERT_OK(held);
  ASSERT_OK(held->Edit([](std::string& d) { d = "final save at close"; }));
  ASSERT_OK(a.engine->Close());
  auto taken = b.players->StartSession("p");
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "final save at close");
  EXPECT_TRUE(orphans_.empty());
  ASSERT_OK(b.engine->Close());
}

}  // namespace
}  // namespace holdfast
