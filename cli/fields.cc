#include "fields.h"

#include <charconv>

#include "text_output.h"
#include "time_format.h"

namespace holdfast::cli {

void AddKey(Json& object, std::string_view key) {
  object["key"] = key;
  if (!IsUtf8(key)) object["key_hex"] = Hex(key);
}

Json TimeJson(int64_t unix_ms) { return unix_ms == 0 ? Json() : Json(FormatTime(unix_ms)); }

std::string TimeText(int64_t unix_ms) { return unix_ms == 0 ? "-" : FormatTime(unix_ms); }

Json LockJson(const HeldLock& lock) {
  Json object = {{"store", lock.store}};
  AddKey(object, lock.key);
  object["epoch"] = lock.holder.epoch;
  object["owner"] = lock.holder.owner;
  object["since"] = TimeJson(lock.holder.since_unix_ms);
  object["session_id"] = lock.holder.session_id;
  object["incarnation"] = lock.holder.incarnation;
  object["orphaned"] = lock.orphaned;
  return object;
}

std::string LockText(const HeldLock& lock) {
  return "held by " + Printable(lock.holder.owner) + " since " +
         TimeText(lock.holder.since_unix_ms) + ", epoch " + std::to_string(lock.holder.epoch) +
         ", session " + std::to_string(lock.holder.session_id) +
         (lock.orphaned ? ", left by an engine that is gone" : "");
}

std::optional<int64_t> ParseUserId(const std::string& text) {
  int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

}  // namespace holdfast::cli
