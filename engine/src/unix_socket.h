// The address of a Unix stream socket inside a directory, for the admin socket's server and
// client. sockaddr_un holds a path of at most 107 bytes; a socket in a directory whose path is
// longer is reached through /proc/self/fd/N/<name>, N an open descriptor of the directory (the
// kernel resolves it to the same file).
//
// Thread safety: a value; distinct objects may be used from any thread.
#ifndef HOLDFAST_SRC_UNIX_SOCKET_H_
#define HOLDFAST_SRC_UNIX_SOCKET_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast::internal {

class UnixSocketAddress {
 public:
  // The socket `name` in `dir`. NotFound when `dir` does not exist (for a long path, which is
  // opened); InvalidArgument when `name` is too long even so.
  static Result<UnixSocketAddress> In(const std::string& dir, std::string_view name);

  UnixSocketAddress(UnixSocketAddress&& other) noexcept;
  UnixSocketAddress& operator=(UnixSocketAddress&& other) noexcept;
  UnixSocketAddress(const UnixSocketAddress&) = delete;
  UnixSocketAddress& operator=(const UnixSocketAddress&) = delete;
  ~UnixSocketAddress();

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t length() const { return sizeof(address_); }
  // The path to give the file system calls (lstat, chmod, unlink): the socket's own path, or its
  // /proc/self/fd form.
  const char* reachable_path() const { return address_.sun_path; }
  // The socket's path as the user named it, for messages.
  const std::string& path() const { return path_; }

 private:
  UnixSocketAddress() = default;

  std::string path_;
  sockaddr_un address_{};
  int dir_fd_ = -1;  // open while the /proc/self/fd form is in use
};

// errno as text ("Connection refused").
std::string ErrnoText(int error);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_UNIX_SOCKET_H_
