// The run-time check of the lock order stated in engine/src/mutex.h: locks taken in the order
// pass; one taken out of order aborts naming both levels.
#include <gtest/gtest.h>

#include "mutex.h"

namespace holdfast::internal {
namespace {

#if defined(HOLDFAST_CHECK_LOCK_ORDER)

TEST(LockOrderTest, LocksTakenInTheStatedOrderPass) {
  Mutex save(LockLevel::kSessionSave);
  Mutex store(LockLevel::kStoreSessions);
  Mutex session(LockLevel::kSessionState);
  Mutex leaf(LockLevel::kLeaf);
  MutexLock a(save);
  MutexLock b(store);
  UniqueLock c(session);
  c.Unlock();  // released and retaken: still in order
  c.Lock();
  MutexLock d(leaf);
  SUCCEED();
}

TEST(LockOrderTest, TwoSaveLocksMayNestForASignalSavingAnotherProfile) {
  Mutex first(LockLevel::kSessionSave);
  Mutex second(LockLevel::kSessionSave);
  MutexLock a(first);
  MutexLock b(second);
  SUCCEED();
}

TEST(LockOrderDeathTest, ALockTakenOutOfOrderAborts) {
  Mutex store(LockLevel::kStoreSessions);
  Mutex session(LockLevel::kSessionState);
  EXPECT_DEATH(
      {
        MutexLock a(session);
        MutexLock b(store);
      },
      "lock order violated: taking a level-3 lock while holding a level-4 lock");
}

TEST(LockOrderDeathTest, TwoLeavesNeverNest) {
  Mutex one(LockLevel::kLeaf);
  Mutex two(LockLevel::kLeaf);
  EXPECT_DEATH(
      {
        MutexLock a(one);
        MutexLock b(two);
      },
      "taking a level-5 lock while holding a level-5 lock");
}

TEST(LockOrderTest, ReleasedLocksNoLongerCount) {
  Mutex store(LockLevel::kStoreSessions);
  Mutex session(LockLevel::kSessionState);
  { MutexLock a(session); }
  MutexLock b(store);  // session's lock was released: in order
  SUCCEED();
}

#else

TEST(LockOrderTest, CheckIsOffInThisBuild) {
  GTEST_SKIP() << "configure with -DHOLDFAST_CHECK_LOCK_ORDER=ON";
}

#endif

}  // namespace
}  // namespace holdfast::internal
