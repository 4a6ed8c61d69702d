// The engine's mutex, its scoped locks, and THE LOCK ORDER — stated here once for all of
// engine/src. A thread may take a lock only while every lock it already holds comes earlier in
// this list (two locks of one level are never held together, except save locks: a save signal
// may save another profile, and a trade or a batch of shutdown final saves holds several, taken
// in (store, key) order):
//
//   1. kSessionSave    LiveSession::save_mu_ — one save of a session at a time; its signals
//                      (OnSave, OnLastSave, OnAfterSave) and its commit run under it.
//   2. (data lock)     the profile's data lock, Profile<Codec>::Slot::mu (a public header, so a
//                      std::mutex outside this check): Edit/Read, and the encode of a save.
//   3. kStoreSessions  SessionRegistry::mu_ — one store's key entries (holder, claims, starters).
//   4. kSessionState   LiveSession::mu_ — one session's state; never held while calling user
//                      code, the data, the registry or storage.
//   5. kLeaf           every other engine mutex (StoreRegistry, CriticalState, OperationGate,
//                      AutosaveScheduler, Executor, Engine::Impl's close state): nothing else is
//                      taken while one is held.
//
// No storage I/O (a transaction or a read) runs while a lock of levels 3-5 is held; a save's
// commit runs under level 1 only. Clang's -Wthread-safety checks statically that guarded data is
// touched only under its lock (`make thread-safety`); the order above is checked at run time
// when the build defines HOLDFAST_CHECK_LOCK_ORDER (test builds do): a lock taken out of order
// aborts with both levels named.
#ifndef HOLDFAST_SRC_MUTEX_H_
#define HOLDFAST_SRC_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "thread_annotations.h"

namespace holdfast::internal {

enum class LockLevel : int {
  kSessionSave = 1,
  kStoreSessions = 3,
  kSessionState = 4,
  kLeaf = 5,
};

// Run-time bookkeeping of the levels this thread holds (no-ops without
// HOLDFAST_CHECK_LOCK_ORDER, which must be defined alike for every file including this one).
#if defined(HOLDFAST_CHECK_LOCK_ORDER)
void NoteAcquire(LockLevel level);
void NoteRelease(LockLevel level);
#else
inline void NoteAcquire(LockLevel) {}
inline void NoteRelease(LockLevel) {}
#endif

class CAPABILITY("mutex") Mutex {
 public:
  explicit Mutex(LockLevel level) : level_(level) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() {
    NoteAcquire(level_);
    mu_.lock();
  }
  void Unlock() RELEASE() {
    mu_.unlock();
    NoteRelease(level_);
  }

 private:
  friend class MutexLock;
  friend class UniqueLock;
  std::mutex mu_;
  const LockLevel level_;
};

// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// Holds a Mutex for its scope, may release and retake it, and lends the underlying
// std::unique_lock to condition variables (and Clock::WaitUntil), which release the mutex only
// while they wait.
class SCOPED_CAPABILITY UniqueLock {
 public:
  explicit UniqueLock(Mutex& mu) ACQUIRE(mu) : mu_(mu), lock_(mu.mu_, std::defer_lock) { Lock(); }
  ~UniqueLock() RELEASE() {
    if (lock_.owns_lock()) Unlock();
  }
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  void Lock() ACQUIRE() {
    NoteAcquire(mu_.level_);
    lock_.lock();
  }
  void Unlock() RELEASE() {
    lock_.unlock();
    NoteRelease(mu_.level_);
  }
  bool owns_lock() const { return lock_.owns_lock(); }
  std::unique_lock<std::mutex>& native() { return lock_; }

 private:
  Mutex& mu_;
  std::unique_lock<std::mutex> lock_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_MUTEX_H_
