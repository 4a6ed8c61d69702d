// OperationGate: admits operations that may touch storage (starts, rollbacks, reads) until the
// engine begins to close, and lets Close wait until the admitted ones have left.
//
// Thread safety: thread-safe. mu_ is a leaf.
#ifndef HOLDFAST_SRC_OPERATION_GATE_H_
#define HOLDFAST_SRC_OPERATION_GATE_H_

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "mutex.h"

namespace holdfast::internal {

class OperationGate {
 public:
  // False once closing began: the operation must return Closed without touching storage.
  bool Enter() {
    MutexLock lock(mu_);
    if (closing_.load()) return false;
    ++in_flight_;
    return true;
  }
  void Leave() {
    MutexLock lock(mu_);
    if (--in_flight_ == 0) idle_.notify_all();
  }
  // Refuses every later Enter.
  void BeginClose() {
    MutexLock lock(mu_);
    closing_.store(true);
  }
  // Blocks until every admitted operation has left (after BeginClose).
  void WaitIdle() {
    UniqueLock lock(mu_);
    while (in_flight_ != 0) idle_.wait(lock.native());
  }
  bool closing() const { return closing_.load(); }

 private:
  Mutex mu_{LockLevel::kLeaf};
  std::condition_variable idle_;
  std::atomic<bool> closing_{false};  // written under mu_
  int in_flight_ GUARDED_BY(mu_) = 0;
};

// Holds the gate for its scope when admitted.
class GatePass {
 public:
  explicit GatePass(OperationGate& gate) : gate_(gate), admitted_(gate.Enter()) {}
  ~GatePass() {
    if (admitted_) gate_.Leave();
  }
  GatePass(const GatePass&) = delete;
  GatePass& operator=(const GatePass&) = delete;
  bool admitted() const { return admitted_; }

 private:
  OperationGate& gate_;
  const bool admitted_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_OPERATION_GATE_H_
