// Orphaned locks: a child process starts sessions on an on-disk database and is killed with
// SIGKILL without closing. Reopening the database, StartSession takes each lock over at once with
// the child's last saved data, and every takeover is reported (a counter and a callback).
//
// The parent never opens the database before it forks, so the child is the only writer, as
// RocksDB requires. The child never returns into gtest: it reports through a pipe and ends with
// raise(SIGKILL) on success or _exit(code) when one of its steps fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "internals.h"
#include "holdfast/holdfast.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using PlayerStore = Store<BytesCodec>;
using PlayerProfile = Profile<BytesCodec>;

// Exit codes of a child whose scripted step failed (it then exits instead of dying by SIGKILL).
constexpr int kChildOpenFailed = 10;
constexpr int kChildStoreFailed = 11;
constexpr int kChildScriptFailed = 12;
constexpr int kChildPipeFailed = 13;
constexpr int kChildNotKilled = 14;

StoreOptions<std::string> PlayerOptions() {
  StoreOptions<std::string> options;
  options.template_value = "new-player";
  return options;
}

// What the child reports before it dies: its incarnation and the session id of each key it
// started, as text lines "incarnation <n>" and "session <key> <id>".
struct ChildReport {
  uint64_t incarnation = 0;
  std::map<std::string, uint64_t> session_ids;
};

ChildReport ParseReport(const std::string& text) {
  ChildReport report;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    if (word == "incarnation") {
      in >> report.incarnation;
    } else if (word == "session") {
      std::string key;
      uint64_t id = 0;
      in >> key >> id;
      report.session_ids[key] = id;
    }
  }
  return report;
}

// The child's script: runs on an open engine and store; returns false when a step failed. It
// appends "session <key> <id>" lines to `report` for the sessions it wants the parent to check,
// and must keep every session it started alive in `keep` (so none is ended by a destructor).
using ChildScript = std::function<bool(Engine& engine, PlayerStore& players,
                                       std::vector<PlayerProfile>& keep, std::string& report)>;

// Writes all of `text` to `fd`.
bool WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Runs in the forked child; never returns.
[[noreturn]] void ChildMain(const std::string& path, const ChildScript& script, int report_fd) {
  EngineOptions options;
  options.owner_description = "orphan-test-child:" + std::to_string(getpid());
  auto engine = Engine::Open(path, options);
  if (!engine.ok()) _exit(kChildOpenFailed);
  auto players = (*engine)->OpenStore<BytesCodec>("Players", PlayerOptions());
  if (!players.ok()) _exit(kChildStoreFailed);
  std::vector<PlayerProfile> keep;
  std::string report = "incarnation " + std::to_string((*engine)->Info().incarnation) + "\n";
  if (!script(**engine, *players, keep, report)) _exit(kChildScriptFailed);
  if (!WriteAll(report_fd, report)) _exit(kChildPipeFailed);
  close(report_fd);
  // Die like a crashed server: no Close, no destructors, no final saves.
  raise(SIGKILL);
  _exit(kChildNotKilled);
}

// Forks a child that opens the database at `path`, runs `script` and is killed with SIGKILL.
// Fails the test unless the child died by SIGKILL; returns what it reported.
void RunKilledChild(const std::string& path, const ChildScript& script, ChildReport* report) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork failed";
  if (pid == 0) {
    close(fds[0]);
    ChildMain(path, script, fds[1]);
  }
  close(fds[1]);
  std::string text;
  char buffer[512];
  for (;;) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  pid_t waited;
  do {
    waited = waitpid(pid, &wstatus, 0);
  } while (waited < 0 && errno == EINTR);
  ASSERT_EQ(waited, pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus))
      << "the child was not killed; it exited with code "
      << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1)
      << " (10 open, 11 store, 12 script, 13 pipe, 14 survived SIGKILL)";
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);
  *report = ParseReport(text);
  ASSERT_GT(report->incarnation, 0u) << "the child reported no incarnation: '" << text << "'";
}

// Starts a session on `key`, sets its data and saves it; false on any failure.
bool StartEditSave(PlayerStore& players, const std::string& key, const std::string& data,
                   std::vector<PlayerProfile>& keep, std::string& report) {
  auto profile = players.StartSession(key);
  if (!profile.ok()) return false;
  if (!profile->Edit([&](std::string& d) { d = data; }).ok()) return false;
  if (!profile->Save().ok()) return false;
  if (profile->LastSavedData() != data) return false;
  report += "session " + key + " " + std::to_string(profile->Info().session_id) + "\n";
  keep.push_back(std::move(*profile));
  return true;
}

