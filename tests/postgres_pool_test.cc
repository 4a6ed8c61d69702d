// The PostgreSQL backend's connections: every transaction in flight holds one, and connections
// given back stay open for the next transactions up to EngineOptions::postgres_idle_connections.
// A connection is a server process, so opening one per save is what this guards against.
// Runs against the test cluster (test_backend.h), whatever HOLDFAST_TEST_BACKEND says.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "holdfast/holdfast.h"
#include "test_backend.h"
#include "test_util.h"

namespace holdfast {
namespace {

constexpr int kSavers = 12;  // saves in flight at once: more than the 8 the pool used to keep

// Holds every save at its commit, its connection in use, until all kSavers saves of the round are
// there; then lets them all commit. A round whose saves never all arrive fails them (bounded).
class SaveBarrier final : public FaultHooks {
 public:
  Status BeforeCommit(const CommitPoint& point) override {
    if (point.kind != CommitKind::kSave) return Status::Ok();
    std::unique_lock lock(mu_);
    const int round = round_;
    if (++arrived_ == kSavers) {
      arrived_ = 0;
      ++round_;
      all_arrived_.notify_all();
      return Status::Ok();
    }
    if (!all_arrived_.wait_for(lock, std::chrono::seconds(30), [&] { return round_ != round; })) {
      return Status::IOError("test barrier: the other saves of the round never arrived");
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::condition_variable all_arrived_;
  int arrived_ = 0;
  int round_ = 0;
};

class PostgresPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = test::TestPostgresDatabase::Create();
    ASSERT_OK(database);
    db_ = std::move(*database);
  }

  // Opens an engine keeping `idle` connections, starts kSavers sessions.
  void Open(size_t idle) {
    EngineOptions o;
    o.worker_threads = 1;
    o.fault_hooks = std::make_shared<SaveBarrier>();
    o.postgres_idle_connections = idle;
    auto engine = Engine::Open(db_->conninfo(), o);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
    StoreOptions<std::string> store_options;
    store_options.autosave = false;  // the rounds' saves are the only commits
    auto store = engine_->OpenStore<BytesCodec>("players", store_options);
    ASSERT_OK(store);
    store_.emplace(std::move(*store));
    for (int i = 0; i < kSavers; ++i) {
      auto session = store_->StartSession("p" + std::to_string(i));
      ASSERT_OK(session);
      sessions_.push_back(std::move(*session));
    }
  }

  // Every session edits and saves on a thread of its own, all saves in flight at once. Returns
  // the connections the round opened; checks each save and what it stored.
  uint64_t SaveRound(int round) {
    const uint64_t before = engine_->Stats().storage_connections_opened;
    const std::string value = "round " + std::to_string(round);
    std::vector<Status> saved(kSavers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSavers; ++i) {
      threads.emplace_back([&, i] {
        saved[i] = sessions_[i].Edit([&](std::string& d) { d = value; });
        if (saved[i].ok()) saved[i] = sessions_[i].Save();
      });
    }
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kSavers; ++i) {
      EXPECT_OK(saved[i]) << "saver " << i;
      auto stored = store_->Get("p" + std::to_string(i));
      EXPECT_OK(stored);
      if (stored.ok()) EXPECT_EQ(stored->data, value);
    }
    return engine_->Stats().storage_connections_opened - before;
  }

  void TearDown() override {
    for (auto& s : sessions_) EXPECT_OK(s.EndSession());
    sessions_.clear();
    store_.reset();
    if (engine_) EXPECT_OK(engine_->Close());
  }

  std::unique_ptr<test::TestPostgresDatabase> db_;
  std::unique_ptr<Engine> engine_;
  std::optional<Store<BytesCodec>> store_;
  std::vector<Profile<BytesCodec>> sessions_;
};

TEST_F(PostgresPoolTest, ConcurrentSavesReuseTheConnectionsTheLastRoundOpened) {
  ASSERT_NO_FATAL_FAILURE(Open(EngineOptions().postgres_idle_connections));
  // The first round needs a connection per save in flight: the pool held one or two, from the
  // starts and the reads above.
  const uint64_t first = SaveRound(1);
  EXPECT_GE(first, static_cast<uint64_t>(kSavers - 2));
  EXPECT_LE(first, static_cast<uint64_t>(kSavers));
  // Every one was kept: the next rounds open none.
  EXPECT_EQ(SaveRound(2), 0u);
  EXPECT_EQ(SaveRound(3), 0u);
}

TEST_F(PostgresPoolTest, ConnectionsPastTheIdleLimitAreClosedAndOpenedAgain) {
  constexpr size_t kIdle = 4;
  ASSERT_NO_FATAL_FAILURE(Open(kIdle));
  (void)SaveRound(1);
  // kIdle connections were kept; the other saves of the round opened one each.
  EXPECT_EQ(SaveRound(2), static_cast<uint64_t>(kSavers - kIdle));
  EXPECT_EQ(SaveRound(3), static_cast<uint64_t>(kSavers - kIdle));
}

}  // namespace
}  // namespace holdfast
