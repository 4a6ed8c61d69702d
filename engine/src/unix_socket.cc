#include "unix_socket.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace holdfast::internal {

std::string ErrnoText(int error) { return std::strerror(error); }

Result<UnixSocketAddress> UnixSocketAddress::In(const std::string& dir, std::string_view name) {
  UnixSocketAddress out;
  out.path_ = dir + "/" + std::string(name);
  out.address_.sun_family = AF_UNIX;
  std::string reachable = out.path_;
  if (reachable.size() >= sizeof(out.address_.sun_path)) {
    out.dir_fd_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (out.dir_fd_ < 0) {
      const int error = errno;
      return error == ENOENT ? Status::NotFound("no directory '" + dir + "'")
                             : Status::IOError("cannot open '" + dir + "': " + ErrnoText(error));
    }
    reachable = "/proc/self/fd/" + std::to_string(out.dir_fd_) + "/" + std::string(name);
    if (reachable.size() >= sizeof(out.address_.sun_path)) {
      return Status::InvalidArgument("socket name '" + std::string(name) + "' is too long");
    }
  }
  std::memcpy(out.address_.sun_path, reachable.c_str(), reachable.size() + 1);
  return out;
}

UnixSocketAddress::UnixSocketAddress(UnixSocketAddress&& other) noexcept
    : path_(std::move(other.path_)),
      address_(other.address_),
      dir_fd_(std::exchange(other.dir_fd_, -1)) {}

UnixSocketAddress& UnixSocketAddress::operator=(UnixSocketAddress&& other) noexcept {
  if (this != &other) {
    if (dir_fd_ >= 0) ::close(dir_fd_);
    path_ = std::move(other.path_);
    address_ = other.address_;
    dir_fd_ = std::exchange(other.dir_fd_, -1);
  }
  return *this;
}

UnixSocketAddress::~UnixSocketAddress() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

}  // namespace holdfast::internal
