#include "admin_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include "admin_dispatch.h"
#include "admin_frame.h"

namespace holdfast::internal {

using SteadyClock = std::chrono::steady_clock;

// Bytes read from one connection per turn, so that one fast sender cannot starve the others.
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kListenBacklog = 16;

struct AdminSocketServer::Connection {
  int fd = -1;
  std::string in;   // received, not yet answered
  std::string out;  // answers not yet written
  SteadyClock::time_point last_activity;
  bool close_after_write = false;  // a refusal or a bad frame: close once `out` is written
  bool peer_done = false;          // the peer shut down its side: close once `out` is written
};

namespace {

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

// Writes as much of `out` as the socket takes now; false on a failure other than "would block".
bool WriteSome(int fd, std::string& out) {
  while (!out.empty()) {
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

std::string Framed(const std::string& body) { return AdminFrameHeader(body.size()) + body; }

}  // namespace

Result<std::unique_ptr<AdminSocketServer>> AdminSocketServer::Start(const std::string& dir,
                                                                     const AdminSocketLimits& limits,
                                                                     Handler handler) {
  auto address = UnixSocketAddress::In(dir, kAdminSocketName);
  if (!address.ok()) return address.status().WithContext("admin socket");
  const std::string& path = address->path();
  auto fail = [&](const std::string& what, int error) {
    return Status::IOError("admin socket '" + path + "': " + what + ": " + ErrnoText(error) +
                           " (EngineOptions::admin_socket = false opens without it)");
  };
  struct stat existing{};
  if (::lstat(address->reachable_path(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      return Status::IOError("admin socket '" + path +
                             "': a file that is not a socket is in the way; remove it (or set "
                             "EngineOptions::admin_socket = false)");
    }
    // Left by a process that is gone: this process holds the database, so nobody serves it.
    if (::unlink(address->reachable_path()) != 0) return fail("removing a stale socket", errno);
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", errno);
  // Owner-only before anyone can connect: a bound socket refuses connections until listen().
  if (::bind(fd, address->address(), address->length()) != 0) {
    const int error = errno;
    CloseFd(fd);
    return fail("bind", error);
  }
  struct stat created{};
  if (::chmod(address->reachable_path(), 0600) != 0 ||
      ::lstat(address->reachable_path(), &created) != 0 || ::listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    CloseFd(fd);
    ::unlink(address->reachable_path());
    return fail("chmod, stat or listen", error);
  }
  int wake[2];
  if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    const int error = errno;
    CloseFd(fd);
    ::unlink(address->reachable_path());
    return fail("pipe", error);
  }
  std::unique_ptr<AdminSocketServer> server(new AdminSocketServer(
      std::move(*address), limits, std::move(handler), fd, wake[0], wake[1], created.st_ino));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

AdminSocketServer::AdminSocketServer(UnixSocketAddress address, const AdminSocketLimits& limits,
                                     Handler handler, int listen_fd, int wake_read,
                                     int wake_write, ino_t inode)
    : address_(std::move(address)),
      limits_(limits),
      handler_(std::move(handler)),
      listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      inode_(inode),
      uid_(::geteuid()) {}

AdminSocketServer::~AdminSocketServer() { Stop(); }

void AdminSocketServer::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const char wake = 'x';
  while (::write(wake_write_, &wake, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  // Remove the socket only if it is still the one this server made.
  struct stat now{};
  if (::lstat(address_.reachable_path(), &now) == 0 && now.st_ino == inode_) {
    ::unlink(address_.reachable_path());
  }
  CloseFd(listen_fd_);
  CloseFd(wake_read_);
  CloseFd(wake_write_);
}

void AdminSocketServer::Refuse(int fd, const Status& why) const {
  std::string frame = Framed(AdminErrorFrame(why));
  (void)WriteSome(fd, frame);  // best effort: the connection closes either way
  CloseFd(fd);
}

void AdminSocketServer::AcceptAll(std::vector<Connection>& connections) {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left (other errors: try again at the next wake-up)
    }
    ucred peer{};
    socklen_t size = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
      Refuse(fd, Status::InvalidArgument("the admin socket could not read the peer's credentials"));
      continue;
    }
    if (peer.uid != uid_ && peer.uid != 0) {
      Refuse(fd, Status::InvalidArgument(
                     "the admin socket serves only root and the server's user (uid " +
                     std::to_string(uid_) + "), not uid " + std::to_string(peer.uid) +
                     "; nothing was changed"));
      continue;
    }
    if (connections.size() >= static_cast<size_t>(std::max(limits_.max_connections, 1))) {
      Refuse(fd, Status::ResourceExhausted(
                     "the admin socket is serving its maximum of " +
                     std::to_string(limits_.max_connections) + " connections; try again"));
      continue;
    }
    Connection c;
    c.fd = fd;
    c.last_activity = SteadyClock::now();
    connections.push_back(std::move(c));
  }
}

bool AdminSocketServer::ReadAndServe(Connection& c) {
  char chunk[kReadChunk];
  const ssize_t n = ::recv(c.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
  if (n == 0) {
    c.peer_done = true;
  } else if (n < 0) {
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  } else {
    c.in.append(chunk, static_cast<size_t>(n));
    c.last_activity = SteadyClock::now();
  }
  while (!c.close_after_write && c.in.size() >= kAdminFrameHeaderBytes) {
    const uint32_t length = ReadAdminFrameHeader(c.in.data());
    if (length == 0 || length > limits_.max_frame_bytes) {
      c.out += Framed(AdminErrorFrame(Status::InvalidArgument(
          "a frame of " + std::to_string(length) + " bytes: frames are 1 to " +
          std::to_string(limits_.max_frame_bytes) + " bytes; nothing was changed")));
      c.close_after_write = true;
      c.in.clear();
      break;
    }
    if (c.in.size() < kAdminFrameHeaderBytes + length) break;
    const std::string response =
        handler_(std::string_view(c.in).substr(kAdminFrameHeaderBytes, length));
    c.out += Framed(response);
    c.in.erase(0, kAdminFrameHeaderBytes + length);
    c.last_activity = SteadyClock::now();
  }
  if (c.peer_done && !c.in.empty()) c.close_after_write = true;  // a frame that never ended
  return true;
}

void AdminSocketServer::Run() {
  std::vector<Connection> connections;
  std::vector<pollfd> polled;
  while (!stopping_.load()) {
    const SteadyClock::time_point now = SteadyClock::now();
    polled.clear();
    polled.push_back({wake_read_, POLLIN, 0});
    polled.push_back({listen_fd_, POLLIN, 0});
    SteadyClock::time_point next_deadline = SteadyClock::time_point::max();
    for (const Connection& c : connections) {
      const short events = !c.out.empty() ? POLLOUT
                           : (c.close_after_write || c.peer_done) ? 0
                                                                   : POLLIN;
      polled.push_back({c.fd, events, 0});
      const bool idle = c.in.empty() && c.out.empty();
      next_deadline = std::min(
          next_deadline, c.last_activity + (idle ? limits_.idle_timeout : limits_.io_timeout));
    }
    int timeout_ms = -1;
    if (next_deadline != SteadyClock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left + 1, 0, 60'000));
    }
    if (::poll(polled.data(), polled.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (stopping_.load()) break;

    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      const short revents = polled[i + 2].revents;
      bool keep = (revents & (POLLERR | POLLNVAL)) == 0;
      if (keep && (revents & POLLOUT)) keep = WriteSome(c.fd, c.out);
      if (keep && (revents & (POLLIN | POLLHUP))) keep = ReadAndServe(c);
      if (keep && !c.out.empty()) keep = WriteSome(c.fd, c.out);
      if (keep && c.out.empty() && (c.close_after_write || c.peer_done)) keep = false;
      const bool idle = c.in.empty() && c.out.empty();
      const auto limit = idle ? limits_.idle_timeout : limits_.io_timeout;
      if (keep && SteadyClock::now() - c.last_activity > limit) keep = false;
      if (!keep) {
        CloseFd(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
    if (polled[1].revents & POLLIN) AcceptAll(connections);
    if (polled[0].revents & POLLIN) {
      char drained[64];
      while (::read(wake_read_, drained, sizeof(drained)) > 0) {
      }
    }
  }
  for (Connection& c : connections) CloseFd(c.fd);
}

}  // namespace holdfast::internal
