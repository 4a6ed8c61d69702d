// What the admin socket does with one request frame: decode it (garbage gets an error response),
// run it as one AdminService call — on the engine's own Admin, so it goes through the public API
// and the session lock like any game-server call — and encode the answer.
//
// Thread safety: as the AdminService it is given.
#ifndef HOLDFAST_SRC_ADMIN_DISPATCH_H_
#define HOLDFAST_SRC_ADMIN_DISPATCH_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "admin_frame.h"
#include "holdfast/admin.h"

namespace holdfast::internal {

// Runs `request` on `admin`; a failed call is a response carrying its status.
AdminResponse RunAdminRequest(AdminService& admin, const AdminRequest& request);

// The response body for the request body `body`: InvalidArgument for a frame that does not
// decode; ResourceExhausted when the answer would be larger than `max_frame_bytes`.
std::string HandleAdminFrame(AdminService& admin, std::string_view body, size_t max_frame_bytes);

// A response body carrying only `status` (not OK).
std::string AdminErrorFrame(const Status& status);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ADMIN_DISPATCH_H_
