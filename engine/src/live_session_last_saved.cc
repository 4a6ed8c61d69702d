// What a live session knows of what it last stored, without keeping a second copy of the
// payload while it lives: the data's change count says "not edited since", a digest says
// "different", and only an edited payload whose digest is equal is compared with the bytes of
// the stored version. An ended session keeps its last saved bytes in memory, so that its handles
// can still read them after the engine closed — unless its final save stored the data's last
// state (sealed, count unchanged): the data's encoding answers then.
#include "crc32c.h"
#include "key_codec.h"
#include "live_session.h"
#include "version_history.h"

namespace holdfast {

namespace internal {
PayloadDigest PayloadDigest::Of(std::string_view bytes) { return {Crc32c(bytes), bytes.size()}; }
}  // namespace internal

std::string RawSession::Impl::LastSavedBytes() const {
  std::shared_ptr<SessionData> slot;
  std::optional<uint64_t> saved_changes;
  uint64_t version = 0;
  {
    internal::MutexLock lock(mu_);
    if (last_saved_kept_) return last_saved_;
    slot = slot_;
    saved_changes = saved_changes_;
    version = version_;
  }
  // Not edited since the last save (or the load): the data is what was stored, so its encoding
  // answers without reading storage. The count is read on both sides of the encoding: equal
  // both times, no edit can have slipped in between.
  if (std::optional<std::string> unedited = EncodeIfUnedited(*slot, saved_changes)) {
    return std::move(*unedited);
  }
  auto stored = StoredPayload(version);
  if (stored.ok()) return std::move(*stored);
  ErrorEvent event;
  event.store = store_->name;
  event.key = key_;
  event.operation = FailedOperation::kLastSavedData;
  event.status = stored.status().WithContext("reading the version this session last stored (" +
                                             std::to_string(version) + ")");
  engine_->ReportError(event);
  return std::string();
}

std::optional<std::string> RawSession::Impl::EncodeIfUnedited(
    SessionData& slot, std::optional<uint64_t> saved_changes) const {
  // Inside Edit or Read of this profile the data lock is this thread's already: encoding would
  // wait for it forever, so the stored version answers instead.
  if (!saved_changes || slot.HeldByThisThread()) return std::nullopt;
  try {
    if (slot.ChangeCount() != saved_changes) return std::nullopt;
    auto encoded = slot.Encode(nullptr);
    if (!encoded.ok() || slot.ChangeCount() != saved_changes) return std::nullopt;
    return std::move(*encoded);
  } catch (...) {
    return std::nullopt;  // the stored version answers instead
  }
}

bool RawSession::Impl::HasUnsavedChanges() {
  std::optional<uint64_t> changes;
  auto encoded = Encode(std::nullopt, &changes);
  if (!encoded.ok() || !MatchesLastSaved(*encoded, changes)) return true;
  internal::MutexLock lock(mu_);
  return meta_generation_ != meta_saved_generation_;
}

void RawSession::Impl::KeepLastSaved() {
  uint64_t version = 0;
  {
    internal::MutexLock lock(mu_);
    // After a final save, the bytes are kept already, or the data's encoding is them for good
    // (SaveStored).
    if (last_saved_kept_ || final_committed_) return;
    version = version_;
  }
  auto stored = StoredPayload(version);
  if (!stored.ok()) return;  // LastSavedBytes tries again, and answers empty if it still fails
  internal::MutexLock lock(mu_);
  if (last_saved_kept_ || version != version_) return;
  last_saved_ = std::move(*stored);
  last_saved_kept_ = true;
}

bool RawSession::Impl::MatchesLastSaved(std::string_view payload,
                                        std::optional<uint64_t> changes) const {
  uint64_t version = 0;
  {
    internal::MutexLock lock(mu_);
    if (last_saved_kept_) return payload == last_saved_;
    // Not edited since the snapshot the last save stored (or since it was loaded).
    if (changes && changes == saved_changes_) return true;
    if (internal::PayloadDigest::Of(payload) != saved_digest_) return false;
    version = version_;
  }
  // Equal digests: compare the bytes. The version this session last stored or loaded holds
  // them (version records never change, and the newest one is never pruned while it is ours).
  auto stored = StoredPayload(version);
  return stored.ok() && *stored == payload;
}

Result<std::string> RawSession::Impl::StoredPayload(uint64_t version) const {
  auto record = internal::ReadVersion(engine_->storage(),
                                      internal::EncodeProfileKey(store_->name, key_), version);
  if (!record.ok()) return record.status();
  return std::move(record->payload);
}

bool RawSession::Impl::UnsavedAgainst(std::string_view stored_payload,
                                      const std::vector<int64_t>& stored_user_ids,
                                      const std::map<std::string, std::string>& stored_metadata) {
  auto encoded = Encode(std::nullopt);
  internal::MutexLock lock(mu_);
  return !encoded.ok() || *encoded != stored_payload || user_ids_ != stored_user_ids ||
         metadata_ != stored_metadata;
}

}  // namespace holdfast
