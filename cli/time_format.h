// Times on the command line. Out: ISO-8601 in UTC with milliseconds, "2026-01-01T00:00:05.000Z".
// In: the same form (seconds and fraction optional: "2026-01-01T00:00Z"), a date alone
// ("2026-01-01", midnight UTC), or unix seconds ("1767225605"). No other offsets than Z, so a
// time never depends on the machine's time zone.
#ifndef HOLDFAST_CLI_TIME_FORMAT_H_
#define HOLDFAST_CLI_TIME_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holdfast::cli {

// Unix milliseconds as ISO-8601 UTC.
std::string FormatTime(int64_t unix_ms);

// Unix milliseconds from one of the accepted forms; nullopt when `text` is none of them or names
// no real time (month 13, 25:00, ...).
std::optional<int64_t> ParseTime(std::string_view text);

// What ParseTime accepts, for help texts and error messages.
inline constexpr std::string_view kTimeForms =
    "ISO-8601 UTC (2026-01-01T12:00:00Z, 2026-01-01T12:00Z, 2026-01-01) or unix seconds";

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_TIME_FORMAT_H_
