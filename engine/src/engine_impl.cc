#include "engine_impl.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <latch>
#include <string_view>
#include <utility>
#include <vector>

#include "admin_dispatch.h"
#include "holdfast/admin.h"
#include "holdfast/limits.h"
#include "impl_access.h"
#include "key_codec.h"
#include "memory_volume.h"
#include "peer_messages.h"
#include "pg_connection.h"
#include "postgres_storage.h"
#include "profile_transactions.h"
#include "rocksdb_storage.h"
#include "session_registry.h"

namespace holdfast {

using internal::DecodeManifest;
using internal::EncodeManifest;
using internal::Family;
using internal::kFormatVersion;
using internal::kManifestKey;
using internal::Manifest;
using internal::RocksStorageOptions;
using internal::RunTransaction;
using internal::StorageTransaction;

namespace {

// Sessions whose final saves at Close share one transaction. Per-commit work (transaction set-up,
// the WAL write, the write group) dominates a final save that only clears the lock, so a batch
// of 32 costs about as much as a few single commits; a failed batch falls back to one commit
// per session. Large enough to amortise, small enough that a batch of changed 16 KiB payloads
// stays a modest write — and that the thread committing it, which holds every session's save
// lock plus a few more, stays under ThreadSanitizer's limit of 64 mutexes held at once (64
// save locks aborted `make tsan-test` in EditRace.EveryEditAcknowledgedBeforeCloseIsStored).
constexpr size_t kShutdownBatch = 32;

std::string DefaultOwnerDescription() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "unknown-host") + ":" + std::to_string(getpid());
}

Status ValidateOptions(const std::string& path, const EngineOptions& o) {
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  if (o.max_payload_bytes == 0 || o.max_payload_bytes > kMaxPayloadLimitBytes) {
    return Status::InvalidArgument("max_payload_bytes must be 1.." +
                                   std::to_string(kMaxPayloadLimitBytes) + ", got " +
                                   std::to_string(o.max_payload_bytes));
  }
  if (o.conflict_buckets == 0) return Status::InvalidArgument("conflict_buckets must be > 0");
  if (o.write_buffer_bytes < (size_t{64} << 10)) {
    return Status::InvalidArgument("write_buffer_bytes must be at least 64 KiB");
  }
  return Status::Ok();
}

Status RefuseNewerFormat(const std::string& path, uint32_t format) {
  return Status::InvalidArgument("database '" + path + "' has format version " +
                                 std::to_string(format) + ", newer than this build supports (" +
                                 std::to_string(kFormatVersion) +
                                 "); upgrade Holdfast to open it. The database was not modified.");
}

