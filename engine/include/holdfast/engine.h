// Engine: one open Holdfast database (a RocksDB directory, or a PostgreSQL database named by a
// connection string) and everything running on it.
//
// Open one Engine per database per process; RocksDB's lock file refuses a second process, and on
// PostgreSQL a second writing engine is refused too (README, "Running many servers"). The
// engine is thread-safe: every method may be called from any thread. Destroying an Engine closes
// it (see Close()).
#ifndef HOLDFAST_ENGINE_H_
#define HOLDFAST_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "holdfast/codec.h"
#include "holdfast/options.h"
#include "holdfast/raw_store.h"
#include "holdfast/stats.h"
#include "holdfast/status.h"
#include "holdfast/store.h"

namespace holdfast {

// Facts about the open database.
struct EngineInfo {
  std::string path;
  // The on-disk format version of the database (docs/format.md).
  uint32_t format_version = 0;
  // This open's incarnation number: every Engine::Open takes a new one, so a lock stamped with
  // another incarnation was left by an engine that is gone.
  uint64_t incarnation = 0;
  // Stores registered in the database, by name.
  std::vector<std::string> stores;
};

// A store as registered in the database (Engine::Registration).
struct StoreRegistration {
  std::string name;
  // The codec it was registered with: "bytes", "json", "flatbuffer:<root table>".
  std::string codec;
  // For a flatbuffers store, the binary schema (.bfbs) it was last opened with — each open
  // with a compatible evolution replaces it — so that holdfast/render.h can render its payloads
  // without the game's code. "" for other codecs, and for a flatbuffers store only ever opened
  // at the byte level.
  std::string schema;
  int64_t created_unix_ms = 0;
};

class Engine {
 public:
  // Opens (or creates, with options.create_if_missing) the database at `path`.
  // Returns:
  //   InvalidArgument  bad options (max_payload_bytes out of range, empty path); the path holds no
  //                    database and create_if_missing is false; the directory is not a Holdfast
  //                    database; or it was written by a newer Holdfast format (the directory is
  //                    then left byte-for-byte untouched);
  //   Corruption       the database's manifest fails verification;
  //   IOError          the directory cannot be read or written, or another process has it open;
  //                    on PostgreSQL: the server cannot be reached or another engine writes it.
  // `path` is a directory, or a `postgresql://` URI or libpq `key=value` string (PostgreSQL; its
  // password, if any, is never printed).
  static Result<std::unique_ptr<Engine>> Open(const std::string& path, EngineOptions options);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // Ends every session with a final save, waits for them, and closes the database. Later calls
  // that need the database return Closed. Idempotent: a second Close returns the first's status.
  // Returns the first error met while saving or closing (IOError); the engine is closed anyway.
  Status Close();
  // True once Close() has begun.
  bool IsClosing() const;

  EngineInfo Info() const;
  EngineStats Stats() const;
  // The registration of store `name`. NotFound when no store of that name was ever opened.
  Result<StoreRegistration> Registration(std::string_view name) const;

  // Every profile (of any store) that lists `user_id` among its user ids, in (store, key)
  // order — from an index kept in the same transactions as the user ids themselves (given at
  // StartSession, or changed by AddUserId/RemoveUserId and then saved). A profile's ids count
  // once saved. Corruption when an index entry fails to decode; Closed after Close().
  Result<std::vector<ProfileLocation>> FindByUserId(int64_t user_id);

  // Stores the current data of several active profiles — of any stores of this engine — in ONE
  // transaction, fenced on each one's epoch: all or nothing (a trade). Each profile gets a new
  // version with reason kTrade whose VersionInfo::partners names the others, changed or not.
  // OnSave fires for each profile before the snapshot and OnAfterSave after the commit; user
  // ids, metadata and processed messages are stored as by Save. Profiles are locked in (store,
  // key) order, so concurrent trades over the same profiles never deadlock.
  // Returns (the message names the profile to blame, and nothing of any profile was stored):
  //   LockLost  one profile lost its lock (handoff, steal, rollback, removal): that session
  //             has ended as a failed Save would end it; the others stay active with their data;
  //   InvalidArgument  no profiles, more than kMaxSaveTogetherProfiles, one profile twice, an
  //             empty handle or one of another engine, a call from inside Edit/Read or a save
  //             signal or message handler of one of the profiles, or validate/the codec/the size
  //             limit refused one profile's data (every session stays active);
  //   IOError / ResourceExhausted  storage failed (every session stays active; retry);
  //   Closed    after Close(), or a session already ended by it.
  // A failure also reaches EngineOptions::on_error (FailedOperation::kSaveTogether).
  Status SaveTogether(const std::vector<RawSession>& sessions);
  template <typename... Handles>
    requires(sizeof...(Handles) > 0)
  Status SaveTogether(const Handles&... profiles) {
    return SaveTogether(std::vector<RawSession>{SessionOf(profiles)...});
  }

