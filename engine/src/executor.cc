#include "executor.h"

#include <cstdio>

namespace holdfast::internal {

Executor::Executor(int threads) {
  if (threads < 1) threads = 1;
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

Executor::~Executor() { Shutdown(); }

bool Executor::Submit(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void Executor::Shutdown() {
  {
    MutexLock lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Executor::Work() {
  for (;;) {
    std::function<void()> task;
    {
      UniqueLock lock(mu_);
      while (!stopping_ && queue_.empty()) cv_.wait(lock.native());
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {
      // Engine tasks catch game code's exceptions themselves; this only keeps a worker alive.
      std::fprintf(stderr, "holdfast: an engine task threw; the worker goes on\n");
    }
  }
}

}  // namespace holdfast::internal
