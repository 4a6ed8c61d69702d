#include "engine_core.h"

#include <unistd.h>

#include <algorithm>

#include "holdfast/limits.h"
#include "key_codec.h"
#include "memory_volume.h"
#include "rocksdb_storage.h"
#include "session_runtime.h"

namespace holdfast::internal {
namespace {

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
  if (!DatabaseExists(storage_options)) return Status::Ok();
  auto bytes = ReadDefaultKeyReadOnly(storage_options, kManifestKey);
  if (!bytes.ok()) {
    // A database created by an open that crashed before its first commit has no manifest yet.
    return bytes.status().code() == StatusCode::kNotFound ? Status::Ok() : bytes.status();
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

Result<std::unique_ptr<EngineCore>> EngineCore::Open(const std::string& path,
                                                     EngineOptions options) {
  if (Status s = ValidateOptions(path, options); !s.ok()) return s;
  std::shared_ptr<Clock> clock = options.clock ? options.clock : Clock::System();
  if (options.owner_description.empty()) options.owner_description = DefaultOwnerDescription();

  RocksStorageOptions storage_options;
  storage_options.path = path;
  storage_options.create_if_missing = options.create_if_missing;
  storage_options.sync = options.sync_writes;
  storage_options.conflict_buckets = options.conflict_buckets;
  storage_options.write_buffer_bytes = options.write_buffer_bytes;
  if (options.memory_volume) {
    const auto* volume = static_cast<const VolumeImpl*>(options.memory_volume.get());
    storage_options.env = volume->env();
    storage_options.create_parent_directories = volume->on_disk();
  }
  if (Status s = ProbeExistingDatabase(storage_options); !s.ok()) return s;

  auto storage = OpenRocksStorage(storage_options);
  if (!storage.ok()) return storage.status();

  // Claim the next incarnation in the same transaction that checks the format again.
  Manifest manifest;
  Status s = RunTransaction(**storage, [&](StorageTransaction& txn) -> Status {
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
    manifest.last_incarnation += 1;
    manifest.last_writer = "holdfast " + std::string(Version());
    return txn.Put(Family::kDefault, kManifestKey, EncodeManifest(manifest));
  });
  if (!s.ok()) {
    (void)(*storage)->Close();
    return s;
  }
  return std::unique_ptr<EngineCore>(new EngineCore(path, std::move(options), std::move(clock),
                                                    std::move(*storage), std::move(manifest)));
}

EngineCore::EngineCore(std::string path, EngineOptions options, std::shared_ptr<Clock> clock,
                       std::unique_ptr<Storage> storage, Manifest manifest)
    : path_(std::move(path)),
      options_(std::move(options)),
      clock_(std::move(clock)),
      storage_(std::move(storage)),
      incarnation_(manifest.last_incarnation),
      runtime_(std::make_shared<SessionRuntime>(storage_.get(), options_, clock_, incarnation_)),
      manifest_(std::move(manifest)) {}

EngineCore::~EngineCore() { (void)Close(); }

Status EngineCore::RegisterStore(std::string_view name, std::string_view codec,
                                 std::string_view schema) {
  if (Status s = ValidateStoreName(name); !s.ok()) return s;
  if (IsClosing()) return Status::Closed("engine is closed");
  std::lock_guard lock(mu_);
  Manifest updated;
  Status s = RunTransaction(*storage_, [&](StorageTransaction& txn) -> Status {
    std::string bytes;
    if (Status r = txn.GetForUpdate(Family::kDefault, kManifestKey, &bytes); !r.ok()) return r;
    auto decoded = DecodeManifest(bytes);
    if (!decoded.ok()) return decoded.status();
    updated = std::move(*decoded);
    auto it = std::lower_bound(updated.stores.begin(), updated.stores.end(), name,
                               [](const StoreEntry& e, std::string_view n) { return e.name < n; });
    if (it != updated.stores.end() && it->name == name) {
      if (it->codec != codec) {
        return Status::InvalidArgument("store '" + std::string(name) +
                                       "' is registered with codec '" + it->codec + "', not '" +
                                       std::string(codec) + "'");
      }
      if (it->schema == schema) return Status::Ok();  // nothing to change; commit is empty
      it->schema.assign(schema);
    } else {
      updated.stores.insert(it, StoreEntry{std::string(name), std::string(codec),
                                           std::string(schema), clock_->WallUnixMillis()});
    }
    return txn.Put(Family::kDefault, kManifestKey, EncodeManifest(updated));
  });
  if (s.ok()) manifest_ = std::move(updated);
  return s;
}

std::vector<StoreEntry> EngineCore::Stores() const {
  std::lock_guard lock(mu_);
  return manifest_.stores;
}

Result<std::shared_ptr<StoreCore>> EngineCore::OpenStore(std::string_view name,
                                                         std::string_view codec,
                                                         const StoreSettings& settings,
                                                         PayloadValidator check) {
  // Refuse bad settings before the name is registered: a refused OpenStore changes nothing.
  if (Status s = SessionRuntime::ValidateSettings(settings); !s.ok()) return s;
  if (Status s = RegisterStore(name, codec, ""); !s.ok()) return s;
  return runtime_->OpenStore(std::string(name), std::string(codec), settings, std::move(check));
}

Status EngineCore::Close() {
  closing_.store(true);
  std::lock_guard lock(mu_);
  if (!close_status_) {
    Status sessions = runtime_->Shutdown();
    Status storage = storage_->Close();
    close_status_ = sessions.ok() ? storage : sessions;
  }
  return *close_status_;
}

EngineInfo EngineCore::Info() const {
  std::lock_guard lock(mu_);
  EngineInfo info;
  info.path = path_;
  info.format_version = manifest_.format_version;
  info.incarnation = incarnation_;
  for (const auto& s : manifest_.stores) info.stores.push_back(s.name);
  return info;
}

}  // namespace holdfast::internal
