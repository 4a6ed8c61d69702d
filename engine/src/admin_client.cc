// AdminClient: one connection to a running engine's admin socket. Each call encodes an
// AdminRequest (admin_frame), writes it as one length-prefixed frame, reads one frame back and
// decodes the AdminResponse; the server runs it (admin_socket, admin_dispatch).
#include "holdfast/admin_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "admin_frame.h"
#include "pg_connection.h"
#include "unix_socket.h"

namespace holdfast {

using internal::AdminOp;
using internal::AdminRequest;
using internal::AdminResponse;
using SteadyClock = std::chrono::steady_clock;

class AdminClient::Impl {
 public:
  Impl(int fd, std::string path, AdminClientOptions options)
      : fd_(fd), path_(std::move(path)), options_(options) {}
  ~Impl() { ::close(fd_); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // One request and its answer; the answer's own status when it carries one.
  Result<AdminResponse> Call(const AdminRequest& request) {
    if (broken_) return Status::IOError("admin socket '" + path_ + "': the connection was lost");
    const SteadyClock::time_point deadline = SteadyClock::now() + options_.timeout;
    const std::string body = internal::EncodeAdminRequest(request);
    std::string frame = internal::AdminFrameHeader(body.size()) + body;
    // A server that refuses this peer answers and closes at once: a failed write still leaves
    // its answer to read.
    Status sent = Send(frame, deadline);
    std::string header;
    Status received = Receive(internal::kAdminFrameHeaderBytes, deadline, &header);
    if (!received.ok()) {
      broken_ = true;
      return sent.ok() ? received : sent;
    }
    const uint32_t length = internal::ReadAdminFrameHeader(header.data());
    if (length > options_.max_frame_bytes) {
      broken_ = true;
      return Status::InvalidArgument("admin socket '" + path_ + "': an answer of " +
                                     std::to_string(length) + " bytes is over the limit of " +
                                     std::to_string(options_.max_frame_bytes));
    }
    std::string answer;
    if (Status s = Receive(length, deadline, &answer); !s.ok()) {
      broken_ = true;
      return s;
    }
    auto response = internal::DecodeAdminResponse(answer);
    if (!response.ok()) {
      broken_ = true;
      return response.status().WithContext("the answer of admin socket '" + path_ + "'");
    }
    if (!response->status.ok()) return response->status;
    return response;
  }

 private:
  // Waits until the socket is ready for `events`; TimedOut past `deadline`.
  Status Wait(short events, SteadyClock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - SteadyClock::now())
                            .count();
      if (left <= 0) {
        return Status::TimedOut("admin socket '" + path_ + "': no answer within " +
                                std::to_string(options_.timeout.count()) + " ms");
      }
      pollfd polled{fd_, events, 0};
      const int n = ::poll(&polled, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
      if (n > 0) return Status::Ok();
      if (n < 0 && errno != EINTR) return Failed("poll", errno);
    }
  }

  Status Send(std::string_view bytes, SteadyClock::time_point deadline) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (Status s = Wait(POLLOUT, deadline); !s.ok()) return s;
      } else if (n < 0 && errno != EINTR) {
        return Failed("send", errno);
      }
    }
    return Status::Ok();
  }

  Status Receive(size_t size, SteadyClock::time_point deadline, std::string* out) {
    out->assign(size, '\0');
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::recv(fd_, out->data() + got, size - got, MSG_DONTWAIT);
      if (n > 0) {
        got += static_cast<size_t>(n);
      } else if (n == 0) {
        return Status::IOError("admin socket '" + path_ +
                               "': the server closed the connection before answering");
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (Status s = Wait(POLLIN, deadline); !s.ok()) return s;
      } else if (errno != EINTR) {
        return Failed("recv", errno);
      }
    }
    return Status::Ok();
  }

  Status Failed(const char* call, int error) const {
    return Status::IOError("admin socket '" + path_ + "': " + call + ": " +
                           internal::ErrnoText(error));
  }

  const int fd_;
  const std::string path_;
  const AdminClientOptions options_;
  bool broken_ = false;  // a failed exchange leaves the stream out of step: no further calls
};

namespace {

// The call's answer moved out of `field`, or its failure.
template <typename T>
Result<T> Take(Result<AdminResponse> response, T AdminResponse::*field) {
  if (!response.ok()) return response.status();
  return std::move((*response).*field);
}

Status StatusOf(const Result<AdminResponse>& response) { return response.status(); }

AdminRequest Request(AdminOp op, std::string_view store = {}, std::string_view key = {}) {
  AdminRequest request;
  request.op = op;
  request.store = std::string(store);
  request.key = std::string(key);
  return request;
}

}  // namespace

Result<std::unique_ptr<AdminClient>> AdminClient::Connect(const std::string& db_path,
                                                          AdminClientOptions options) {
  if (internal::IsPostgresTarget(db_path)) {
    // Engines on a shared database serve no socket: open the database instead (Engine::Open).
    return Status::NotFound("a PostgreSQL database has no admin socket");
  }
  auto address = internal::UnixSocketAddress::In(db_path, kAdminSocketName);
  if (!address.ok()) {
    if (address.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no admin socket at '" + db_path + "/" +
                              std::string(kAdminSocketName) + "'");
    }
    return address.status();
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("socket: " + internal::ErrnoText(errno));
  if (::connect(fd, address->address(), address->length()) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR) {
      return Status::NotFound("no engine answers on the admin socket '" + address->path() +
                              "' (" + internal::ErrnoText(error) + ")");
    }
    return Status::IOError("cannot connect to the admin socket '" + address->path() +
                           "': " + internal::ErrnoText(error));
  }
  return std::unique_ptr<AdminClient>(
      new AdminClient(std::make_unique<Impl>(fd, address->path(), options)));
}

