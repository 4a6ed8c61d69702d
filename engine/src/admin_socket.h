// AdminSocketServer: a running engine's admin socket, `<database>/holdfast.sock`. One thread
// accepts connections and serves them with poll(): it reads length-prefixed frames
// (admin_frame.h), hands each complete request body to the handler — the engine's admin
// dispatch, which runs it as an Admin call — and writes the answer back. Requests run one at a
// time, on this thread.
//
// Safety: the socket is created owner-only (chmod 0600 between bind and listen, so nobody can
// connect before), and each peer's credentials are checked (SO_PEERCRED): only this process's
// user and root are served; another gets an error frame and is closed. Bounds: frames of at most
// AdminSocketLimits::max_frame_bytes (a larger length prefix gets an error frame, and the
// connection is closed), at most max_connections at once, io_timeout to finish a frame or read
// an answer, idle_timeout between requests.
//
// Thread safety: Start and Stop from one thread (the engine's open and close); the handler runs
// on the server thread with no lock of the server held. Lock order: the server holds no lock.
#ifndef HOLDFAST_SRC_ADMIN_SOCKET_H_
#define HOLDFAST_SRC_ADMIN_SOCKET_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "holdfast/options.h"
#include "holdfast/status.h"
#include "unix_socket.h"

namespace holdfast::internal {

class AdminSocketServer {
 public:
  // Returns the response body for one request body.
  using Handler = std::function<std::string(std::string_view request_body)>;

  // Creates the socket `kAdminSocketName` in `dir` — replacing a socket file left there by a
  // process that is gone (the caller holds the database, so no live engine serves it) — and
  // starts the server thread. IOError when the socket cannot be created (a file that is not a
  // socket in the way, a failed bind).
  static Result<std::unique_ptr<AdminSocketServer>> Start(const std::string& dir,
                                                          const AdminSocketLimits& limits,
                                                          Handler handler);
  AdminSocketServer(const AdminSocketServer&) = delete;
  AdminSocketServer& operator=(const AdminSocketServer&) = delete;
  ~AdminSocketServer();

  // Stops accepting, lets a request in progress finish, closes every connection, joins the
  // thread and removes the socket file. Idempotent.
  void Stop();

 private:
  struct Connection;

  AdminSocketServer(UnixSocketAddress address, const AdminSocketLimits& limits, Handler handler,
                    int listen_fd, int wake_read, int wake_write, ino_t inode);
  void Run();
  // Accepts every pending connection: served, or refused with an error frame.
  void AcceptAll(std::vector<Connection>& connections);
  // Reads what `c` sent and answers every complete frame; false when it must close.
  bool ReadAndServe(Connection& c);
  void Refuse(int fd, const Status& why) const;

  // Constant after construction.
  const UnixSocketAddress address_;
  const AdminSocketLimits limits_;
  const Handler handler_;
  const int listen_fd_;
  const int wake_read_;   // the server thread polls it; Stop writes to wake_write_
  const int wake_write_;
  const ino_t inode_;  // of the socket file this server created (Stop removes only that one)
  const uid_t uid_;    // the user whose peers are served (with root)

  std::atomic<bool> stopping_{false};
  std::thread thread_;  // started by Start, joined by Stop (Start/Stop's thread only)
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ADMIN_SOCKET_H_
