#include "mutex.h"

#include <array>
#include <cstdio>
#include <cstdlib>

namespace holdfast::internal {

#if defined(HOLDFAST_CHECK_LOCK_ORDER)
namespace {

constexpr int kLevels = static_cast<int>(LockLevel::kLeaf) + 1;
thread_local std::array<int, kLevels> held{};  // locks of each level this thread holds

}  // namespace

void NoteAcquire(LockLevel level) {
  const int at = static_cast<int>(level);
  for (int l = at; l < kLevels; ++l) {
    if (held[l] == 0) continue;
    if (l == at && level == LockLevel::kSessionSave) continue;  // a signal saving another profile
    std::fprintf(stderr,
                 "holdfast: lock order violated: taking a level-%d lock while holding a level-%d "
                 "lock (engine/src/mutex.h)\n",
                 at, l);
    std::abort();
  }
  ++held[at];
}

void NoteRelease(LockLevel level) { --held[static_cast<int>(level)]; }
#endif

}  // namespace holdfast::internal
