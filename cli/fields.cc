#include "fields.h"

#include "text_output.h"
#include "time_format.h"

namespace holdfast::cli {

void WriteKeyFields(JsonWriter& json, std::string_view key) {
  json.Field("key", key);
  if (!IsUtf8(key)) json.Field("key_hex", Hex(key));
}

void WriteTimeField(JsonWriter& json, std::string_view name, int64_t unix_ms) {
  json.Key(name);
  if (unix_ms == 0) {
    json.Null();
  } else {
    json.String(FormatTime(unix_ms));
  }
}

std::string TimeText(int64_t unix_ms) { return unix_ms == 0 ? "-" : FormatTime(unix_ms); }

void WriteLock(JsonWriter& json, const HeldLock& lock) {
  json.BeginObject().Field("store", lock.store);
  WriteKeyFields(json, lock.key);
  json.Field("epoch", lock.epoch).Field("owner", lock.owner);
  WriteTimeField(json, "since", lock.since_unix_ms);
  WriteTimeField(json, "renewed", lock.renewed_unix_ms);
  json.Field("session_id", lock.session_id)
      .Field("incarnation", lock.incarnation)
      .Field("orphaned", lock.orphaned)
      .EndObject();
}

std::string LockText(const HeldLock& lock) {
  return "held by " + Printable(lock.owner) + " since " + TimeText(lock.since_unix_ms) +
         ", epoch " + std::to_string(lock.epoch) + ", session " + std::to_string(lock.session_id) +
         (lock.orphaned ? ", left by an engine that is gone" : "");
}

}  // namespace holdfast::cli
