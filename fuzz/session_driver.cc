// The operation-sequence fuzzer's driver (fuzz/session_driver.h): runs session operations
// (start, steal, edit, save, end, drop, orphaned locks, auto-save, reopen) on an in-memory engine
// and checks the engine after every operation against a model of what the README promises.
//
// The model keeps, per profile: the last committed data, user ids and metadata (what a new
// session must load), epoch and load count, and which session is live; per handle: its state
// (live, ended, handed off, stolen, shut down), its data and its last saved data. After every
// operation it checks the exact status code of the call, every handle's data and liveness (at
// most one live handle per profile), the session-end signals (reason, unsaved flag, exactly
// once), the records in storage, and the engine's counters.
//
// Opening an engine costs ~11 ms (~40 ms under ASan: RocksDB writes and re-parses its OPTIONS
// file), so one engine serves many inputs: each input uses fresh profile keys and ends all its
// sessions, and the volume is replaced every kInputsPerVolume inputs to bound memory. An
// auto-save waits on the fake clock's polling (a few ms), so it takes effect once per input.
#include "session_driver.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine_core.h"
#include "fuzz_util.h"
#include "holdfast/holdfast.h"
#include "key_codec.h"
#include "records.h"
#include "session_runtime.h"
#include "storage.h"

namespace holdfast::fuzz {
namespace {

using namespace std::chrono_literals;
using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

constexpr const char* kPath = "/fuzz";
constexpr const char* kStoreName = "Fuzz";
const std::string kTemplate = "new-player";
constexpr std::chrono::milliseconds kAutosavePeriod = 1s;
constexpr size_t kMaxOps = 64;
constexpr int kMaxAutosavesPerInput = 1;
constexpr uint64_t kInputsPerVolume = 256;

// The process-wide engine. Never destroyed: an atexit handler closes the engine before RocksDB's
// own statics go away.
class Harness {
 public:
  static Harness& Get() {
    static Harness* harness = new Harness();
    return *harness;
  }

  // Called before every input.
  void BeginInput() {
    if (!engine_ || inputs_on_volume_ >= kInputsPerVolume) {
      Shutdown();
      volume_ = MemoryVolume::Create();
      inputs_on_volume_ = 0;
      Open();
    }
    ++inputs_on_volume_;
    ++input_number_;
  }
  // Close() must have been called; opens the same volume again.
  void Reopen() {
    players_.reset();
    engine_.reset();
    Open();
  }

  Engine& engine() { return *engine_; }
  Players& players() { return *players_; }
  FakeClock& clock() { return *clock_; }
  uint64_t input_number() const { return input_number_; }
  uint64_t orphan_reports() const { return orphan_reports_; }

 private:
  void Open() {
    EngineOptions options;
    options.memory_volume = volume_;
    options.clock = clock_;
    options.sync_writes = false;  // an in-memory volume has nothing to sync
    options.conflict_buckets = 64;
    options.worker_threads = 1;
    options.owner_description = "fuzz";
    options.on_orphan_takeover = [this](const OrphanTakeover&) { ++orphan_reports_; };
    auto engine = Engine::Open(kPath, options);
    FUZZ_CHECK(engine.ok(), engine.status().ToString());
    engine_ = std::move(*engine);
    StoreOptions<std::string> store_options;
    store_options.template_value = kTemplate;
    store_options.autosave_period = kAutosavePeriod;
    auto players = engine_->OpenStore<BytesCodec>(kStoreName, store_options);
    FUZZ_CHECK(players.ok(), players.status().ToString());
    players_.emplace(std::move(*players));
    if (!exit_handler_) exit_handler_ = std::atexit([] { Get().Shutdown(); }) == 0;
  }

