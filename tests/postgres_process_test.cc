// Engines in separate processes on one PostgreSQL database (issue 18): a handoff from a holder in
// another process, a holder killed with SIGKILL taken over when its lease expires, a holder
// paused with SIGSTOP past its lease fenced when it resumes, and the database server itself
// stopped with `pg_ctl stop -m immediate` and started again in the middle of a load.
//
// The other processes are tests/pg_peer_helper.cc (HOLDFAST_PG_PEER_BINARY). No test sleeps:
// every wait is for an event (a line the helper prints, a start that returns, a future), bounded
// by kEventBound, which only a broken engine reaches.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "holdfast/holdfast.h"
#include "peer_store.h"
#include "test_backend.h"
#include "test_util.h"

extern char** environ;

namespace holdfast {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kEventBound = seconds(30);

// A game server in another process (tests/pg_peer_helper.cc), talked to line by line.
class PeerProcess {
 public:
  PeerProcess(const std::string& conninfo, const std::string& owner, int lease_ms) {
    int in[2];
    int out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    std::vector<std::string> arguments{HOLDFAST_PG_PEER_BINARY, conninfo, owner,
                                       std::to_string(lease_ms)};
    std::vector<char*> argv;
    for (auto& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_adddup2(&files, in[0], 0);
    posix_spawn_file_actions_adddup2(&files, out[1], 1);
    const int spawned =
        posix_spawn(&pid_, HOLDFAST_PG_PEER_BINARY, &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    EXPECT_EQ(spawned, 0) << std::strerror(spawned);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    const std::string ready = Next();
    EXPECT_TRUE(ready.starts_with("ready ")) << ready;
    if (ready.starts_with("ready ")) incarnation_ = std::stoull(ready.substr(6));
  }

  ~PeerProcess() {
    if (alive_) {
      Send("quit");
      std::string line;
      do {
        line = ReadLine();
      } while (!line.starts_with("closed") && !line.starts_with("("));
      EXPECT_TRUE(line.starts_with("closed ")) << line;
      Reap();
    }
    ::close(to_);
    ::close(from_);
  }

  uint64_t incarnation() const { return incarnation_; }

  // Sends a command and returns its answer (events printed meanwhile are kept for WaitFor).
  std::string Ask(const std::string& command) {
    Send(command);
    return Next();
  }

  // True once the helper printed `event` (before now, or within kEventBound).
  bool WaitFor(const std::string& event) {
    for (;;) {
      for (const std::string& e : events_) {
        if (e == event) return true;
      }
      std::string line = ReadLine();
      if (line.starts_with("(")) return false;
      if (line.starts_with("event ")) {
        events_.push_back(line);
      } else {
        ADD_FAILURE() << "unexpected line while waiting for '" << event << "': " << line;
      }
    }
  }

  void Signal(int sig) { EXPECT_EQ(::kill(pid_, sig), 0); }

  // Waits for the process to end (after SIGKILL, or quit).
  void Reap() {
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    alive_ = false;
  }

 private:
  void Send(const std::string& line) {
    const std::string text = line + "\n";
    EXPECT_EQ(::write(to_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  // The next line that is not an event.
  std::string Next() {
    for (;;) {
      std::string line = ReadLine();
      if (!line.starts_with("event ")) return line;
      events_.push_back(line);
    }
  }

  std::string ReadLine() {
    const auto deadline = std::chrono::steady_clock::now() + kEventBound;
    for (;;) {
      if (size_t end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd ready{from_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        return "(no line within the bound)";
      }
      char chunk[256];
      const ssize_t n = ::read(from_, chunk, sizeof(chunk));
      if (n <= 0) return "(the helper's output ended)";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = 0;
  bool alive_ = true;
  int to_ = -1;
  int from_ = -1;
  uint64_t incarnation_ = 0;
  std::string buffer_;
  std::vector<std::string> events_;
};

class PostgresProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = test::TestPostgresDatabase::Create();
    ASSERT_OK(database);
    db_ = std::move(*database);
  }

  std::unique_ptr<Engine> Open(const std::string& conninfo, std::shared_ptr<Clock> clock = nullptr) {
    EngineOptions o;
    o.worker_threads = 2;
    o.owner_description = "test-process";
    o.clock = std::move(clock);
    o.on_orphan_takeover = [this](const OrphanTakeover& t) {
      std::lock_guard lock(mu_);
      orphans_.push_back(t);
    };
    o.on_lease_lost = [this](const Status&) { lease_lost_ = true; };
    auto engine = Engine::Open(conninfo, std::move(o));
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static Store<BytesCodec> Players(Engine& engine) { return test::PeerPlayers(engine); }

  std::unique_ptr<test::TestPostgresDatabase> db_;
  std::mutex mu_;
  std::vector<OrphanTakeover> orphans_;
  std::atomic<bool> lease_lost_{false};
};

TEST_F(PostgresProcessTest, AHolderInAnotherProcessHandsOff) {
  PeerProcess a(db_->conninfo(), "server-a", 10'000);
  EXPECT_EQ(a.Ask("start p"), "ok new");
  EXPECT_EQ(a.Ask("set p edited in the other process"), "ok");
  // This engine's clock never moves: only the notifications can finish the start.
  auto b = Open(db_->conninfo(), std::make_shared<FakeClock>());
  ASSERT_TRUE(b);
  auto players = Players(*b);
  auto start = std::async(std::launch::async, [&] { return players.StartSession("p"); });
  if (start.wait_for(kEventBound) != std::future_status::ready) {
    ADD_FAILURE() << "the handoff from the other process never completed";
    (void)b->Close();
  }
  auto taken = start.get();
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "edited in the other process");
  EXPECT_TRUE(a.WaitFor("event end p external 0"));
  EXPECT_TRUE(a.Ask("save p").starts_with("err LockLost")) << "the old holder wrote again";
  EXPECT_EQ(b->Stats().steals, 0u);
  EXPECT_TRUE(orphans_.empty());
  ASSERT_OK(taken->EndSession());
  ASSERT_OK(b->Close());
}

TEST_F(PostgresProcessTest, AKilledHolderIsTakenOverWhenItsLeaseExpires) {
  PeerProcess a(db_->conninfo(), "server-a", 400);
  EXPECT_EQ(a.Ask("start p"), "ok new");
  EXPECT_EQ(a.Ask("set p saved before the kill"), "ok");
  EXPECT_EQ(a.Ask("save p"), "ok");
  EXPECT_EQ(a.Ask("set p never saved"), "ok");
  a.Signal(SIGKILL);
  a.Reap();
  auto b = Open(db_->conninfo());
  ASSERT_TRUE(b);
  auto players = Players(*b);
  // Nobody answers the release request; the start takes the lock as an orphan when the killed
  // engine's lease runs out (by the database's clock), not after handoff_timeout.
  auto taken = players.StartSession("p");
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "saved before the kill");
  ASSERT_EQ(orphans_.size(), 1u);
  EXPECT_EQ(orphans_[0].previous_incarnation, a.incarnation());
  EXPECT_EQ(orphans_[0].previous_owner, "server-a");
  EXPECT_EQ(b->Stats().steals, 0u);
  ASSERT_OK(taken->EndSession());
  ASSERT_OK(b->Close());
}

TEST_F(PostgresProcessTest, AHolderPausedPastItsLeaseIsFencedWhenItResumes) {
  PeerProcess a(db_->conninfo(), "server-a", 400);
  EXPECT_EQ(a.Ask("start p"), "ok new");
  EXPECT_EQ(a.Ask("set p a1"), "ok");
  EXPECT_EQ(a.Ask("save p"), "ok");
  EXPECT_EQ(a.Ask("set p a2, edited before the pause"), "ok");
  a.Signal(SIGSTOP);
  auto b = Open(db_->conninfo());
  ASSERT_TRUE(b);
  auto players = Players(*b);
  auto taken = players.StartSession("p");  // the paused engine cannot renew: its lock is orphaned
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "a1");
  ASSERT_EQ(orphans_.size(), 1u);
  EXPECT_EQ(orphans_[0].previous_incarnation, a.incarnation());
  ASSERT_OK(taken->Edit([](std::string& d) { d = "b1"; }));
  ASSERT_OK(taken->Save());

  a.Signal(SIGCONT);
  // The late write is refused, and the resumed engine tells its game.
  const std::string late = a.Ask("save p");
  EXPECT_TRUE(late.starts_with("err LockLost")) << late;
  EXPECT_TRUE(a.WaitFor("event lease-lost"));
  EXPECT_TRUE(a.WaitFor("event end p lock-lost 1"));
  EXPECT_TRUE(a.Ask("start q").starts_with("err LockLost"));
  auto view = players.Get("p");
  ASSERT_OK(view);
  EXPECT_EQ(view->data, "b1");
  EXPECT_EQ(view->lock->incarnation, b->Info().incarnation);
  ASSERT_OK(taken->EndSession());
  ASSERT_OK(b->Close());
}

// A holder whose engine keeps a live lease but does not answer (stopped, with a lease longer than
// the starter's handoff_timeout): the starter steals after handoff_timeout, as on one engine.
TEST_F(PostgresProcessTest, AHolderThatDoesNotAnswerIsStolenFromAfterHandoffTimeout) {
  PeerProcess a(db_->conninfo(), "server-a", 60'000);
  EXPECT_EQ(a.Ask("start p"), "ok new");
  EXPECT_EQ(a.Ask("set p a1"), "ok");
  EXPECT_EQ(a.Ask("save p"), "ok");
  EXPECT_EQ(a.Ask("set p a2, never saved"), "ok");
  a.Signal(SIGSTOP);
  auto b = Open(db_->conninfo());
  ASSERT_TRUE(b);
  StoreOptions<std::string> options;
  options.template_value = "new";
  options.autosave = false;
  options.handoff_timeout = milliseconds(300);
  auto players = b->OpenStore<BytesCodec>("players", options);
  ASSERT_OK(players);
  auto taken = players->StartSession("p");
  ASSERT_OK(taken);
  EXPECT_EQ(taken->Data(), "a1");  // no final save: a steal
  EXPECT_EQ(b->Stats().steals, 1u);
  EXPECT_TRUE(orphans_.empty()) << "a's lease is live: a steal, not an orphan";
  a.Signal(SIGCONT);
  const std::string late = a.Ask("save p");
  EXPECT_TRUE(late.starts_with("err LockLost")) << late;
  EXPECT_TRUE(a.WaitFor("event end p lock-lost 1"));
  ASSERT_OK(taken->EndSession());
  ASSERT_OK(b->Close());
}

// The whole server stopped as if it crashed (pg_ctl stop -m immediate) while four threads save,
// then started again: saves fail with IOError meanwhile (the data stays in the sessions), resume
// when it is back, and nothing acknowledged is lost. Its own cluster: the shared one must not
// stop under the other tests.
TEST_F(PostgresProcessTest, AServerCrashMidLoadLosesNothingAcknowledged) {
  const std::string dir = "/tmp/holdfast-pg-crash-" + std::to_string(::getpid());
  const std::string script = "bash '" HOLDFAST_SOURCE_DIR "/scripts/pg-test-cluster.sh' ";
  ASSERT_EQ(std::system((script + "start '" + dir + "'").c_str()), 0);
  struct Cleanup {
    std::string command;
    ~Cleanup() { (void)std::system(command.c_str()); }
  } cleanup{script + "stop '" + dir + "'"};
  const std::string conninfo = "host=" + dir + " dbname=postgres user=postgres";

  constexpr int kThreads = 4;
  constexpr int kSavesEachPhase = 15;
  constexpr int kMaxAttempts = 100'000;  // a bound, so the loop stops by itself
  auto engine = Open(conninfo);
  ASSERT_TRUE(engine);
  auto players = Players(*engine);
  std::vector<Profile<BytesCodec>> sessions;
  for (int t = 0; t < kThreads; ++t) {
    auto s = players.StartSession("p" + std::to_string(t));
    ASSERT_OK(s);
    sessions.push_back(std::move(*s));
  }
  std::mutex mu;
  std::condition_variable changed;
  std::vector<int> acked(kThreads, 0);      // the last value whose save returned OK
  std::vector<int> attempted(kThreads, 0);  // the last value edited in
  std::vector<int> failures(kThreads, 0);
  int phase_target = kSavesEachPhase;       // saves each thread makes before it waits
  bool stop = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int value = 1; value <= kMaxAttempts; ++value) {
        {
          std::unique_lock lock(mu);
          changed.wait(lock, [&] { return stop || acked[t] < phase_target; });
          if (stop) return;
        }
        Status edit = sessions[t].Edit([&](std::string& d) { d = std::to_string(value); });
        Status saved = edit.ok() ? sessions[t].Save() : edit;
        std::lock_guard lock(mu);
        attempted[t] = value;
        if (saved.ok()) {
          acked[t] = value;
        } else {
          EXPECT_EQ(saved.code(), StatusCode::kIOError) << saved.ToString();
          ++failures[t];
        }
        changed.notify_all();
      }
    });
  }
  auto all_reached = [&](int target) {
    std::unique_lock lock(mu);
    return changed.wait_for(lock, kEventBound, [&] {
      for (int t = 0; t < kThreads; ++t) {
        if (acked[t] < target) return false;
      }
      return true;
    });
  };
  EXPECT_TRUE(all_reached(kSavesEachPhase));
  {
    std::lock_guard lock(mu);
    phase_target = 1 << 30;  // save on through the crash
  }
  changed.notify_all();
  ASSERT_EQ(std::system((script + "crash '" + dir + "'").c_str()), 0);
  ASSERT_EQ(std::system((script + "resume '" + dir + "'").c_str()), 0);
  int after_restart = 0;
  {
    std::lock_guard lock(mu);
    for (int t = 0; t < kThreads; ++t) after_restart = std::max(after_restart, acked[t]);
  }
  EXPECT_TRUE(all_reached(after_restart + kSavesEachPhase)) << "saves did not resume";
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  changed.notify_all();
  for (auto& t : threads) t.join();

  int failed = 0;
  for (int f : failures) failed += f;
  EXPECT_GT(failed, 0) << "no save ever met the stopped server: the crash was not mid-load";
  EXPECT_FALSE(lease_lost_) << "a two-second outage is well within the lease";
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(sessions[t].IsActive());
    ASSERT_OK(sessions[t].EndSession());
  }
  ASSERT_OK(engine->Close());
  // A new engine reads what was stored: the last value edited in (the end's final save).
  auto reader = Open(conninfo);
  ASSERT_TRUE(reader);
  auto stored = Players(*reader);
  for (int t = 0; t < kThreads; ++t) {
    auto view = stored.Get("p" + std::to_string(t));
    ASSERT_OK(view);
    const int value = std::stoi(view->data);
    EXPECT_GE(value, acked[t]) << "an acknowledged save of p" << t << " was lost";
    EXPECT_EQ(value, attempted[t]) << "p" << t << ": EndSession's final save stores the last edit";
    EXPECT_FALSE(view->locked);
  }
  ASSERT_OK(reader->Close());
}

}  // namespace
}  // namespace holdfast
