// RawSession: the public byte-level handle, forwarding to its LiveSession (RawSession::Impl).
#include <algorithm>

#include "holdfast/limits.h"
#include "holdfast/session.h"
#include "live_session.h"

namespace holdfast {

std::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kManual:
      return "manual";
    case EndReason::kExternal:
      return "external";
    case EndReason::kShutdown:
      return "shutdown";
    case EndReason::kStolen:
      return "stolen";
    case EndReason::kLockLost:
      return "lock-lost";
    case EndReason::kRollback:
      return "rollback";
    case EndReason::kRemoved:
      return "removed";
    case EndReason::kAdmin:
      return "admin";
  }
  return "unknown";
}

namespace {
Status NoSession() { return Status::InvalidArgument("empty session handle"); }
}  // namespace

Status RawSession::Save() { return impl_ ? impl_->Save() : NoSession(); }
Status RawSession::EndSession() { return impl_ ? impl_->EndSession() : NoSession(); }
bool RawSession::IsActive() const { return impl_ && impl_->IsActive(); }
Status RawSession::EditStatus() const { return impl_ ? impl_->EditStatus() : NoSession(); }
ProfileInfo RawSession::Info() const { return impl_ ? impl_->Info() : ProfileInfo{}; }
std::string RawSession::LastSavedBytes() const { return impl_ ? impl_->LastSavedBytes() : ""; }

Status RawSession::AddUserId(int64_t id) {
  if (!impl_) return NoSession();
  return impl_->EditUserIds([id](std::vector<int64_t>& ids) { ids.push_back(id); });
}

Status RawSession::RemoveUserId(int64_t id) {
  if (!impl_) return NoSession();
  return impl_->EditUserIds([id](std::vector<int64_t>& ids) {
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  });
}

Status RawSession::SetMetadata(std::string_view key, std::string_view value) {
  if (!impl_) return NoSession();
  if (key.empty() || key.size() > kMaxMetadataKeyBytes) {
    return Status::InvalidArgument("a metadata key must be 1-" +
                                   std::to_string(kMaxMetadataKeyBytes) + " bytes");
  }
  if (value.size() > kMaxMetadataValueBytes) {
    return Status::InvalidArgument("a metadata value must be at most " +
                                   std::to_string(kMaxMetadataValueBytes) + " bytes");
  }
  return impl_->EditMetadata([&](std::map<std::string, std::string>& m) {
    if (m.size() >= kMaxMetadataEntries && m.count(std::string(key)) == 0) {
      return Status::InvalidArgument("a profile holds at most " +
                                     std::to_string(kMaxMetadataEntries) +
                                     " metadata entries (kMaxMetadataEntries); nothing was changed");
    }
    m[std::string(key)] = std::string(value);
    return Status::Ok();
  });
}

Status RawSession::EraseMetadata(std::string_view key) {
  if (!impl_) return NoSession();
  return impl_->EditMetadata([&](std::map<std::string, std::string>& m) {
    m.erase(std::string(key));
    return Status::Ok();
  });
}

std::optional<std::string> RawSession::Metadata(std::string_view key) const {
  return impl_ ? impl_->Metadata(key) : std::nullopt;
}

void RawSession::OnSave(std::function<void()> fn) {
  if (impl_) impl_->SetOnSave(std::move(fn));
}
void RawSession::OnLastSave(std::function<void(EndReason)> fn) {
  if (impl_) impl_->SetOnLastSave(std::move(fn));
}
void RawSession::OnAfterSave(std::function<void(std::string_view)> fn) {
  if (impl_) impl_->SetOnAfterSave(std::move(fn));
}
void RawSession::OnSessionEnd(std::function<void(const SessionEnd&)> fn) {
  if (impl_) impl_->SetOnSessionEnd(std::move(fn));
}
void RawSession::SetMessageHandler(MessageHandler fn) {
  if (impl_) impl_->SetMessageHandler(std::move(fn));
}
}  // namespace holdfast
