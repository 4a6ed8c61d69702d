#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

namespace holdfast::cli {
namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

}  // namespace

std::string ProgressLine(std::string_view label, uint64_t done, uint64_t total,
                         std::string_view unit, size_t width) {
  std::string line(label);
  if (total > 0) {
    const uint64_t shown = std::min(done, total);
    const size_t filled = static_cast<size_t>(shown * width / total);
    line += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    line += std::to_string(done) + "/" + std::to_string(total);
  } else {
    line += " " + std::to_string(done);
  }
  if (!unit.empty()) line += " " + std::string(unit);
  return line;
}

bool ProgressBar::Wanted(bool json, const std::ostream& err) {
  return !json && &err == &std::cerr && isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::ostream& err, std::string label, uint64_t total, std::string unit,
                         bool enabled)
    : err_(err),
      label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled) {}

void ProgressBar::Set(uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_draw_) return;
  next_draw_ = now + kRedrawEvery;
  const std::string line = ProgressLine(label_, done, total_, unit_);
  // Pads over a longer line drawn before.
  err_ << '\r' << line << std::string(drawn_ > line.size() ? drawn_ - line.size() : 0, ' ')
       << std::flush;
  drawn_ = std::max(drawn_, line.size());
  shown_ = true;
}

void ProgressBar::Done() {
  if (!shown_) return;
  err_ << '\r' << std::string(drawn_, ' ') << '\r' << std::flush;
  shown_ = false;
  enabled_ = false;
}

}  // namespace holdfast::cli