// Reopens the database after the child died, recording every orphan takeover it reports.
class OrphanTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (engine_) EXPECT_OK(engine_->Close());
    engine_.reset();
  }

  void OpenParentEngine() {
    EngineOptions options;
    options.on_orphan_takeover = [this](const OrphanTakeover& orphan) {
      std::lock_guard lock(mu_);
      takeovers_.push_back(orphan);
    };
    auto engine = Engine::Open(dir_.path(), options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
  }

  PlayerStore OpenParentPlayers() {
    auto players = engine_->OpenStore<BytesCodec>("Players", PlayerOptions());
    EXPECT_OK(players);
    return std::move(*players);
  }

  // A start that must not wait: a takeover costs one commit, so 1 s of real time is plenty and a
  // start that waited for the orphan's lock to expire would fail with TimedOut.
  static SessionOptions NoWait() {
    SessionOptions options;
    options.timeout = 1s;
    return options;
  }

  std::vector<OrphanTakeover> Takeovers() {
    std::lock_guard lock(mu_);
    return takeovers_;
  }

  std::optional<internal::ProfileMeta> StoredMeta(const std::string& key) {
    std::string bytes;
    Status s = test::StorageOf(*engine_).Get(internal::Family::kMeta,
                                             internal::EncodeProfileKey("Players", key), &bytes);
    if (!s.ok()) return std::nullopt;
    auto meta = internal::DecodeProfileMeta(bytes);
    if (!meta.ok()) return std::nullopt;
    return *meta;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  std::vector<OrphanTakeover> takeovers_;  // guarded by mu_
};

TEST_F(OrphanTest, KilledChildsLocksAreTakenOverAtOnceWithItsSavedData) {
  const std::vector<std::string> keys = {"p0", "p1", "p2"};
  ChildReport child;
  ASSERT_NO_FATAL_FAILURE(RunKilledChild(
      dir_.path(),
      [&](Engine&, PlayerStore& players, std::vector<PlayerProfile>& keep, std::string& report) {
        for (const auto& key : keys) {
          if (!StartEditSave(players, key, "first-" + key, keep, report)) return false;
        }
        // A second save of each: the parent must see the newest saved data.
        for (auto& profile : keep) {
          std::string key = profile.Info().key;
          if (!profile.Edit([&](std::string& d) { d = "saved-" + key; }).ok()) return false;
          if (!profile.Save().ok()) return false;
        }
        return true;
      },
      &child));
  ASSERT_EQ(child.session_ids.size(), keys.size());

  ASSERT_NO_FATAL_FAILURE(OpenParentEngine());
  const uint64_t incarnation = engine_->Info().incarnation;
  EXPECT_GT(incarnation, child.incarnation);
  // The child's locks are still on disk, stamped with its incarnation.
  for (const auto& key : keys) {
    auto meta = StoredMeta(key);
    ASSERT_TRUE(meta.has_value()) << key;
    ASSERT_TRUE(meta->lock.has_value()) << key;
    EXPECT_EQ(meta->lock->incarnation, child.incarnation) << key;
  }

  auto players = OpenParentPlayers();
  std::vector<PlayerProfile> profiles;
  for (const auto& key : keys) {
    auto started = std::chrono::steady_clock::now();
    auto profile = players.StartSession(key, NoWait());
    ASSERT_OK(profile) << key;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << key;
    EXPECT_TRUE(profile->IsActive());
    EXPECT_EQ(profile->Data(), "saved-" + key);
    EXPECT_EQ(profile->LastSavedData(), "saved-" + key);
    EXPECT_EQ(profile->Info().load_count, 2u) << key;
    EXPECT_EQ(profile->Info().epoch, 2u) << key;
    EXPECT_EQ(profile->Info().version, 3u) << key;  // template, first save, second save
    auto meta = StoredMeta(key);
    ASSERT_TRUE(meta.has_value() && meta->lock.has_value()) << key;
    EXPECT_EQ(meta->lock->incarnation, incarnation) << key;
    EXPECT_EQ(meta->lock->session_id, profile->Info().session_id) << key;
    profiles.push_back(std::move(*profile));
  }

  EXPECT_EQ(engine_->Stats().orphans_taken_over, keys.size());
  EXPECT_EQ(engine_->Stats().steals, 0u);
  auto takeovers = Takeovers();
  ASSERT_EQ(takeovers.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i]);
    EXPECT_EQ(takeovers[i].store, "Players");
    EXPECT_EQ(takeovers[i].key, keys[i]);
    EXPECT_EQ(takeovers[i].previous_incarnation, child.incarnation);
    EXPECT_EQ(takeovers[i].previous_session_id, child.session_ids[keys[i]]);
    EXPECT_EQ(takeovers[i].previous_owner.rfind("orphan-test-child:", 0), 0u)
        << takeovers[i].previous_owner;
    EXPECT_GT(takeovers[i].lock_acquired_unix_ms, 0);
  }

  // The taken-over sessions are ordinary sessions: they save and end normally.
  for (auto& profile : profiles) {
    ASSERT_OK(profile.Edit([](std::string& d) { d += "+parent"; }));
    ASSERT_OK(profile.EndSession());
  }
  // A clean reopen leaves no orphans behind.
  ASSERT_OK(engine_->Close());
  engine_.reset();
  {
    std::lock_guard lock(mu_);
    takeovers_.clear();
  }
  ASSERT_NO_FATAL_FAILURE(OpenParentEngine());
  auto again = OpenParentPlayers();
  for (const auto& key : keys) {
    auto profile = again.StartSession(key, NoWait());
    ASSERT_OK(profile) << key;
    EXPECT_EQ(profile->Data(), "saved-" + key + "+parent");
  }
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
  EXPECT_TRUE(Takeovers().empty());
}

