// The operation fuzzer's model of the engine's critical state (fuzz/session_driver.cc), as the
// README states it: kCriticalThreshold storage errors (IOError, ResourceExhausted) within
// kCriticalWindow enter the critical state, and the next successful commit leaves it and empties
// the window. A commit that ran out of conflict retries (Busy) is neither an error nor a success.
#ifndef HOLDFAST_FUZZ_CRITICAL_STATE_MODEL_H_
#define HOLDFAST_FUZZ_CRITICAL_STATE_MODEL_H_

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "holdfast/status.h"
#include "session_harness.h"

namespace holdfast::fuzz {

struct CriticalState {
  bool critical = false;
  uint64_t entries = 0;         // critical_state_entries, and on_critical_state(true) calls
  uint64_t exits = 0;           // on_critical_state(false) calls
  std::vector<int64_t> errors;  // monotonic times (ns) of the storage errors in the window

  bool operator==(const CriticalState&) const = default;

  // One commit's result at monotonic time `now_ns` (a commit that ran out of conflict retries,
  // Busy, is neither an error nor a success).
  void Record(StatusCode code, int64_t now_ns) {
    if (code == StatusCode::kIOError || code == StatusCode::kResourceExhausted) {
      errors.push_back(now_ns);
      const int64_t window = std::chrono::nanoseconds(kCriticalWindow).count();
      while (!errors.empty() && now_ns - errors.front() > window) errors.erase(errors.begin());
      if (!critical && static_cast<int>(errors.size()) >= kCriticalThreshold) {
        critical = true;
        ++entries;
      }
    } else if (code == StatusCode::kOk && critical) {
      critical = false;
      errors.clear();
      ++exits;
    }
  }
};

// For failure messages: the critical states the model still allows.
inline std::string DescribeCriticalStates(const std::vector<CriticalState>& states) {
  std::ostringstream out;
  for (const CriticalState& c : states) {
    out << "{critical " << c.critical << ", entered " << c.entries << ", left " << c.exits << ", "
        << c.errors.size() << " errors in the window} ";
  }
  return out.str();
}

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_CRITICAL_STATE_MODEL_H_
