// A progress bar for the long scans (export, import, list), drawn on stderr and only for a
// person watching: when stderr is a terminal and the command does not print --json. Piped or
// redirected, nothing is drawn, so scripts and logs see only the command's own lines.
//
//   export Players [##########..........]  1500/3000 profiles
//
// Redrawn in place ('\r') at most every 100 ms and erased when done, so whatever the command
// prints next starts on a clean line. Not thread-safe: one scan, one thread.
#ifndef HOLDFAST_CLI_PROGRESS_H_
#define HOLDFAST_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace holdfast::cli {

// The line drawn for `done` of `total` (`total` 0: unknown, the count alone), `width` columns of
// bar. Exposed for tests.
std::string ProgressLine(std::string_view label, uint64_t done, uint64_t total,
                         std::string_view unit, size_t width = 20);

class ProgressBar {
 public:
  // Whether a bar belongs on this run: `err` is the process's stderr, which is a terminal, and
  // the output is not JSON. (A command run in-process with other streams never draws one.)
  static bool Wanted(bool json, const std::ostream& err);

  // Draws nothing unless `enabled`.
  ProgressBar(std::ostream& err, std::string label, uint64_t total, std::string unit,
              bool enabled);
  ~ProgressBar() { Done(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void SetTotal(uint64_t total) { total_ = total; }
  void Set(uint64_t done);
  // Erases the bar (idempotent).
  void Done();

 private:
  std::ostream& err_;
  const std::string label_;
  const std::string unit_;
  uint64_t total_;
  bool shown_ = false;
  bool enabled_;
  size_t drawn_ = 0;  // characters of the line on screen
  std::chrono::steady_clock::time_point next_draw_{};
};

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_PROGRESS_H_