  // A trade: runs `change` — which edits the profiles with Edit — while no save of any of them
  // can run (not an auto-save, not a handoff's final save, not a message handler), then stores
  // them all as SaveTogether does. Unless that commit succeeds, every profile's data is put back
  // as it was just before `change` (an edit another thread made meanwhile is undone with it), so
  // a trade happened in storage and in memory, or in neither: an auto-save can never store one
  // side of it alone. `change` returning an error (or throwing: Internal, then rethrown) stores
  // nothing. Statuses as SaveTogether's; from inside `change`, Save of one of the profiles
  // returns InvalidArgument.
  Status Trade(const std::vector<RawSession>& sessions, const std::function<Status()>& change);
  template <typename... Handles>
    requires(sizeof...(Handles) > 0)
  Status Trade(const std::function<Status()>& change, const Handles&... profiles) {
    return Trade(std::vector<RawSession>{SessionOf(profiles)...}, change);
  }

  // Opens the store `name` (registering it in the database on first use) with the codec `Codec`.
  // Opening a store that is already open in this engine returns the same store when the options
  // agree; callbacks (validate, on_corruption) are not compared, the first open's are kept.
  // A codec with a binary schema (FlatbufferCodec, holdfast/flatbuffer_codec.h) registers it
  // with the store; a later open's schema must be a compatible evolution of the registered one
  // and then replaces it.
  // Returns InvalidArgument for a bad name, a store registered with another codec, a schema
  // that is not a compatible evolution of the registered one (naming what is incompatible), a
  // template the codec cannot encode, bad timing options, or options (timing, auto-save,
  // retention, corruption policy, template, schema) that differ from those the store is already
  // open with — the message names each difference; Corruption when the registered schema fails
  // verification; Closed after Close(). A refused open changes nothing.
  template <ProfileCodec Codec>
  Result<Store<Codec>> OpenStore(std::string_view name,
                                 StoreOptions<typename Codec::Value> options = {}) {
    auto template_bytes = Codec::Encode(options.template_value);
    if (!template_bytes.ok()) return template_bytes.status().WithContext("encoding the template");
    // Damage (Corruption from the codec) stays Corruption; every other refusal is a
    // disagreement between the stored data and this code.
    options.schema_version = static_cast<uint32_t>(options.migrations.size());
    PayloadValidator check = [validate = options.validate, migrations = options.migrations](
                                 std::string_view bytes, uint32_t schema_version) -> Status {
      auto decoded = Codec::Decode(bytes);
      if (!decoded.ok()) {
        return decoded.status().code() == StatusCode::kCorruption ||
                       decoded.status().code() == StatusCode::kInternal
                   ? decoded.status()
                   : Status::InvalidArgument("does not decode with codec '" +
                                             std::string(Codec::kName) +
                                             "': " + decoded.status().ToString());
      }
      // Stored data is judged as this code will use it: migrated first.
      if (Status m = MigrateValue(*decoded, schema_version, migrations); !m.ok()) return m;
      if (!validate) return Status::Ok();
      Status valid = validate(*decoded);
      return valid.ok() ? valid : Status::InvalidArgument("validate: " + valid.ToString());
    };
    std::string_view schema;
    if constexpr (requires {
                    { Codec::BinarySchema() } -> std::convertible_to<std::string_view>;
                  }) {
      schema = Codec::BinarySchema();
    }
    auto raw = OpenRawStore(name, Codec::kName, options, std::move(*template_bytes),
                            std::move(check), schema);
    if (!raw.ok()) return raw.status();
    return Store<Codec>(std::move(*raw), std::move(options.template_value),
                        std::move(options.validate), std::move(options.migrations));
  }

  // Opens the store `name` at the byte level: `codec` is the name registered for it,
  // `template_payload` the data of a profile that was never saved, `check` (may be null) judges
  // stored payloads (a failure makes them corrupt), `schema` is the binary schema to register
  // for a "flatbuffer:" codec (checked as OpenStore checks it; empty keeps the registered one).
  // Same statuses as OpenStore.
  Result<RawStore> OpenRawStore(std::string_view name, std::string_view codec,
                                const StoreSettings& settings, std::string template_payload,
                                PayloadValidator check = nullptr, std::string_view schema = {});

  class Impl;  // defined inside the engine

 private:
  friend struct ImplAccess;
  explicit Engine(std::unique_ptr<Impl> impl);
  static const RawSession& SessionOf(const RawSession& session) { return session; }
  template <typename Codec>
  static const RawSession& SessionOf(const Profile<Codec>& profile) {
    return profile.raw();
  }
  std::unique_ptr<Impl> impl_;
};

// The version of this Holdfast build ("0.1.0") and the newest on-disk format it reads and writes.
std::string_view Version();
uint32_t SupportedFormatVersion();

}  // namespace holdfast

#endif  // HOLDFAST_ENGINE_H_
