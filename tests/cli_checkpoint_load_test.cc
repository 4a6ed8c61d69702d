// A checkpoint taken through the real binary while sessions of the running engine keep saving
// in other threads: it opens as a database of its own, `holdfast verify` finds nothing damaged,
// and every profile in it holds a value its session really saved.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_util.h"

namespace holdfast::test {
namespace {

constexpr int kSavers = 4;

class CliCheckpointLoadTest : public AdminFixture {
 protected:
  // Each saver counts its saves; the test waits on these, never on time.
  void Saved() {
    std::lock_guard lock(mu_);
    ++saves_;
    changed_.notify_all();
  }
  // A saver that failed wakes the waiter too, so a failure never hangs the test.
  void Failed() {
    std::lock_guard lock(mu_);
    failed_ = true;
    changed_.notify_all();
  }
  void WaitForSaves(int total) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return saves_ >= total || failed_; });
  }
  int Saves() {
    std::lock_guard lock(mu_);
    return saves_;
  }

  std::mutex mu_;
  std::condition_variable changed_;
  int saves_ = 0;
  bool failed_ = false;
};

TEST_F(CliCheckpointLoadTest, ACheckpointUnderLoadOpensAndVerifies) {
  CloseEngine();
  EngineOptions options = Options();
  options.admin_socket = true;  // the binary reaches this engine through its socket
  auto engine = Engine::Open(path_, options);
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
  auto players = OpenPlayers();

  std::atomic<bool> stop{false};
  std::vector<std::thread> savers;
  for (int i = 0; i < kSavers; ++i) {
    savers.emplace_back([&, i] {
      auto profile = players.StartSession("p" + std::to_string(i));
      if (!profile.ok()) {
        ADD_FAILURE() << profile.status();
        return Failed();
      }
      for (int n = 1; !stop.load(); ++n) {
        Status s = profile->Edit([&](std::string& d) { d = "n=" + std::to_string(n); });
        if (s.ok()) s = profile->Save();
        if (!s.ok()) {
          ADD_FAILURE() << s;
          return Failed();
        }
        Saved();
      }
      EXPECT_OK(profile->EndSession());
    });
  }
  WaitForSaves(50);
  const std::string copy = dir_.Sub("checkpoint");
  CliRun checkpoint = RunBinary({"checkpoint", copy, "--db", path_});
  const int saves_at_checkpoint = Saves();
  WaitForSaves(saves_at_checkpoint + 50);  // the load went on after it, too
  stop = true;
  for (std::thread& saver : savers) saver.join();
  ASSERT_EQ(checkpoint.code, 0) << checkpoint;

  CliRun verify = RunBinary({"verify", "--db", copy});
  EXPECT_EQ(verify.code, 0) << verify;
  EXPECT_NE(verify.out.find("profile(s)"), std::string::npos) << verify;
  EXPECT_TRUE(verify.out.ends_with(": 0 damaged\n")) << verify;
  // Every profile is there, each at a value its session saved, its lock an orphan.
  CliRun sessions = RunBinary({"sessions", "--db", copy, "--json"});
  EXPECT_EQ(sessions.code, 0) << sessions;
  size_t orphans = 0;
  for (size_t at = 0; (at = sessions.out.find(R"("orphaned":true)", at)) != std::string::npos;
       ++at) {
    ++orphans;
  }
  EXPECT_EQ(orphans, static_cast<size_t>(kSavers)) << sessions;
  auto copied = Engine::Open(copy, Options(/*create=*/false));
  ASSERT_OK(copied);
  Admin admin(**copied);
  auto list = admin.Profiles("Players");
  ASSERT_OK(list);
  ASSERT_EQ(list->profiles.size(), static_cast<size_t>(kSavers));
  for (const ProfileSummary& profile : list->profiles) {
    auto details = admin.Inspect("Players", profile.key);
    ASSERT_OK(details);
    EXPECT_TRUE(details->view.payload == "new" || details->view.payload.starts_with("n="))
        << details->view.payload;
  }
  EXPECT_OK((*copied)->Close());
}

}  // namespace
}  // namespace holdfast::test
