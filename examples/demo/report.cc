#include "report.h"

#include <cstdio>
#include <sstream>

#include "command_line.h"

namespace holdfast_demo {

void Step(const std::string& name, const std::string& text) {
  constexpr size_t kWidth = 100;
  const std::string indent(12, ' ');
  std::string line = "  " + name + std::string(name.size() < 10 ? 10 - name.size() : 1, ' ');
  size_t line_start = 0;  // where the current line begins in `line`
  std::istringstream words(text);
  std::string word;
  bool first = true;
  while (words >> word) {
    if (!first && line.size() - line_start + 1 + word.size() > kWidth) {
      line += "\n" + indent;
      line_start = line.size() - indent.size();
    } else if (!first) {
      line += ' ';
    }
    line += word;
    first = false;
  }
  for (char& c : line) c = c == kGlue ? ' ' : c;
  std::printf("%s\n", line.c_str());
}

int Fail(const std::string& what, const holdfast::Status& status) {
  std::fprintf(stderr, "holdfast-demo: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailed;
}

std::string Str(int64_t n) { return std::to_string(n); }

std::string Count(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string Ms(double ms) {
  char text[32];
  if (ms < 10) {
    std::snprintf(text, sizeof text, "%.1f\x01ms", ms);
  } else if (ms < 10'000) {
    std::snprintf(text, sizeof text, "%.0f\x01ms", ms);
  } else {
    std::snprintf(text, sizeof text, "%.1f\x01s", ms / 1000);
  }
  return text;
}

std::string StatsText(const holdfast::EngineStats& stats) {
  return Count(stats.starts, "start") + ", " + Count(stats.saves, "save") + ", " +
         Count(stats.trades, "trade") + ", " + Count(stats.handoffs, "handoff") + ", " +
         Count(stats.messages_processed, "message") + " processed; save latency p50 " +
         Ms(stats.save_latency.p50_us / 1000) + ", p99 " + Ms(stats.save_latency.p99_us / 1000);
}

}  // namespace holdfast_demo
