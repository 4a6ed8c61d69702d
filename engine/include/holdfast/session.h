// Session types shared by every store: start options, end reasons, profile info, and RawSession,
// the byte-level session handle that the typed Profile<Codec> wraps.
#ifndef HOLDFAST_SESSION_H_
#define HOLDFAST_SESSION_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"

namespace holdfast {

// Reaches the engine's implementation behind the public handles; defined inside the engine.
struct ImplAccess;

// A cancel switch shared between the code that starts a session and the code that may abandon it
// (a player leaving while their profile loads). Thread-safe.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true); }
  bool IsCancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Timing of sessions in one store. Defaults suit a game server writing to local disk.
struct SessionTiming {
  // Every active profile is saved about once per period, spread evenly over it. Default 60 s:
  // local commits are cheap, so Holdfast saves five times as often as ProfileStore's 300 s.
  std::chrono::milliseconds autosave_period{60'000};
  // False: no auto-saves in this store; data is saved only by Save(), EndSession, a handoff, a
  // rollback's final save and Close.
  bool autosave = true;
  // How long a handoff waits for the holder's final save before stealing. Default 5 s; a healthy
  // holder finishes in one commit (milliseconds).
  std::chrono::milliseconds handoff_timeout{5'000};
  // Default SessionOptions::timeout. Default 60 s.
  std::chrono::milliseconds start_timeout{60'000};
};

enum class EndReason : uint8_t {
  kManual,    // EndSession()
  kExternal,  // handed off to a newer StartSession of the same profile
  kShutdown,  // Engine::Close()
  kStolen,    // taken by a steal (option or handoff timeout); the final save did not happen
  kLockLost,  // a write found the lock no longer this session's (e.g. a rollback bumped the epoch)
  kRollback,  // ended (with a final save) so that Store::Rollback could replace the data
  kRemoved,   // the profile was erased (Store::Remove); nothing of it is stored any more
  kAdmin,     // ended (with a final save) by an admin: Admin::Release, or Admin::Edit replacing
              // the data (holdfast/admin.h; the CLI's release and edit, also through the socket)
};
std::string_view EndReasonName(EndReason reason);  // "manual", "external", ...

struct SessionEnd {
  EndReason reason;
  // True when the session's data, user ids or metadata differ from what is stored: a change
  // that was never written, lost to storage but still readable through the handle's Read().
  // A change undone before the end (set, then set back) loses nothing and does not count.
  bool unsaved_changes = false;
  std::string detail;
};

// What a start does while the profile is held by a live session of this engine
// (SessionOptions::on_held).
enum class HeldChoice : uint8_t {
  kTakeOver,  // ask the holder to hand off (final save, release); steal after handoff_timeout.
              // A start that then gives up withdraws the request: the holder stays unless its
              // final save had already begun.
  kWait,      // wait for the holder to end by itself, without asking it to (until the timeout)
  kSteal,     // take the lock now, without the holder's final save
  kCancel,    // give up: the start returns Cancelled and the holder is left alone
};

// A message to a profile (Store::Message), as its session's message handler receives it.
struct Message {
  uint64_t sequence = 0;  // the profile's own numbering, from 1, in the order they were sent
  std::string payload;
  int64_t sent_unix_ms = 0;
};

// Marks the message it was handed with as processed: its removal commits with the session's
// next save, in the same transaction as the data changes the handler made — exactly once on
// saved data. Call it inside the handler, after the edit; calling it more than once is harmless.
using MessageProcessed = std::function<void()>;
// Receives each waiting message once per session, in order, on an engine worker, with the
// session's save lock held (so no save can store the handler's edits without its processed()
// mark, or the other way round). It may Edit/Read the profile; Save or EndSession from it return
// InvalidArgument. A message it does not mark processed stays stored and is delivered again to
// the profile's next session. A handler that throws is reported (EngineOptions::on_error) and
// its message stays unprocessed unless it called processed() first.
using MessageHandler = std::function<void(const Message& message, const MessageProcessed& processed)>;

// Who holds the profile a start is waiting for.
struct HolderInfo {
  uint64_t session_id = 0;
  uint64_t epoch = 0;
  std::string owner;          // the holder's engine (EngineOptions::owner_description)
  int64_t since_unix_ms = 0;  // when the holder took the lock
  int attempt = 0;            // 1 for the first question of this start, then 2, 3, ...
};

struct SessionOptions {
  // Take the profile at once from a live session instead of asking it to hand off. The old
  // session is fenced out (its later writes fail with LockLost) and its unsaved changes are lost
  // to it; its OnSessionEnd reports kStolen.
  bool steal = false;
  // Polled while the start waits; returning true ends the start with Cancelled.
  std::function<bool()> cancel;
  // Cancelling the token ends the start with Cancelled.
  std::shared_ptr<CancelToken> cancel_token;
  // How long the start may wait in all; TimedOut afterwards. Default: the store's start_timeout.
  std::optional<std::chrono::milliseconds> timeout;
  // Signal handlers installed before the lock is taken, so that a handoff or steal arriving
  // right after StartSession returns (before the caller could attach handlers) still reaches
  // them. Same contracts as Profile::OnSave / OnLastSave / OnSessionEnd, which replace them.
  std::function<void()> on_save;
  std::function<void(EndReason)> on_last_save;
  std::function<void(const SessionEnd&)> on_session_end;
  // User ids the profile gains in the acquisition itself (so Engine::FindByUserId finds it from
  // the start): merged with those it has; InvalidArgument (nothing changed) beyond
  // kMaxUserIdsPerProfile.
  std::vector<int64_t> user_ids;
  // The message handler, in place before the first message is delivered (see MessageHandler).
  MessageHandler on_message;
  // Return Locked at once, changing nothing, when a live session of this engine holds the
  // profile (or another start is taking it), instead of asking the holder to hand off. The
  // message names the holder. Ignored with `steal`. Default false: hand off.
  bool fail_if_held = false;
  // Asked when the start finds the profile held by a live session (once per holder, and again
  // every handoff_timeout while the answer is kWait), on the starting thread with no engine lock
  // held. Default (unset): kTakeOver, or kSteal with `steal`. A handler that throws cancels the
  // start (reported through EngineOptions::on_error).
  std::function<HeldChoice(const HolderInfo&)> on_held;
};

struct ProfileInfo {
  std::string store;
  std::string key;
  uint64_t version = 0;  // version number of the last saved payload
  uint64_t epoch = 0;    // this session's fencing token
  uint64_t session_id = 0;
  int64_t created_unix_ms = 0;  // when the profile was first created
  int64_t updated_unix_ms = 0;  // last successful save
  uint64_t load_count = 0;      // sessions ever started on the profile, this one included
  int64_t first_session_unix_ms = 0;
  std::vector<int64_t> user_ids;
};

// A session's live data as the engine sees it. Profile<Codec> implements it (the decoded value
// and its data lock); a byte-level user of RawStore may implement it for its own representation.
class SessionData {
 public:
  virtual ~SessionData() = default;
  // Encodes the current data under the data's own lock. When the encode succeeds and
  // `on_encoded` is set, it runs before the lock is released: a final save seals the session
  // there, so no edit can slip in between its snapshot and its commit. Called by saves on any
  // engine thread.
  virtual Result<std::string> Encode(const std::function<void()>& on_encoded) = 0;
  // True when the calling thread holds the data's lock (inside Edit or Read): a save from there
  // would wait for that lock forever, so the engine refuses it instead.
  virtual bool HeldByThisThread() const = 0;
  // A copy of the current data, and putting such a copy back: Engine::Trade undoes a trade that
  // was not stored. The default keeps nothing: such data is not put back.
  virtual std::shared_ptr<const void> Capture() const { return nullptr; }
  virtual void Restore(const std::shared_ptr<const void>& captured) {}
  // How many times the data may have changed (each Edit, each Restore), read under the data's
  // lock; nullopt when the data does not count. A save whose count equals the one before the
  // last stored snapshot knows the data unchanged without comparing it with the stored bytes.
  virtual std::optional<uint64_t> ChangeCount() const { return std::nullopt; }
};

// Turns the payload a start loaded — written in store schema version `schema_version` — into the
// session's live data (migrating it), before the session is visible to any other thread. An
// error makes the start fail, the stored data left as it was and the lock given back:
// InvalidArgument as it is (a migration step refused the data), any other status as Corruption.
using SessionDataFactory = std::function<Result<std::shared_ptr<SessionData>>(
    std::string_view loaded_payload, uint32_t schema_version)>;

// A byte-level session handle. Copies share one session. Thread-safe.
//
// Errors common to the writing methods:
//   LockLost  the session ended by handoff, steal or fencing (or Save after EndSession);
//   Closed    the engine is closed;
//   IOError / ResourceExhausted  storage failed; the data stays in memory, the session stays
//             active, and the auto-saver retries;
//   InvalidArgument  the payload is larger than EngineOptions::max_payload_bytes or the codec
//             could not encode it; the session stays active.
class RawSession {
 public:
  class Impl;  // the live session, defined inside the engine

  RawSession() = default;  // an empty handle: every call returns InvalidArgument

  // Writes the current data now, keeping the lock. OK without a write when nothing changed.
  // InvalidArgument when called inside Edit/Read of the same profile or from one of its save
  // signals: those hold locks the save needs, so it would deadlock; nothing is written.
  Status Save();
  // Final save, then releases the lock. Idempotent after a successful EndSession (returns OK);
  // LockLost when the session had already ended another way.
  Status EndSession();
  bool IsActive() const;
  // OK while the session accepts edits. Otherwise the status an edit must return: LockLost once
  // the session ended by handoff, steal, rollback or EndSession, or once such a final save has
  // taken its snapshot of the data; Closed when the engine's shutdown did. An edit refused this
  // way changes nothing, so every edit that returned OK is either stored or reported through
  // SessionEnd::unsaved_changes.
  Status EditStatus() const;
  ProfileInfo Info() const;
  // The payload of the last successful save (or the loaded payload). A live session keeps no
  // second copy of it: unedited since, it is the encoding of the current data (for a migrated or
  // re-encoded load the same value, perhaps not the same bytes); edited since, it is read from
  // the version the session last stored — if storage cannot be read, the failure goes to
  // EngineOptions::on_error (FailedOperation::kLastSavedData) and the result is empty. An ended
  // session keeps what it needs in memory, so it answers after Engine::Close too: when its final
  // save stored the data's last state (no edit can follow a final save; Profile counts edits),
  // the encoding of that data; otherwise a copy of the bytes, read at its end.
  std::string LastSavedBytes() const;

  // User ids and metadata are saved with the next save. InvalidArgument for an empty metadata key.
  Status AddUserId(int64_t id);
  Status RemoveUserId(int64_t id);
  Status SetMetadata(std::string_view key, std::string_view value);
  Status EraseMetadata(std::string_view key);
  std::optional<std::string> Metadata(std::string_view key) const;

  // Signals. Each replaces the previous handler (or the one given in SessionOptions). They run
  // on the thread doing the save (the caller of Save/EndSession, an engine worker for
  // auto-saves, handoffs and shutdown) with the session's save lock held: a handler may
  // Edit/Read the profile; Save or EndSession of the same profile from OnSave, OnLastSave or
  // OnAfterSave returns InvalidArgument (it would wait for the save that is running it).
  // On a final save OnSave fires first, then OnLastSave; edits made in either are in that save.
  void OnSave(std::function<void()> fn);                         // before every save
  void OnLastSave(std::function<void(EndReason)> fn);            // before the final save
  void OnAfterSave(std::function<void(std::string_view)> fn);    // after a save, with its payload
  void OnSessionEnd(std::function<void(const SessionEnd&)> fn);  // once, when the session ends
  // Installs the message handler (see MessageHandler) and delivers the messages waiting for the
  // profile; later messages are delivered as they arrive. Null stops delivery.
  void SetMessageHandler(MessageHandler fn);

 private:
  friend struct ImplAccess;
  explicit RawSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace holdfast

#endif  // HOLDFAST_SESSION_H_