// Reads the manifest (if any) without writing to the directory, so that a database this build
// cannot handle is refused with its bytes untouched.
Status ProbeExistingDatabase(const RocksStorageOptions& storage_options) {
  if (!internal::DatabaseExists(storage_options)) return Status::Ok();
  auto bytes = internal::ReadDefaultKeyReadOnly(storage_options, kManifestKey);
  if (!bytes.ok()) {
    if (bytes.status().code() != StatusCode::kNotFound) return bytes.status();
    // A database created by an open that crashed before its first commit has no manifest yet;
    // so has a RocksDB database of another program. Writing one is creating a Holdfast database.
    if (storage_options.create_if_missing) return Status::Ok();
    return Status::InvalidArgument("'" + storage_options.path +
                                   "' is not a Holdfast database (it has no manifest) and "
                                   "create_if_missing is false; nothing was changed");
  }
  auto manifest = DecodeManifest(*bytes);
  if (!manifest.ok())
    return manifest.status().WithContext("database '" + storage_options.path + "'");
  if (manifest->format_version > kFormatVersion) {
    return RefuseNewerFormat(storage_options.path, manifest->format_version);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Engine::Impl>> Engine::Impl::Open(const std::string& path,
                                                         EngineOptions options) {
  if (Status s = ValidateOptions(path, options); !s.ok()) return s;
  std::shared_ptr<Clock> clock = options.clock ? options.clock : Clock::System();
  if (options.owner_description.empty()) options.owner_description = DefaultOwnerDescription();
  if (internal::IsPostgresTarget(path)) {
    return OpenPostgres(path, std::move(options), std::move(clock));
  }

  RocksStorageOptions storage_options;
  storage_options.path = path;
  storage_options.create_if_missing = options.create_if_missing;
  storage_options.sync = options.sync_writes;
  storage_options.conflict_buckets = options.conflict_buckets;
  storage_options.write_buffer_bytes = options.write_buffer_bytes;
  if (options.memory_volume) {
    const auto* volume = static_cast<const internal::VolumeImpl*>(options.memory_volume.get());
    storage_options.env = volume->env();
    storage_options.create_parent_directories = volume->on_disk();
  }
  if (Status s = ProbeExistingDatabase(storage_options); !s.ok()) return s;
  if (options.read_only) return OpenReadOnly(path, storage_options, std::move(options), clock);

  auto storage = internal::OpenRocksStorage(storage_options);
  if (!storage.ok()) return storage.status();
  return Claim(path, std::move(*storage), std::move(options), std::move(clock));
}

Result<std::unique_ptr<Engine::Impl>> Engine::Impl::OpenPostgres(const std::string& conninfo,
                                                                 EngineOptions options,
                                                                 std::shared_ptr<Clock> clock) {
  internal::PostgresStorageOptions storage_options;
  storage_options.conninfo = conninfo;
  storage_options.create_if_missing = options.create_if_missing;
  storage_options.sync = options.sync_writes;
  storage_options.read_only = options.read_only;
  storage_options.max_idle_connections = options.postgres_idle_connections;
  auto storage = internal::OpenPostgresStorage(storage_options);
  if (!storage.ok()) return storage.status();
  // There is no directory to put a socket in; the CLI opens the database itself.
  options.admin_socket = false;
  // Messages and Info() name the database without the password the string may hold.
  const std::string display = internal::DescribePostgresTarget(conninfo);
  if (options.read_only) {
    return Follow(display, std::move(*storage), std::move(options), std::move(clock));
  }
  return Claim(display, std::move(*storage), std::move(options), std::move(clock));
}

Result<std::unique_ptr<Engine::Impl>> Engine::Impl::Claim(
    const std::string& path, std::unique_ptr<internal::Storage> storage, EngineOptions options,
    std::shared_ptr<Clock> clock) {
  // Claim the next incarnation in the same transaction that checks the format again.
  Manifest manifest;
  Status s = RunTransaction(*storage, [&](StorageTransaction& txn) -> Status {
    std::string bytes;
    Status read = txn.GetForUpdate(Family::kDefault, kManifestKey, &bytes);
    if (read.code() == StatusCode::kNotFound) {
      manifest = Manifest{};
      manifest.format_version = kFormatVersion;
      manifest.created_unix_ms = clock->WallUnixMillis();
    } else if (!read.ok()) {
      return read;
    } else {
      auto decoded = DecodeManifest(bytes);
      if (!decoded.ok()) return decoded.status().WithContext("database '" + path + "'");
      if (decoded->format_version > kFormatVersion) {
        return RefuseNewerFormat(path, decoded->format_version);
      }
      manifest = std::move(*decoded);
    }
    if (!manifest.user_id_index) {
      // A new database, or one an older build wrote: make the index match every profile.
      if (Status r = internal::RebuildUserIdIndex(txn); !r.ok()) return r;
      manifest.user_id_index = true;
    }
    manifest.last_incarnation += 1;
    manifest.last_writer = "holdfast " + std::string(Version());
    return txn.Put(Family::kDefault, kManifestKey, EncodeManifest(manifest));
  });
  if (!s.ok()) {
    (void)storage->Close();
    return s;
  }
  auto context = std::make_shared<internal::EngineContext>(
      storage.get(), std::move(options), std::move(clock), manifest.last_incarnation);
  std::unique_ptr<Impl> impl(
      new Impl(path, std::move(storage), std::move(context), std::move(manifest)));
  if (Status joined = impl->JoinMembership(); !joined.ok()) return joined;  // ~Impl closes
  return impl;
}

Status Engine::Impl::JoinMembership() {
  internal::EngineMembership* membership = storage_->Membership();
  if (!membership) return Status::Ok();
  internal::MembershipHandlers handlers;
  handlers.on_message = [this](std::string_view text) { OnPeerMessage(text); };
  handlers.on_lease_lost = [this](const Status& why) { OnLeaseLost(why); };
  const EngineOptions& options = context_->options();
  return membership->Join(context_->incarnation(), options.owner_description,
                          options.lease_duration, std::move(handlers));
}

void Engine::Impl::OnPeerMessage(std::string_view text) {
  auto message = internal::DecodePeerMessage(text);
  if (!message) return;  // not one of ours: a notification is only ever a wake-up
  internal::GatePass guard(context_->gate());
  if (!guard.admitted()) return;  // closing: the sessions end by themselves
  for (const auto& store : stores_.OpenStores()) {
    if (store->config().name == message->store) {
      store->OnPeerMessage(message->kind, message->key);
      return;
    }
  }
}

void Engine::Impl::OnLeaseLost(const Status& why) {
  for (const auto& store : stores_.OpenStores()) store->EndAllForLeaseLost(why);
  const EngineOptions& options = context_->options();
  if (options.on_lease_lost) {
    try {
      options.on_lease_lost(why);
    } catch (...) {
    }
    return;
  }
  std::fprintf(stderr, "holdfast: %s\n", why.ToString().c_str());
}

Result<std::unique_ptr<Engine::Impl>> Engine::Impl::OpenReadOnly(
    const std::string& path, const RocksStorageOptions& storage_options, EngineOptions options,
    std::shared_ptr<Clock> clock) {
  auto storage = internal::OpenRocksSecondary(storage_options);
  if (!storage.ok()) return storage.status();
  return Follow(path, std::move(*storage), std::move(options), std::move(clock));
}

Result<std::unique_ptr<Engine::Impl>> Engine::Impl::Follow(
    const std::string& path, std::unique_ptr<internal::Storage> storage, EngineOptions options,
    std::shared_ptr<Clock> clock) {
  std::string bytes;
  Status read = storage->Get(Family::kDefault, kManifestKey, &bytes);
  auto manifest = read.ok() ? DecodeManifest(bytes) : Result<Manifest>(read);
  if (!manifest.ok()) {
    (void)storage->Close();
    return manifest.status().WithContext("database '" + path + "'");
  }
  if (manifest->format_version > kFormatVersion) {
    (void)storage->Close();
    return RefuseNewerFormat(path, manifest->format_version);
  }
  options.admin_socket = false;
  // The holder's incarnation: its locks are its own, not orphans.
  auto context = std::make_shared<internal::EngineContext>(
      storage.get(), std::move(options), std::move(clock), manifest->last_incarnation);
  return std::unique_ptr<Impl>(
      new Impl(path, std::move(storage), std::move(context), std::move(*manifest)));
}

Engine::Impl::Impl(std::string path, std::unique_ptr<internal::Storage> storage,
                   std::shared_ptr<internal::EngineContext> context, Manifest manifest)
    : path_(std::move(path)),
      storage_(std::move(storage)),
      context_(std::move(context)),
      stores_(context_, std::move(manifest)) {}

Engine::Impl::~Impl() { (void)Close(); }

Result<RawStore> Engine::Impl::OpenStore(std::string_view name, std::string_view codec,
                                         const StoreSettings& settings,
                                         std::string template_payload, PayloadValidator check,
                                         std::string_view schema) {
  auto store =
      stores_.Open(name, codec, settings, std::move(template_payload), std::move(check), schema);
  if (!store.ok()) return store.status();
  return ImplAccess::Wrap(std::move(*store));
}

Status Engine::Impl::StartAdminSocket(Engine& engine) {
  const EngineOptions& options = context_->options();
  if (!options.admin_socket || options.memory_volume) return Status::Ok();
  const size_t max_frame_bytes = options.admin_socket_limits.max_frame_bytes;
  auto server = internal::AdminSocketServer::Start(
      path_, options.admin_socket_limits,
      [&engine, max_frame_bytes](std::string_view request) {
        Admin admin(engine);
        return internal::HandleAdminFrame(admin, request, max_frame_bytes);
      });
  if (!server.ok()) return server.status();
  admin_socket_ = std::move(*server);
  return Status::Ok();
}

Status Engine::Impl::EndAllSessions() {
  internal::EngineContext& engine = *context_;
  engine.gate().BeginClose();
  const auto stores = stores_.OpenStores();
  for (const auto& store : stores) store->WakeAll();  // waiting starters return Closed
  engine.gate().WaitIdle();
  // No auto-save starts from here on (one already running finishes first: it holds the save
  // lock the final save needs), and the schedule is dropped at once rather than session by
  // session as each ends.
  engine.autosaves().Stop();

  // Final saves go in batches, one transaction each (FinishTogether), in (store, key) order,
  // the order in which a batch takes its sessions' save locks: stores by name, then each
  // store's sessions by key.
  std::vector<std::shared_ptr<internal::SessionRegistry>> by_name(stores.begin(), stores.end());
  std::sort(by_name.begin(), by_name.end(),
            [](const auto& a, const auto& b) { return a->config().name < b->config().name; });
  std::vector<std::shared_ptr<internal::LiveSession>> sessions;
  for (const auto& store : by_name) {
    auto live = store->LiveSessions();
    // Sorted by copies of the keys held side by side (short keys stay inline): comparing
    // through the sessions themselves costs a cache miss per comparison, 0.1 s at 100k.
    std::vector<std::pair<std::string, size_t>> order;
    order.reserve(live.size());
    for (size_t i = 0; i < live.size(); ++i) order.emplace_back(live[i]->key(), i);
    std::sort(order.begin(), order.end());
    for (const auto& [key, i] : order) sessions.push_back(std::move(live[i]));
  }
  Status first_error;
  std::mutex error_mu;
  const size_t batches = (sessions.size() + kShutdownBatch - 1) / kShutdownBatch;
  std::latch done(static_cast<std::ptrdiff_t>(batches));
  for (size_t b = 0; b < batches; ++b) {
    auto task = [&, b] {
      const size_t begin = b * kShutdownBatch;
      const size_t end = std::min(sessions.size(), begin + kShutdownBatch);
      std::vector<std::shared_ptr<internal::LiveSession>> batch(sessions.begin() + begin,
                                                                sessions.begin() + end);
      const std::vector<Status> statuses =
          internal::LiveSession::FinishTogether(batch, EndReason::kShutdown);
      for (size_t i = 0; i < batch.size(); ++i) {
        const Status& s = statuses[i];
        if (!s.ok() && s.code() != StatusCode::kLockLost && s.code() != StatusCode::kClosed) {
          std::lock_guard lock(error_mu);
          if (first_error.ok()) {
            first_error = s.WithContext("final save of '" + batch[i]->key() + "'");
          }
        }
      }
      done.count_down();
    };
    if (!engine.workers().Submit(task)) task();
  }
  done.wait();
  // Anything still active (its final save failed) is fenced now: storage closes after this.
  for (auto& session : sessions) {
    session->EndOnce(EndReason::kShutdown, "the engine closed before this session could be saved");
  }
  engine.workers().Shutdown();
  return first_error;
}

Status Engine::Impl::Close() {
  {
    internal::UniqueLock lock(close_mu_);
    if (close_started_) {
      while (!close_status_) closed_.wait(lock.native());
      return *close_status_;
    }
    close_started_ = true;
  }
  if (admin_socket_) admin_socket_->Stop();
  Status sessions = EndAllSessions();
  // After the final saves (which need the lease): other engines may take what is left at once.
  if (internal::EngineMembership* membership = storage_->Membership()) membership->Leave();
  Status storage = storage_->Close();
  Status result = sessions.ok() ? storage : sessions;
  {
    internal::MutexLock lock(close_mu_);
    close_status_ = result;
  }
  closed_.notify_all();
  return result;
}

EngineInfo Engine::Impl::Info() const {
  EngineInfo info;
  info.path = path_;
  info.format_version = stores_.format_version();
  info.incarnation = context_->incarnation();
  for (const auto& s : stores_.Registered()) info.stores.push_back(s.name);
  return info;
}

Result<StoreRegistration> Engine::Impl::Registration(std::string_view name) const {
  for (auto& s : stores_.Registered()) {
    if (s.name == name) {
      return StoreRegistration{std::move(s.name), std::move(s.codec), std::move(s.schema),
                               s.created_unix_ms};
    }
  }
  return Status::NotFound("no store '" + std::string(name) + "' is registered");
}

EngineStats Engine::Impl::Stats() const {
  EngineStats s = context_->counters().Snapshot();
  for (const auto& store : stores_.OpenStores()) s.active_sessions += store->LiveCount();
  s.critical = context_->critical_state().critical();
  s.storage_reopens = storage_->Reopens();
  s.storage_connections_opened = storage_->ConnectionsOpened();
  return s;
}

}  // namespace holdfast
