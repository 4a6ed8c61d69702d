#include "keep_running.h"

#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace holdfast_demo {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockStopSignals() {
  const sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int ServeUntilStopped(World& world, uint64_t seed, uint64_t* coins_earned) {
  std::mutex mu;
  std::condition_variable stop_cv;
  bool stop = false;  // guarded by mu
  // The game loop: a tick a second. It is the game's clock, not a wait for anything.
  std::thread ticks([&] {
    std::mt19937_64 rng(seed);
    std::vector<Player>& players = world.players();
    std::unique_lock lock(mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stop; })) {
      for (int i = 0; i < 5; ++i) {
        Player& player = players[rng() % players.size()];
        const int64_t coins = 1 + static_cast<int64_t>(rng() % 10);
        // Saved by the auto-saver within its period, or by the final save at Close.
        if (player.profile->Edit([&](Json& d) { d["coins"] = d["coins"].get<int64_t>() + coins; })
                .ok()) {
          *coins_earned += coins;
        }
      }
    }
  });
  const sigset_t set = StopSignals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  stop_cv.notify_all();
  ticks.join();
  return signal_number;
}

}  // namespace holdfast_demo
