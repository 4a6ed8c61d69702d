// How the commands print the fields several of them share — profile keys, times and locks — so
// that the same field reads the same in every command's text and JSON.
#ifndef HOLDFAST_CLI_FIELDS_H_
#define HOLDFAST_CLI_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "holdfast/admin.h"
#include "json_output.h"

namespace holdfast::cli {

// Adds "key" to `object`, and "key_hex" when the key is not UTF-8 (JSON cannot carry those bytes
// in a string).
void AddKey(Json& object, std::string_view key);

// A time as ISO-8601 UTC (time_format.h); 0 means never set: null in JSON, "-" in text.
Json TimeJson(int64_t unix_ms);
std::string TimeText(int64_t unix_ms);

// A user id given on the command line: a whole 64-bit integer, or nullopt.
std::optional<int64_t> ParseUserId(const std::string& text);

// A held lock as an object: store, key, epoch, owner, since, session_id, incarnation, orphaned.
Json LockJson(const HeldLock& lock);
// "held by <owner> since <time>, epoch N, session S[, left by an engine that is gone]".
std::string LockText(const HeldLock& lock);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_FIELDS_H_
