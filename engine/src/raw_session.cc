// RawSession: the public byte-level handle, forwarding to SessionCore.
#include "holdfast/session.h"
#include "session_core.h"

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
  }
  return "unknown";
}

namespace {
Status NoSession() { return Status::InvalidArgument("empty session handle"); }
}  // namespace

Status RawSession::Save() { return core_ ? core_->Save() : NoSession(); }
Status RawSession::EndSession() { return core_ ? core_->Finish(EndReason::kManual) : NoSession(); }
bool RawSession::IsActive() const { return core_ && core_->IsActive(); }
Status RawSession::EditStatus() const { return core_ ? core_->EditStatus() : NoSession(); }
ProfileInfo RawSession::Info() const { return core_ ? core_->Info() : ProfileInfo{}; }
std::string RawSession::LastSavedBytes() const { return core_ ? core_->LastSavedBytes() : ""; }

Status RawSession::AddUserId(int64_t id) {
  if (!core_) return NoSession();
  return core_->EditUserIds([id](std::vector<int64_t>& ids) { ids.push_back(id); });
}

Status RawSession::RemoveUserId(int64_t id) {
  if (!core_) return NoSession();
  return core_->EditUserIds([id](std::vector<int64_t>& ids) {
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  });
}

Status RawSession::SetMetadata(std::string_view key, std::string_view value) {
  if (!core_) return NoSession();
  if (key.empty()) return Status::InvalidArgument("metadata key is empty");
  return core_->EditMetadata([&](std::map<std::string, std::string>& m) {
    m[std::string(key)] = std::string(value);
    return Status::Ok();
  });
}

Status RawSession::EraseMetadata(std::string_view key) {
  if (!core_) return NoSession();
  return core_->EditMetadata([&](std::map<std::string, std::string>& m) {
    m.erase(std::string(key));
    return Status::Ok();
  });
}

std::optional<std::string> RawSession::Metadata(std::string_view key) const {
  return core_ ? core_->Metadata(key) : std::nullopt;
}

void RawSession::OnSave(std::function<void()> fn) {
  if (core_) core_->SetOnSave(std::move(fn));
}
void RawSession::OnLastSave(std::function<void(EndReason)> fn) {
  if (core_) core_->SetOnLastSave(std::move(fn));
}
void RawSession::OnAfterSave(std::function<void(std::string_view)> fn) {
  if (core_) core_->SetOnAfterSave(std::move(fn));
}
void RawSession::OnSessionEnd(std::function<void(const SessionEnd&)> fn) {
  if (core_) core_->SetOnSessionEnd(std::move(fn));
}
void RawSession::AttachSlot(std::shared_ptr<DataSlot> slot) {
  if (core_) core_->AttachSlot(std::move(slot));
}

}  // namespace holdfast