AdminClient::AdminClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminClient::~AdminClient() = default;

Result<EngineInfo> AdminClient::Info() {
  return Take(impl_->Call(Request(AdminOp::kInfo)), &AdminResponse::info);
}

Result<StoreRegistration> AdminClient::Registration(std::string_view store) {
  auto response = impl_->Call(Request(AdminOp::kRegistration, store));
  if (!response.ok()) return response.status();
  if (!response->registration) {
    return Status::InvalidArgument("the server's answer has no registration");
  }
  return std::move(*response->registration);
}

Result<EngineStats> AdminClient::Stats() {
  auto response = impl_->Call(Request(AdminOp::kStats));
  if (!response.ok()) return response.status();
  if (!response->stats) return Status::InvalidArgument("the server's answer has no statistics");
  return *response->stats;
}

Result<std::vector<StoreSummary>> AdminClient::Stores() {
  return Take(impl_->Call(Request(AdminOp::kStores)), &AdminResponse::stores);
}

Result<ProfileList> AdminClient::Profiles(std::string_view store, const ProfileQuery& query) {
  AdminRequest request = Request(AdminOp::kProfiles, store);
  request.profiles = query;
  return Take(impl_->Call(request), &AdminResponse::profiles);
}

Result<std::vector<HeldLock>> AdminClient::Locks(std::string_view store) {
  return Take(impl_->Call(Request(AdminOp::kLocks, store)), &AdminResponse::locks);
}

Result<ProfileDetails> AdminClient::Inspect(std::string_view store, std::string_view key,
                                            std::optional<uint64_t> version) {
  AdminRequest request = Request(AdminOp::kInspect, store, key);
  request.version = version;
  auto response = impl_->Call(request);
  if (!response.ok()) return response.status();
  if (!response->details) return Status::InvalidArgument("the server's answer has no profile");
  return std::move(*response->details);
}

Result<std::vector<VersionInfo>> AdminClient::Versions(std::string_view store,
                                                       std::string_view key,
                                                       const VersionQuery& query) {
  AdminRequest request = Request(AdminOp::kVersions, store, key);
  request.versions = query;
  return Take(impl_->Call(request), &AdminResponse::versions);
}

Result<std::vector<ProfileLocation>> AdminClient::FindByUserId(int64_t user_id) {
  AdminRequest request = Request(AdminOp::kFindByUserId);
  request.user_id = user_id;
  return Take(impl_->Call(request), &AdminResponse::locations);
}

Result<VerifyReport> AdminClient::Verify(std::string_view store) {
  return Take(impl_->Call(Request(AdminOp::kVerify, store)), &AdminResponse::verify);
}

Status AdminClient::Checkpoint(const std::string& dir) {
  AdminRequest request = Request(AdminOp::kCheckpoint);
  request.path = dir;
  return StatusOf(impl_->Call(request));
}

Status AdminClient::Compact() { return StatusOf(impl_->Call(Request(AdminOp::kCompact))); }

Result<uint64_t> AdminClient::Rollback(std::string_view store, std::string_view key,
                                       uint64_t version) {
  AdminRequest request = Request(AdminOp::kRollback, store, key);
  request.version = version;
  return Take(impl_->Call(request), &AdminResponse::number);
}

Result<uint64_t> AdminClient::RollbackTo(std::string_view store, std::string_view key,
                                         int64_t unix_ms) {
  AdminRequest request = Request(AdminOp::kRollbackTo, store, key);
  request.unix_ms = unix_ms;
  return Take(impl_->Call(request), &AdminResponse::number);
}

Result<uint64_t> AdminClient::Edit(std::string_view store, std::string_view key,
                                   std::string_view payload) {
  AdminRequest request = Request(AdminOp::kEdit, store, key);
  request.payload = std::string(payload);
  return Take(impl_->Call(request), &AdminResponse::number);
}

Result<ReleaseOutcome> AdminClient::Release(std::string_view store, std::string_view key) {
  auto number = Take(impl_->Call(Request(AdminOp::kRelease, store, key)), &AdminResponse::number);
  if (!number.ok()) return number.status();
  if (*number > static_cast<uint64_t>(ReleaseOutcome::kCleared)) {
    return Status::InvalidArgument("the server's answer names an unknown release outcome");
  }
  return static_cast<ReleaseOutcome>(*number);
}

Status AdminClient::Message(std::string_view store, std::string_view key,
                            std::string_view payload) {
  AdminRequest request = Request(AdminOp::kMessage, store, key);
  request.payload = std::string(payload);
  return StatusOf(impl_->Call(request));
}

Status AdminClient::Erase(std::string_view store, std::string_view key) {
  return StatusOf(impl_->Call(Request(AdminOp::kErase, store, key)));
}

Result<std::vector<ProfileLocation>> AdminClient::EraseUser(int64_t user_id) {
  AdminRequest request = Request(AdminOp::kEraseUser);
  request.user_id = user_id;
  return Take(impl_->Call(request), &AdminResponse::locations);
}

}  // namespace holdfast
