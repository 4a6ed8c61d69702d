// Options for opening an engine. Every field has a default that suits a production game server;
// the comment on each says what it is and why the default was chosen.
#ifndef HOLDFAST_OPTIONS_H_
#define HOLDFAST_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "holdfast/clock.h"
#include "holdfast/hooks.h"
#include "holdfast/limits.h"
#include "holdfast/status.h"

namespace holdfast {

// An in-memory file system that outlives the engines opened on it, so a test can close and reopen
// a database without touching the disk. Create one, pass it in EngineOptions::memory_volume, and
// pass the same volume again to reopen. Thread-safe; share it with shared_ptr.
class MemoryVolume {
 public:
  static std::shared_ptr<MemoryVolume> Create();
  virtual ~MemoryVolume() = default;

 protected:
  MemoryVolume() = default;
};

// A lock left by an engine that is gone, reported when a start takes it over.
struct OrphanTakeover {
  std::string store;
  std::string key;
  uint64_t previous_incarnation = 0;
  uint64_t previous_session_id = 0;
  std::string previous_owner;
  int64_t lock_acquired_unix_ms = 0;
};

// What failed, in an ErrorEvent.
enum class FailedOperation : uint8_t {
  kStart,      // a StartSession that could not load the profile (storage, corruption)
  kSave,       // Save()
  kAutoSave,   // an auto-save; retried at the next period while the session is active
  kFinalSave,  // EndSession, a handoff's, a rollback's or Close's final save
  kHandler,    // game code the engine called threw (a signal, a codec, validate, a callback)
  kMessage,    // delivering messages to a session: reading them failed, or one is damaged
  kSaveTogether,  // Engine::SaveTogether (the event names the profile to blame, if one is)
  kLastSavedData,  // LastSavedData/LastSavedBytes could not read the stored version (see there)
};
std::string_view FailedOperationName(FailedOperation operation);  // "start", "save", ...

// A failure the game should hear about, for EngineOptions::on_error.
struct ErrorEvent {
  std::string store;
  std::string key;
  FailedOperation operation = FailedOperation::kSave;
  Status status;            // what the operation returned (for kHandler: what became of it)
  bool will_retry = false;  // the engine retries by itself (an auto-save, next period)
  std::string exception;    // for kHandler: the exception's what() ("" if not a std::exception)
};

// What one client of the admin socket may cost the engine (EngineOptions::admin_socket).
struct AdminSocketLimits {
  // Largest frame, request or response, in bytes. Default 16 MiB: an edit of up to that much; a
  // larger request is refused, a larger answer replaced by ResourceExhausted (ask for less).
  size_t max_frame_bytes = size_t{16} << 20;
  // Connections served at once; one more gets an error frame and is closed. Default 8.
  int max_connections = 8;
  // How long a connection may take to send the rest of a frame, or to read its answer, before
  // it is closed. Default 10 s.
  std::chrono::milliseconds io_timeout{10'000};
  // How long a connection may wait between requests before it is closed. Default 60 s.
  std::chrono::milliseconds idle_timeout{60'000};
};

// The admin socket's file in the database directory.
inline constexpr std::string_view kAdminSocketName = "holdfast.sock";

struct EngineOptions {
  // Create the database when the directory holds none. Default true; set false for tools that
  // must never create a database by accident (the admin CLI).
  bool create_if_missing = true;

  // fsync the write-ahead log on every commit. Default true: an acknowledged save survives power
  // loss. With false, a process crash still loses nothing, but a machine crash may lose the most
  // recent commits (docs/format.md, README "Guarantees").
  bool sync_writes = true;

  // Largest encoded payload a save may write. Default 4 MiB; at most kMaxPayloadLimitBytes.
  size_t max_payload_bytes = kDefaultMaxPayloadBytes;

  // Buckets for RocksDB's optimistic conflict checks. Default 65,536 (about 5 MB, 10 ms per open);
  // RocksDB's own default of 1M costs ~58 MB and ~64 ms per open for no gain at game-server scale.
  uint32_t conflict_buckets = 1u << 16;

  // Memory for the RocksDB write buffer of each column family. Default 16 MiB.
  size_t write_buffer_bytes = size_t{16} << 20;

  // Source of wall and monotonic time. Default (null): Clock::System().
  std::shared_ptr<Clock> clock;

  // When set, the database lives in this volume instead of directly on disk: an in-memory volume
  // from MemoryVolume::Create() (fast tests), or a fault-injecting volume of Holdfast's tests.
  // Ignored on PostgreSQL.
  std::shared_ptr<MemoryVolume> memory_volume;

  // Worker threads for auto-saves, handoff releases and shutdown saves. Default 4: enough for
  // concurrent saves to share WAL syncs (group commit) on a small machine.
  int worker_threads = 4;

  // Storage errors (IOError, ResourceExhausted) within `critical_window` that put the engine in
  // its critical state. Defaults 5 within 120 s, as ProfileStore. The state clears at the next
  // successful commit (a save, or a start, which proves storage works again).
  int critical_error_threshold = 5;
  std::chrono::milliseconds critical_window{120'000};
  // Called with true on entering and false on leaving the critical state, on the thread whose
  // save crossed the line. Default: none.
  std::function<void(bool critical)> on_critical_state;

  // Called when StartSession takes over a lock that a previous engine (a crashed process) left
  // behind, on the starting thread. Default: a line on stderr.
  std::function<void(const OrphanTakeover&)> on_orphan_takeover;

  // Called for every failed save (including auto-saves and final saves of handoffs and Close),
  // every start that failed to load (storage trouble, corruption), and every exception thrown by
  // game code the engine called, on the thread where it happened (the caller's, or an engine
  // worker's), with no engine lock held except, for save failures and handler exceptions, the
  // session's save lock (so it must not Save/EndSession that same profile). Must not throw; if
  // it does, the exception is swallowed. Default: handler exceptions are written to stderr;
  // other failures are only counted (Stats()) and returned where there is a caller.
  std::function<void(const ErrorEvent&)> on_error;

  // Test seams inside commits (holdfast/hooks.h). Default: none.
  std::shared_ptr<FaultHooks> fault_hooks;

  // Free-form text stored with every lock this engine takes (host, process, server name) so an
  // operator can tell who holds a profile. Default: "<hostname>:<pid>".
  std::string owner_description;

  // Serve the admin socket: a Unix socket `holdfast.sock` in the database directory through
  // which the admin CLI (or an AdminClient) runs admin commands on this running engine — as
  // Admin calls, so a rollback, edit or release goes through the session lock. Owner-only
  // (mode 0600), and only a peer of this process's user or root is served (SO_PEERCRED). One
  // thread serves it, one request at a time. A stale socket file (a crashed process's) is
  // replaced at open; Close removes it. Default true: an operator can always reach a running
  // server. Ignored with memory_volume and on PostgreSQL (no directory). Open fails with IOError when the socket
  // cannot be created; turn it off for a database directory it cannot be created in.
  bool admin_socket = true;
  AdminSocketLimits admin_socket_limits;

  // Open an existing database for reading only, even while another process (a running server)
  // holds it: a RocksDB secondary instance, caught up once at open, so reads see the database
  // as of the open. Nothing is written to the directory: no incarnation is taken (locks of the
  // holder's incarnation show as its, not as orphans), no admin socket is served. Every write
  // returns InvalidArgument: OpenStore (it writes the store's registration), so sessions,
  // messages and rollbacks too, Admin's writes, checkpoints and compaction; Admin's reads work. Default false. The admin CLI's read commands use it
  // when the holder serves no admin socket.
  bool read_only = false;

  // Engines sharing one PostgreSQL database (ignored on RocksDB, where one process writes).
  // Each engine holds a lease of `lease_duration`, timed by the database's clock (never the
  // hosts'), renewed every third of it on the engine's lease thread. A lock whose engine's lease
  // expired (or that closed) is an orphan, taken over at once. An engine that cannot renew in
  // time (a network partition, a long pause) stops writing before its lease can expire by the
  // database's clock: its sessions end with kLockLost (unsaved changes reported), on_lease_lost
  // fires, and every later write fails with LockLost — reopen the engine to go on. Epoch fencing
  // in every write stays the final guard. Default 10 s; at least 30 ms.
  std::chrono::milliseconds lease_duration{10'000};
  // Called once when the lease is lost, on the lease thread, after the sessions ended. Must not
  // throw (an exception is swallowed). Default: a line on stderr.
  std::function<void(const Status& why)> on_lease_lost;
  // PostgreSQL connections kept open between transactions. Every transaction or read in flight
  // (a game thread's save, an engine worker's auto-save or handoff) uses one connection; one
  // that finds none idle opens a new one (a new server process: milliseconds), and a connection
  // given back when this many are idle is closed. Keep it at least the number of threads that
  // save at once (Stats().storage_connections_opened shows the churn). Default 32. Ignored on
  // RocksDB.
  size_t postgres_idle_connections = 32;
};

}  // namespace holdfast

#endif  // HOLDFAST_OPTIONS_H_
