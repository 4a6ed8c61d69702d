// A live session's state as its handles see and change it: whether it is active, its info,
// user ids and metadata (saved with the next save), its data slot and its signal handlers.
#include <algorithm>

#include "live_session.h"

namespace holdfast {

bool RawSession::Impl::IsActive() const {
  internal::MutexLock lock(mu_);
  return !fenced_;
}

Status RawSession::Impl::EditStatus() const {
  internal::MutexLock lock(mu_);
  if (fenced_ || sealed_for_) return EndedStatus();
  return Status::Ok();
}

ProfileInfo RawSession::Impl::Info() const {
  internal::MutexLock lock(mu_);
  ProfileInfo info;
  info.store = store_->name;
  info.key = key_;
  info.version = version_;
  info.epoch = epoch_;
  info.session_id = session_id_;
  info.created_unix_ms = created_unix_ms_;
  info.updated_unix_ms = updated_unix_ms_;
  info.load_count = load_count_;
  info.first_session_unix_ms = first_session_unix_ms_;
  info.user_ids = user_ids_;
  return info;
}

uint32_t RawSession::Impl::StoredSchemaVersion() const {
  internal::MutexLock lock(mu_);
  return stored_schema_version_;
}

Status RawSession::Impl::EditUserIds(const std::function<void(std::vector<int64_t>&)>& edit) {
  internal::MutexLock lock(mu_);
  if (fenced_ || sealed_for_) return EndedStatus();
  std::vector<int64_t> edited = user_ids_;
  edit(edited);
  std::sort(edited.begin(), edited.end());
  edited.erase(std::unique(edited.begin(), edited.end()), edited.end());
  if (edited.size() > kMaxUserIdsPerProfile) {
    return Status::InvalidArgument("a profile holds at most " +
                                   std::to_string(kMaxUserIdsPerProfile) +
                                   " user ids (kMaxUserIdsPerProfile); nothing was changed");
  }
  if (edited == user_ids_) return Status::Ok();
  user_ids_ = std::move(edited);
  ++meta_generation_;
  return Status::Ok();
}

Status RawSession::Impl::EditMetadata(
    const std::function<Status(std::map<std::string, std::string>&)>& edit) {
  internal::MutexLock lock(mu_);
  if (fenced_ || sealed_for_) return EndedStatus();
  std::map<std::string, std::string> edited = metadata_;
  if (Status s = edit(edited); !s.ok()) return s;
  if (edited == metadata_) return Status::Ok();  // nothing to save
  metadata_ = std::move(edited);
  ++meta_generation_;
  return Status::Ok();
}

std::optional<std::string> RawSession::Impl::Metadata(std::string_view key) const {
  internal::MutexLock lock(mu_);
  auto it = metadata_.find(std::string(key));
  if (it == metadata_.end()) return std::nullopt;
  return it->second;
}

void RawSession::Impl::SetData(std::shared_ptr<SessionData> data) {
  if (!data) return;
  // Read before taking mu_ (lock order: the data lock, then mu_). The data just decoded from
  // the loaded payload counts as that payload.
  std::optional<uint64_t> changes;
  try {
    changes = data->ChangeCount();
  } catch (...) {  // a SessionData that cannot count: saves compare bytes instead
  }
  internal::MutexLock lock(mu_);
  slot_ = std::move(data);
  saved_changes_ = changes;
  // The slot holds the data now; the digest and the stored version stand for the last save.
  std::string().swap(last_saved_);
  last_saved_kept_ = false;
}

void RawSession::Impl::SetHandlers(const SessionOptions& options) {
  internal::MutexLock lock(mu_);
  on_save_ = options.on_save;
  on_last_save_ = options.on_last_save;
  on_session_end_ = options.on_session_end;
  on_message_ = options.on_message;
}

void RawSession::Impl::SetOnSave(std::function<void()> fn) {
  internal::MutexLock lock(mu_);
  if (ended_) return;  // it could never run, and it may hold the handle (ClearHandlers)
  on_save_ = std::move(fn);
}

void RawSession::Impl::SetOnLastSave(std::function<void(EndReason)> fn) {
  internal::MutexLock lock(mu_);
  if (ended_) return;  // it could never run, and it may hold the handle (ClearHandlers)
  on_last_save_ = std::move(fn);
}

void RawSession::Impl::SetOnAfterSave(std::function<void(std::string_view)> fn) {
  internal::MutexLock lock(mu_);
  if (ended_) return;  // it could never run, and it may hold the handle (ClearHandlers)
  on_after_save_ = std::move(fn);
}

void RawSession::Impl::SetOnSessionEnd(std::function<void(const SessionEnd&)> fn) {
  std::optional<SessionEnd> missed;
  {
    internal::MutexLock lock(mu_);
    // A session can end before its handler is connected (a handoff right after the start):
    // deliver that end now, once, rather than never. Either way an ended session keeps no
    // handler (ClearHandlers).
    if (!ended_) {
      on_session_end_ = fn;
    } else if (!end_notified_ && fn) {
      end_notified_ = true;
      missed = ended_;
    }
  }
  if (missed) fn(*missed);
}

}  // namespace holdfast
