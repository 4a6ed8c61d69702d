#include "admin_dispatch.h"

#include <utility>

namespace holdfast::internal {
namespace {

// Moves a call's value into `field` of the response, or its status.
template <typename T, typename Field>
AdminResponse Answer(Result<T> result, Field AdminResponse::*field) {
  AdminResponse response;
  if (!result.ok()) {
    response.status = result.status();
  } else {
    response.*field = std::move(*result);
  }
  return response;
}

AdminResponse StatusOnly(Status status) {
  AdminResponse response;
  response.status = std::move(status);
  return response;
}

AdminResponse Number(Result<uint64_t> result) {
  return Answer(std::move(result), &AdminResponse::number);
}

}  // namespace

AdminResponse RunAdminRequest(AdminService& admin, const AdminRequest& r) {
  switch (r.op) {
    case AdminOp::kInfo:
      return Answer(admin.Info(), &AdminResponse::info);
    case AdminOp::kRegistration: {
      auto registration = admin.Registration(r.store);
      if (!registration.ok()) return StatusOnly(registration.status());
      AdminResponse response;
      response.registration = std::move(*registration);
      return response;
    }
    case AdminOp::kStats: {
      auto stats = admin.Stats();
      if (!stats.ok()) return StatusOnly(stats.status());
      AdminResponse response;
      response.stats = *stats;
      return response;
    }
    case AdminOp::kStores:
      return Answer(admin.Stores(), &AdminResponse::stores);
    case AdminOp::kProfiles:
      return Answer(admin.Profiles(r.store, r.profiles), &AdminResponse::profiles);
    case AdminOp::kLocks:
      return Answer(admin.Locks(r.store), &AdminResponse::locks);
    case AdminOp::kInspect: {
      auto details = admin.Inspect(r.store, r.key, r.version);
      if (!details.ok()) return StatusOnly(details.status());
      AdminResponse response;
      response.details = std::move(*details);
      return response;
    }
    case AdminOp::kVersions:
      return Answer(admin.Versions(r.store, r.key, r.versions), &AdminResponse::versions);
    case AdminOp::kFindByUserId:
      return Answer(admin.FindByUserId(r.user_id), &AdminResponse::locations);
    case AdminOp::kVerify:
      return Answer(admin.Verify(r.store), &AdminResponse::verify);
    case AdminOp::kCheckpoint:
      return StatusOnly(admin.Checkpoint(r.path));
    case AdminOp::kCompact:
      return StatusOnly(admin.Compact());
    case AdminOp::kRollback:
      if (!r.version) return StatusOnly(Status::InvalidArgument("rollback needs a version"));
      return Number(admin.Rollback(r.store, r.key, *r.version));
    case AdminOp::kRollbackTo:
      return Number(admin.RollbackTo(r.store, r.key, r.unix_ms));
    case AdminOp::kEdit:
      return Number(admin.Edit(r.store, r.key, r.payload));
    case AdminOp::kRelease: {
      auto released = admin.Release(r.store, r.key);
      if (!released.ok()) return StatusOnly(released.status());
      AdminResponse response;
      response.number = static_cast<uint64_t>(*released);
      return response;
    }
    case AdminOp::kMessage:
      return StatusOnly(admin.Message(r.store, r.key, r.payload));
    case AdminOp::kErase:
      return StatusOnly(admin.Erase(r.store, r.key));
    case AdminOp::kEraseUser:
      return Answer(admin.EraseUser(r.user_id), &AdminResponse::locations);
    case AdminOp::kUnknown:
      break;
  }
  return StatusOnly(Status::InvalidArgument("unknown admin operation"));
}

std::string AdminErrorFrame(const Status& status) {
  return EncodeAdminResponse(StatusOnly(status));
}

std::string HandleAdminFrame(AdminService& admin, std::string_view body, size_t max_frame_bytes) {
  auto request = DecodeAdminRequest(body);
  if (!request.ok()) {
    return AdminErrorFrame(
        Status::InvalidArgument(request.status().message() + "; nothing was changed"));
  }
  std::string response = EncodeAdminResponse(RunAdminRequest(admin, *request));
  if (response.size() > max_frame_bytes) {
    return AdminErrorFrame(Status::ResourceExhausted(
        "the answer is " + std::to_string(response.size()) +
        " bytes, more than the admin socket's frame limit (" + std::to_string(max_frame_bytes) +
        " bytes); ask for less (a --limit, one store)"));
  }
  return response;
}

}  // namespace holdfast::internal
