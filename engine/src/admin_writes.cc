#include "admin_writes.h"

#include <memory>
#include <optional>
#include <string>

#include "holdfast/limits.h"

namespace holdfast::internal {

Result<AdminWriteResult> ClaimAndWrite(SessionRegistry& store, std::string_view key,
                                       EndReason end_reason, const AdminWriteRequest& request,
                                       std::string_view what) {
  EngineContext& engine = store.engine();
  const StoreConfig& config = store.config();
  AdminWriteResult written;
  Status s = store.Exclusive(
      key, end_reason,
      [&](const std::string& claimed, const std::shared_ptr<LiveSession>& victim) {
        auto committed = CommitAdminWrite(engine.Transaction(), {config.name, claimed}, request);
        engine.critical_state().Record(committed.status());
        if (victim) {
          // A stuck holder fenced for the write: it learns exactly what it leaves unsaved.
          std::optional<bool> unsaved;
          if (committed.ok()) {
            unsaved = victim->UnsavedAgainst(committed->previous_payload,
                                             committed->previous_user_ids,
                                             committed->previous_metadata);
          }
          victim->EndOnce(EndReason::kStolen,
                          committed.ok() ? "fenced out by " + std::string(what)
                                         : "fenced for " + std::string(what) +
                                               " that failed: " + committed.status().ToString(),
                          unsaved);
        }
        if (!committed.ok()) return committed.status();
        written = std::move(*committed);
        return Status::Ok();
      });
  if (!s.ok()) return s;
  return written;
}

Result<uint64_t> EditProfile(SessionRegistry& store, std::string_view key,
                             std::string_view payload) {
  EngineContext& engine = store.engine();
  const StoreConfig& config = store.config();
  if (Status s = ValidateProfileKey(key); !s.ok()) return s;
  if (payload.size() > engine.options().max_payload_bytes) {
    return Status::InvalidArgument("payload of " + std::to_string(payload.size()) +
                                   " bytes is larger than max_payload_bytes (" +
                                   std::to_string(engine.options().max_payload_bytes) +
                                   "); nothing was changed");
  }
  // Checked before the key is claimed: claiming ends a live session, and a refused edit must
  // change nothing. The check is the one every save of the store passes (codec, validate).
  if (config.history.check) {
    // An admin edit is data in the server's current schema version (what a live session holds).
    Status valid = config.history.check(payload, config.settings.schema_version);
    if (valid.code() == StatusCode::kInternal) return valid;  // no verdict: the check threw
    if (!valid.ok()) {
      return Status::InvalidArgument("the store's check refuses the payload: " +
                                     valid.ToString() + "; nothing was changed");
    }
  }
  const std::string bytes(payload);
  AdminWriteRequest request;
  request.payload = &bytes;
  request.codec = config.codec;
  request.reason = VersionReason::kAdmin;
  request.schema_version = config.settings.schema_version;
  request.kind = CommitKind::kAdminWrite;
  request.history = &config.history;
  auto written = ClaimAndWrite(store, key, EndReason::kAdmin, request, "an admin edit");
  if (!written.ok()) return written.status();
  return written->version;
}

Result<ReleaseOutcome> ReleaseProfile(SessionRegistry& store, std::string_view key) {
  if (Status s = ValidateProfileKey(key); !s.ok()) return s;
  bool live_here = false;
  for (const auto& session : store.LiveSessions()) live_here |= session->key() == key;
  // Or a live session of another engine sharing the database (asked to hand off in the claim).
  if (!live_here && store.engine().storage().Shared()) {
    auto elsewhere =
        RequestPeerRelease(store.engine().Transaction(), {store.config().name, key}, false);
    if (!elsewhere.ok()) return elsewhere.status();
    live_here = elsewhere->has_value();
  }
  AdminWriteRequest request;
  request.codec = store.config().codec;
  request.kind = CommitKind::kAdminWrite;
  request.history = &store.config().history;
  request.only_if_locked = true;
  auto written = ClaimAndWrite(store, key, EndReason::kAdmin, request, "an admin release");
  if (!written.ok()) return written.status();
  if (written->was_locked) return ReleaseOutcome::kCleared;
  if (live_here) return ReleaseOutcome::kEnded;
  return Status::NotFound("profile '" + std::string(key) + "' is not held by any session");
}

}  // namespace holdfast::internal
