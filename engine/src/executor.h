// A fixed pool of worker threads running submitted tasks in FIFO order. The engine runs
// auto-saves, handoff releases and shutdown saves on it, so that a slow or paused commit of one
// profile never holds up a start on another thread, and concurrent saves share WAL syncs.
//
// Thread safety: Submit and Shutdown may be called from any thread (Shutdown not from a worker).
#ifndef HOLDFAST_SRC_EXECUTOR_H_
#define HOLDFAST_SRC_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "mutex.h"

namespace holdfast::internal {

class Executor {
 public:
  explicit Executor(int threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `task`; returns false (and drops it) after Shutdown began.
  bool Submit(std::function<void()> task);
  // Runs every queued task, then joins the workers. Idempotent.
  void Shutdown();

 private:
  void Work();

  std::vector<std::thread> workers_;  // constant after construction

  Mutex mu_{LockLevel::kLeaf};
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_EXECUTOR_H_