  void Shutdown() {
    players_.reset();
    if (engine_) FUZZ_CHECK(engine_->Close().ok());
    engine_.reset();
  }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<MemoryVolume> volume_;
  std::unique_ptr<Engine> engine_;
  std::optional<Players> players_;
  uint64_t inputs_on_volume_ = 0;
  uint64_t input_number_ = 0;
  uint64_t orphan_reports_ = 0;  // written on the starting thread (this one)
  bool exit_handler_ = false;
};

enum class State { kLive, kEnded, kHandedOff, kStolen, kShutdown };

// OnSessionEnd calls seen for one session.
struct EndLog {
  int calls = 0;
  SessionEnd last{EndReason::kManual, false, ""};
};

// What one session (one StartSession) should look like.
struct SessionModel {
  State state = State::kLive;
  std::string data;   // the handle's data
  std::string saved;  // the payload it last saved or loaded
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  bool meta_dirty = false;  // user ids or metadata changed since the last save
  uint64_t epoch = 0;
  std::shared_ptr<EndLog> ends = std::make_shared<EndLog>();
};

struct Slot {
  std::optional<Handle> handle;
  std::shared_ptr<SessionModel> session;
};

// What one profile should look like, in storage and in the engine.
struct ProfileModel {
  std::string name;
  bool exists = false;
  std::string committed;
  std::vector<int64_t> user_ids;
  std::map<std::string, std::string> metadata;
  uint64_t epoch = 0;
  uint64_t load_count = 0;
  uint64_t version = 0;                // version of the stored record at the last check
  bool wrote_payload = false;          // a payload was committed since the last check
  bool orphan_lock = false;            // a crashed engine's lock is stored
  std::shared_ptr<SessionModel> live;  // the live session; its handle may have been dropped
  Slot slots[kSlots];
};

StatusCode EndedCode(State state) {
  return state == State::kShutdown ? StatusCode::kClosed : StatusCode::kLockLost;
}

class Driver {
 public:
  Driver(Harness& harness, const SessionDriverOptions& options)
      : h_(harness), max_reopens_(options.max_reopens) {
    static const std::string kSuffixes[kKeys] = {"a", std::string("a\0", 2), "\xff"};
    for (int k = 0; k < kKeys; ++k) {
      keys_[k].name = "i" + std::to_string(h_.input_number()) + "/" + kSuffixes[k];
    }
    ResetCounters();
  }

  void Run(FuzzInput& in) {
    CheckAll();
    for (size_t n = 0; n < kMaxOps && !in.empty(); ++n) {
      auto op = static_cast<SessionOp>(in.Byte() % kOpcodeCount);
      if (op == SessionOp::kAutosave) {
        Autosave();
      } else if (op == SessionOp::kReopen) {
        Reopen();
      } else {
        uint8_t target = in.Byte();
        ProfileModel& key = keys_[target % kKeys];
        Slot& slot = key.slots[target / kKeys % kSlots];
        switch (op) {
          case SessionOp::kEdit:
            Edit(slot, ValueOf(in.Byte(), kTemplate));
            break;
          case SessionOp::kSave:
            Save(key, slot);
            break;
          case SessionOp::kEnd:
            End(key, slot);
            break;
          case SessionOp::kMeta:
            Meta(slot, MetaChangeOf(in.Byte()));
            break;
          case SessionOp::kDrop:
            slot.handle.reset();
            slot.session.reset();
            break;
          case SessionOp::kOrphan:
            Orphan(key);
            break;
          default:
            Start(key, slot, op);
            break;
        }
      }
      CheckAll();
    }
    EndEverySession();
  }

 private:
  void ResetCounters() {
    EngineStats stats = h_.engine().Stats();
    base_handoffs_ = stats.handoffs;
    base_steals_ = stats.steals;
    base_orphans_ = stats.orphans_taken_over;
    base_orphan_reports_ = h_.orphan_reports();
    handoffs_ = steals_ = orphans_ = 0;
  }

  // The session's data and meta reach storage (a save, final save, or auto-save that wrote).
  static void Commit(ProfileModel& key, SessionModel& s) {
    if (s.data != s.saved) {
      key.committed = s.data;
      s.saved = s.data;
      key.wrote_payload = true;
    }
    if (s.meta_dirty) {
      key.user_ids = s.user_ids;
      key.metadata = s.metadata;
      s.meta_dirty = false;
    }
  }

  // The session ended: checks its OnSessionEnd call.
  static void Ended(SessionModel& s, State state, EndReason reason, bool unsaved) {
    s.state = state;
    FUZZ_CHECK(s.ends->calls == 1, "OnSessionEnd ran " << s.ends->calls << " times");
    FUZZ_CHECK(s.ends->last.reason == reason, "end reason " << EndReasonName(s.ends->last.reason)
                                                            << ", expected "
                                                            << EndReasonName(reason));
    FUZZ_CHECK(s.ends->last.unsaved_changes == unsaved, "unsaved_changes should be " << unsaved);
  }

