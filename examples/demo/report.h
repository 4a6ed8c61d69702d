// How the demo reports: one step per line group, wrapped for a terminal, with timings.
#ifndef HOLDFAST_EXAMPLES_DEMO_REPORT_H_
#define HOLDFAST_EXAMPLES_DEMO_REPORT_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "holdfast/stats.h"
#include "holdfast/status.h"

namespace holdfast_demo {

class Stopwatch {
 public:
  double Ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Joins two words that Step must not wrap apart ("2.0 ms"); printed as a space.
inline constexpr char kGlue = '\x01';

// Prints "  <name>  <text>", the text wrapped at 100 columns under itself.
void Step(const std::string& name, const std::string& text);

// Prints "holdfast-demo: <what>: <status>" on stderr and returns the exit code for a failure.
int Fail(const std::string& what, const holdfast::Status& status);

std::string Str(int64_t n);
// "1 handoff", "10 handoffs" (`noun` + "s").
std::string Count(int64_t n, const std::string& noun);
// "845 ms", "12.3 s" (glued with kGlue).
std::string Ms(double ms);
// "310 starts, 341 saves, 600 trades, 10 handoffs; save latency p50 2.6 ms, p99 5.1 ms".
std::string StatsText(const holdfast::EngineStats& stats);

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_REPORT_H_