TEST_F(OrphanTest, NeverSavedKeyLoadsTemplateAndIsTakenOver) {
  ChildReport child;
  ASSERT_NO_FATAL_FAILURE(RunKilledChild(
      dir_.path(),
      [&](Engine&, PlayerStore& players, std::vector<PlayerProfile>& keep, std::string& report) {
        auto profile = players.StartSession("fresh");
        if (!profile.ok()) return false;
        // Edited but never saved: only the template (written by the acquisition) is on disk.
        if (!profile->Edit([](std::string& d) { d = "never-saved"; }).ok()) return false;
        report += "session fresh " + std::to_string(profile->Info().session_id) + "\n";
        keep.push_back(std::move(*profile));
        return true;
      },
      &child));

  ASSERT_NO_FATAL_FAILURE(OpenParentEngine());
  auto players = OpenParentPlayers();
  auto profile = players.StartSession("fresh", NoWait());
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "new-player");
  EXPECT_EQ(profile->Info().load_count, 2u);
  EXPECT_EQ(profile->Info().version, 1u);
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  auto takeovers = Takeovers();
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0].key, "fresh");
  EXPECT_EQ(takeovers[0].previous_incarnation, child.incarnation);
  EXPECT_EQ(takeovers[0].previous_session_id, child.session_ids["fresh"]);
}

TEST_F(OrphanTest, EndedSessionIsNotReportedAsOrphan) {
  ChildReport child;
  ASSERT_NO_FATAL_FAILURE(RunKilledChild(
      dir_.path(),
      [&](Engine&, PlayerStore& players, std::vector<PlayerProfile>& keep, std::string& report) {
        auto ended = players.StartSession("ended");
        if (!ended.ok()) return false;
        if (!ended->Edit([](std::string& d) { d = "ended-data"; }).ok()) return false;
        if (!ended->EndSession().ok()) return false;
        keep.push_back(std::move(*ended));
        return StartEditSave(players, "held", "held-data", keep, report);
      },
      &child));

  ASSERT_NO_FATAL_FAILURE(OpenParentEngine());
  auto meta = StoredMeta("ended");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
  auto players = OpenParentPlayers();
  auto ended = players.StartSession("ended", NoWait());
  ASSERT_OK(ended);
  EXPECT_EQ(ended->Data(), "ended-data");
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 0u);
  EXPECT_TRUE(Takeovers().empty());

  auto held = players.StartSession("held", NoWait());
  ASSERT_OK(held);
  EXPECT_EQ(held->Data(), "held-data");
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  auto takeovers = Takeovers();
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0].key, "held");
  EXPECT_EQ(takeovers[0].previous_incarnation, child.incarnation);
  EXPECT_EQ(takeovers[0].previous_session_id, child.session_ids["held"]);
}

TEST_F(OrphanTest, EditsAfterTheLastSaveAreLostWithTheChild) {
  ChildReport child;
  ASSERT_NO_FATAL_FAILURE(RunKilledChild(
      dir_.path(),
      [&](Engine&, PlayerStore& players, std::vector<PlayerProfile>& keep, std::string& report) {
        if (!StartEditSave(players, "gold", "gold=10", keep, report)) return false;
        // Changed after the last save and never written: dies with the process.
        if (!keep.back().Edit([](std::string& d) { d = "gold=999"; }).ok()) return false;
        if (keep.back().Data() != "gold=999") return false;
        // User ids and metadata changed after the save are likewise unsaved.
        if (!keep.back().AddUserId(77).ok()) return false;
        return true;
      },
      &child));

  ASSERT_NO_FATAL_FAILURE(OpenParentEngine());
  auto players = OpenParentPlayers();
  auto profile = players.StartSession("gold", NoWait());
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "gold=10");
  EXPECT_EQ(profile->LastSavedData(), "gold=10");
  EXPECT_TRUE(profile->Info().user_ids.empty());
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  auto takeovers = Takeovers();
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0].key, "gold");
  EXPECT_EQ(takeovers[0].previous_incarnation, child.incarnation);
}

TEST_F(OrphanTest, DefaultReportIsALineOnStderr) {
  ChildReport child;
  ASSERT_NO_FATAL_FAILURE(RunKilledChild(
      dir_.path(),
      [&](Engine&, PlayerStore& players, std::vector<PlayerProfile>& keep, std::string& report) {
        return StartEditSave(players, "loud", "loud-data", keep, report);
      },
      &child));

  auto engine = Engine::Open(dir_.path(), EngineOptions{});  // no on_orphan_takeover
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  auto players = OpenParentPlayers();
  ::testing::internal::CaptureStderr();
  auto profile = players.StartSession("loud", NoWait());
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_OK(profile);
  EXPECT_EQ(profile->Data(), "loud-data");
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
  EXPECT_NE(log.find("took over the lock of profile 'loud' in store 'Players'"), std::string::npos)
      << log;
  EXPECT_NE(log.find("incarnation " + std::to_string(child.incarnation)), std::string::npos) << log;
}

}  // namespace
}  // namespace holdfast::test