  void Start(ProfileModel& key, Slot& slot, SessionOp op) {
    SessionOptions options;
    if (op == SessionOp::kStartSteal) options.steal = true;
    if (op == SessionOp::kStartNoWait) options.timeout = 0ms;
    if (op == SessionOp::kStartCancelled) {
      options.cancel_token = std::make_shared<CancelToken>();
      options.cancel_token->Cancel();
    }
    auto started = h_.players().StartSession(key.name, options);
    if (op == SessionOp::kStartCancelled) {
      FUZZ_CHECK_CODE(started, kCancelled);
      return;
    }
    if (op == SessionOp::kStartNoWait && key.live) {
      FUZZ_CHECK_CODE(started, kTimedOut);
      return;
    }
    FUZZ_CHECK(started.ok(), started.status().ToString());
    if (key.live) {
      SessionModel& holder = *key.live;
      if (op == SessionOp::kStartSteal) {
        Ended(holder, State::kStolen, EndReason::kStolen,
              holder.data != holder.saved || holder.meta_dirty);
        ++steals_;
      } else {
        Commit(key, holder);
        Ended(holder, State::kHandedOff, EndReason::kExternal, false);
        ++handoffs_;
      }
      key.live.reset();
    }
    if (key.orphan_lock) ++orphans_;
    key.orphan_lock = false;
    if (!key.exists) {
      key.exists = true;
      key.committed = kTemplate;
      key.wrote_payload = true;
    }
    ++key.epoch;
    ++key.load_count;

    auto session = std::make_shared<SessionModel>();
    session->data = session->saved = key.committed;
    session->user_ids = key.user_ids;
    session->metadata = key.metadata;
    session->epoch = key.epoch;
    Handle& handle = *started;
    FUZZ_CHECK(handle.Data() == key.committed,
               "loaded " << Printable(handle.Data()) << ", expected " << Printable(key.committed));
    ProfileInfo info = handle.Info();
    FUZZ_CHECK(info.epoch == key.epoch, "epoch " << info.epoch << ", expected " << key.epoch);
    FUZZ_CHECK(info.load_count == key.load_count, "load count " << info.load_count);
    for (const char* name : {"m0", "m1"}) {
      auto it = key.metadata.find(name);
      auto expected = it == key.metadata.end() ? std::nullopt : std::optional(it->second);
      FUZZ_CHECK(handle.Metadata(name) == expected, "metadata " << name);
    }
    handle.OnSessionEnd([ends = session->ends](const SessionEnd& e) {
      ++ends->calls;
      ends->last = e;
    });
    slot.handle.emplace(std::move(handle));
    slot.session = session;
    key.live = std::move(session);
  }

  void Edit(Slot& slot, const std::string& value) {
    if (!slot.handle) return;
    Status s = slot.handle->Edit([&](std::string& data) { data = value; });
    if (slot.session->state != State::kLive) {
      FUZZ_CHECK_CODE(s, kLockLost);
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    slot.session->data = value;
  }

  void Save(ProfileModel& key, Slot& slot) {
    if (!slot.handle) return;
    Status s = slot.handle->Save();
    SessionModel& session = *slot.session;
    if (session.state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(session.state), "Save on an ended session: " << s);
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    Commit(key, session);
  }

  void End(ProfileModel& key, Slot& slot) {
    if (!slot.handle) return;
    Status s = slot.handle->EndSession();
    SessionModel& session = *slot.session;
    if (session.state == State::kEnded) {
      FUZZ_CHECK(s.ok(), "EndSession is idempotent: " << s);
    } else if (session.state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(session.state), "EndSession on an ended session: " << s);
    } else {
      FUZZ_CHECK(s.ok(), s.ToString());
      Commit(key, session);
      Ended(session, State::kEnded, EndReason::kManual, false);
      key.live.reset();
    }
  }

