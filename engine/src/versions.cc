// The name table of holdfast::VersionReason (holdfast/versions.h).
#include "holdfast/versions.h"

namespace holdfast {

std::string_view VersionReasonName(VersionReason reason) {
  switch (reason) {
    case VersionReason::kSave:
      return "save";
    case VersionReason::kEndSession:
      return "end-session";
    case VersionReason::kHandoff:
      return "handoff";
    case VersionReason::kRollback:
      return "rollback";
    case VersionReason::kCorruptionRecovery:
      return "corruption-recovery";
    case VersionReason::kQuarantine:
      return "quarantine";
    case VersionReason::kAdmin:
      return "admin";
    case VersionReason::kCreate:
      return "create";
    case VersionReason::kSteal:
      return "steal";
    case VersionReason::kShutdown:
      return "shutdown";
    case VersionReason::kTrade:
      return "trade";
  }
  return "unknown";
}

}  // namespace holdfast
