#include "time_format.h"

#include <chrono>
#include <cstdio>
#include <limits>

namespace holdfast::cli {
namespace {

using std::chrono::days;
using std::chrono::milliseconds;

// Reads exactly `count` decimal digits from the front of `text`.
std::optional<int> TakeDigits(std::string_view& text, size_t count) {
  if (text.size() < count) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  text.remove_prefix(count);
  return value;
}

bool TakeChar(std::string_view& text, char c) {
  if (text.empty() || text[0] != c) return false;
  text.remove_prefix(1);
  return true;
}

std::optional<int64_t> ParseUnixSeconds(std::string_view text) {
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000;
  int64_t seconds = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (seconds > (kMaxSeconds - (c - '0')) / 10) return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds * 1000;
}

// "HH:MM[:SS[.fraction]]Z" after the date's 'T'; the time of day in milliseconds.
std::optional<int64_t> ParseTimeOfDay(std::string_view text) {
  auto hours = TakeDigits(text, 2);
  if (!hours || *hours > 23 || !TakeChar(text, ':')) return std::nullopt;
  auto minutes = TakeDigits(text, 2);
  if (!minutes || *minutes > 59) return std::nullopt;
  int seconds = 0;
  int64_t millis = 0;
  if (TakeChar(text, ':')) {
    auto s = TakeDigits(text, 2);
    if (!s || *s > 59) return std::nullopt;
    seconds = *s;
    if (TakeChar(text, '.')) {
      // Any number of fraction digits; those past milliseconds are dropped.
      int digits = 0;
      while (!text.empty() && text[0] >= '0' && text[0] <= '9') {
        if (digits < 3) millis = millis * 10 + (text[0] - '0');
        ++digits;
        text.remove_prefix(1);
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits) millis *= 10;
    }
  }
  if (text != "Z") return std::nullopt;
  return ((*hours * 60 + *minutes) * 60 + seconds) * int64_t{1000} + millis;
}

}  // namespace

std::string FormatTime(int64_t unix_ms) {
  const std::chrono::sys_time<milliseconds> time{milliseconds(unix_ms)};
  const auto day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{time - day};
  char text[40];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

std::optional<int64_t> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    return ParseUnixSeconds(text);
  }
  std::string_view rest = text;
  auto year = TakeDigits(rest, 4);
  if (!year || !TakeChar(rest, '-')) return std::nullopt;
  auto month = TakeDigits(rest, 2);
  if (!month || !TakeChar(rest, '-')) return std::nullopt;
  auto day_of_month = TakeDigits(rest, 2);
  if (!day_of_month) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day_of_month))};
  if (!date.ok()) return std::nullopt;
  const int64_t midnight_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::sys_days(date).time_since_epoch())
          .count();
  if (rest.empty()) return midnight_ms;
  if (!TakeChar(rest, 'T')) return std::nullopt;
  auto time_of_day = ParseTimeOfDay(rest);
  if (!time_of_day) return std::nullopt;
  return midnight_ms + *time_of_day;
}

}  // namespace holdfast::cli