  void Meta(Slot& slot, const MetaChange& change) {
    if (!slot.handle) return;
    Handle& handle = *slot.handle;
    SessionModel& session = *slot.session;
    Status s;
    switch (change.kind) {
      case MetaChange::kAddUserId:
        s = handle.AddUserId(change.user_id);
        break;
      case MetaChange::kRemoveUserId:
        s = handle.RemoveUserId(change.user_id);
        break;
      case MetaChange::kSetMetadata:
        s = handle.SetMetadata(change.key, change.value);
        break;
      case MetaChange::kEraseMetadata:
        s = handle.EraseMetadata(change.key);
        break;
      case MetaChange::kSetEmptyKey:
        FUZZ_CHECK_CODE(handle.SetMetadata("", change.value), kInvalidArgument);
        return;
    }
    if (session.state != State::kLive) {
      FUZZ_CHECK(s.code() == EndedCode(session.state), "meta change on an ended session: " << s);
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    auto& ids = session.user_ids;
    auto at = std::lower_bound(ids.begin(), ids.end(), change.user_id);
    bool present = at != ids.end() && *at == change.user_id;
    if (change.kind == MetaChange::kAddUserId && !present) ids.insert(at, change.user_id);
    if (change.kind == MetaChange::kRemoveUserId && present) ids.erase(at);
    if (change.kind == MetaChange::kSetMetadata) session.metadata[change.key] = change.value;
    if (change.kind == MetaChange::kEraseMetadata) session.metadata.erase(change.key);
    session.meta_dirty = true;
  }

  // Stores the lock a crashed engine would have left; the next start must take it over.
  void Orphan(ProfileModel& key) {
    if (key.live || !key.exists) return;
    const uint64_t incarnation = h_.engine().Info().incarnation;
    const std::string stored_key = internal::EncodeProfileKey(kStoreName, key.name);
    Status s = internal::RunTransaction(
        h_.engine().core().storage(), [&](internal::StorageTransaction& txn) -> Status {
          std::string bytes;
          if (Status r = txn.GetForUpdate(internal::Family::kMeta, stored_key, &bytes); !r.ok())
            return r;
          auto meta = internal::DecodeProfileMeta(bytes);
          if (!meta.ok()) return meta.status();
          int64_t now = h_.clock().WallUnixMillis();
          meta->lock = internal::SessionLock{incarnation - 1, 7, meta->epoch, now, now, "crashed"};
          return txn.Put(internal::Family::kMeta, stored_key, internal::EncodeProfileMeta(*meta));
        });
    FUZZ_CHECK(s.ok(), s.ToString());
    key.orphan_lock = true;
  }

  void Autosave() {
    if (autosaves_++ >= kMaxAutosavesPerInput) return;
    h_.clock().Advance(kAutosavePeriod);
    h_.engine().core().runtime().WaitAutosaveIdle();
    for (ProfileModel& key : keys_) {
      if (key.live) Commit(key, *key.live);
    }
  }

  void Reopen() {
    if (reopens_++ >= max_reopens_) return;
    Players closed = h_.players();
    Status s = h_.engine().Close();
    FUZZ_CHECK(s.ok(), s.ToString());
    for (ProfileModel& key : keys_) {
      if (!key.live) continue;
      Commit(key, *key.live);
      Ended(*key.live, State::kShutdown, EndReason::kShutdown, false);
      key.live.reset();
    }
    FUZZ_CHECK_CODE(closed.StartSession(keys_[0].name), kClosed);
    h_.Reopen();
    ResetCounters();
  }

  // Ends what the input left live, so that the next input starts from an idle engine.
  void EndEverySession() {
    for (ProfileModel& key : keys_) {
      if (!key.live) continue;
      Slot* holder = nullptr;
      for (Slot& slot : key.slots) {
        if (slot.session == key.live) holder = &slot;
      }
      if (!holder) {  // the handle was dropped: hand the session off to a new one
        holder = &key.slots[0];
        Start(key, *holder, SessionOp::kStart);
      }
      End(key, *holder);
      CheckAll();
    }
    FUZZ_CHECK(h_.engine().Stats().active_sessions == 0);
  }

  void CheckAll() {
    internal::Storage& storage = h_.engine().core().storage();
    uint64_t live = 0;
    for (ProfileModel& key : keys_) {
      int live_handles = 0;
      for (Slot& slot : key.slots) {
        if (!slot.handle) continue;
        const SessionModel& m = *slot.session;
        const bool active = slot.handle->IsActive();
        FUZZ_CHECK(active == (m.state == State::kLive), "IsActive() is " << active);
        live_handles += active;
        FUZZ_CHECK(!active || key.live == slot.session, "a live handle that is not the holder");
        FUZZ_CHECK(slot.handle->Data() == m.data, "handle data " << Printable(slot.handle->Data())
                                                                 << ", expected "
                                                                 << Printable(m.data));
        FUZZ_CHECK(slot.handle->LastSavedData() == m.saved, "last saved data");
        FUZZ_CHECK(m.ends->calls == (active ? 0 : 1), "OnSessionEnd calls " << m.ends->calls);
        ProfileInfo info = slot.handle->Info();
        FUZZ_CHECK(info.epoch == m.epoch && info.user_ids == m.user_ids, "handle info");
      }
      FUZZ_CHECK(live_handles <= 1, live_handles << " live handles on one profile");
      live += key.live != nullptr;
      CheckStored(storage, key);
    }
    EngineStats stats = h_.engine().Stats();
    FUZZ_CHECK(stats.active_sessions == live,
               "active sessions " << stats.active_sessions << ", expected " << live);
    FUZZ_CHECK(stats.handoffs - base_handoffs_ == handoffs_, "handoffs " << stats.handoffs);
    FUZZ_CHECK(stats.steals - base_steals_ == steals_, "steals " << stats.steals);
    FUZZ_CHECK(stats.orphans_taken_over - base_orphans_ == orphans_, "orphans taken over");
    FUZZ_CHECK(h_.orphan_reports() - base_orphan_reports_ == orphans_, "orphan reports");
  }

  void CheckStored(internal::Storage& storage, ProfileModel& key) {
    const std::string stored_key = internal::EncodeProfileKey(kStoreName, key.name);
    std::string bytes;
    Status data = storage.Get(internal::Family::kData, stored_key, &bytes);
    if (!key.exists) {
      FUZZ_CHECK_CODE(data, kNotFound);
      FUZZ_CHECK_CODE(storage.Get(internal::Family::kMeta, stored_key, &bytes), kNotFound);
      return;
    }
    FUZZ_CHECK(data.ok(), data.ToString());
    auto record = internal::DecodeProfileRecord(bytes);
    FUZZ_CHECK(record.ok(), record.status().ToString());
    FUZZ_CHECK(record->payload == key.committed, "stored " << Printable(record->payload)
                                                           << ", expected "
                                                           << Printable(key.committed));
    FUZZ_CHECK(key.wrote_payload ? record->version > key.version : record->version == key.version,
               "stored version " << record->version << " after " << key.version);
    key.version = record->version;
    key.wrote_payload = false;
    for (Slot& slot : key.slots) {
      if (slot.handle && slot.session == key.live) {
        FUZZ_CHECK(slot.handle->Info().version == record->version, "live handle's version");
      }
    }

    Status meta_read = storage.Get(internal::Family::kMeta, stored_key, &bytes);
    FUZZ_CHECK(meta_read.ok(), meta_read.ToString());
    auto meta = internal::DecodeProfileMeta(bytes);
    FUZZ_CHECK(meta.ok(), meta.status().ToString());
    FUZZ_CHECK(meta->lock.has_value() == (key.live || key.orphan_lock), "stored lock");
    FUZZ_CHECK(meta->epoch == key.epoch,
               "stored epoch " << meta->epoch << ", expected " << key.epoch);
    if (key.live) FUZZ_CHECK(meta->lock->epoch == key.epoch, "lock epoch " << meta->lock->epoch);
    FUZZ_CHECK(meta->load_count == key.load_count, "stored load count " << meta->load_count);
    FUZZ_CHECK(meta->user_ids == key.user_ids, "stored user ids");
    FUZZ_CHECK(meta->metadata == key.metadata, "stored metadata");
  }

  Harness& h_;
  const int max_reopens_;
  ProfileModel keys_[kKeys];
  int reopens_ = 0;
  int autosaves_ = 0;
  // Engine counters at the start of the input (or the last reopen), and the model's since then.
  uint64_t base_handoffs_ = 0, base_steals_ = 0, base_orphans_ = 0, base_orphan_reports_ = 0;
  uint64_t handoffs_ = 0, steals_ = 0, orphans_ = 0;
};

}  // namespace

void RunSessionOps(const uint8_t* data, size_t size, const SessionDriverOptions& options) {
  Harness& harness = Harness::Get();
  harness.BeginInput();
  FuzzInput in(data, size);
  Driver(harness, options).Run(in);
}

}  // namespace holdfast::fuzz
