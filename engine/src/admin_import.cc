// Admin::Import: every profile checked first, live holders ended (through_lock), then the
// store's registration and every profile in one transaction (profile_import.h).
#include <algorithm>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "admin_writes.h"
#include "aligned_bytes.h"
#include "engine_impl.h"
#include "flatbuffer_schema.h"
#include "holdfast/admin.h"
#include "holdfast/json_codec.h"
#include "impl_access.h"
#include "profile_import.h"
#include "session_registry.h"

namespace holdfast {
namespace {

using internal::StoreEntry;

std::string Named(size_t index, const ImportedProfile& profile) {
  return "profile #" + std::to_string(index + 1) + " ('" + profile.key + "')";
}

// The store as this engine has it open (its check and schema version), or null.
std::shared_ptr<internal::SessionRegistry> OpenHere(Engine::Impl& engine, std::string_view store) {
  for (const auto& open : engine.stores().OpenStores()) {
    if (open->config().name == store) return open;
  }
  return nullptr;
}

// Everything about the profiles that can be judged before anything is written: InvalidArgument
// naming the first profile refused. `schema` is the store's schema after the import (or null).
Status CheckProfiles(Engine::Impl& engine, std::string_view codec,
                     const FlatbufferSchema* schema,
                     const internal::SessionRegistry* open,
                     const std::vector<ImportedProfile>& profiles) {
  const size_t max_payload = engine.context().options().max_payload_bytes;
  std::set<std::string_view> keys;
  for (size_t i = 0; i < profiles.size(); ++i) {
    const ImportedProfile& profile = profiles[i];
    auto refuse = [&](const std::string& why) {
      return Status::InvalidArgument(Named(i, profile) + ": " + why + "; nothing was imported");
    };
    if (Status s = ValidateProfileKey(profile.key); !s.ok()) return refuse(s.message());
    if (!keys.insert(profile.key).second) return refuse("the key comes twice");
    if (profile.payload.size() > max_payload) {
      return refuse("payload of " + std::to_string(profile.payload.size()) +
                    " bytes is larger than max_payload_bytes (" + std::to_string(max_payload) +
                    ")");
    }
    if (codec == JsonCodec::kName) {
      if (auto document = JsonCodec::Decode(profile.payload); !document.ok()) {
        return refuse("not a JSON document: " + document.status().message());
      }
    }
    if (schema) {
      const internal::AlignedBytes buffer(profile.payload);
      if (Status s = schema->VerifyPayload(buffer.data(), buffer.size()); !s.ok()) {
        return refuse("the payload fails the store's schema: " + s.message());
      }
    }
    if (open) {
      const internal::StoreConfig& config = open->config();
      if (profile.schema_version > config.settings.schema_version) {
        return refuse("schema version " + std::to_string(profile.schema_version) +
                      " is newer than the store's (" +
                      std::to_string(config.settings.schema_version) + ")");
      }
      if (config.history.check) {
        Status valid = config.history.check(profile.payload, profile.schema_version);
        if (valid.code() == StatusCode::kInternal) return valid;  // no verdict
        if (!valid.ok()) return refuse("the store's check refuses it: " + valid.ToString());
      }
    }
  }
  return Status::Ok();
}

// The registration the import leaves, checked against the one stored: the same codec, and the
// schema whose rules the payloads must meet (null when none).
Result<std::shared_ptr<const FlatbufferSchema>> CheckRegistration(
    Engine::Impl& engine, std::string_view store, const StoreRegistration& registration) {
  std::string schema = registration.schema;
  for (const StoreEntry& entry : engine.stores().Registered()) {
    if (entry.name != store) continue;
    if (entry.codec != registration.codec) {
      return Status::InvalidArgument("store '" + std::string(store) + "' is registered with codec '" +
                                     entry.codec + "', the import's is '" + registration.codec +
                                     "'; nothing was imported");
    }
    if (schema.empty()) schema = entry.schema;
  }
  if (schema.empty()) return std::shared_ptr<const FlatbufferSchema>();
  auto parsed = FlatbufferSchema::Parse(schema);
  if (!parsed.ok()) return parsed.status().WithContext("the import's schema");
  return std::move(*parsed);
}

}  // namespace

Result<ImportSummary> Admin::Import(std::string_view store, const StoreRegistration& registration,
                                    const std::vector<ImportedProfile>& profiles,
                                    const ImportOptions& options) {
  Engine::Impl& engine = ImplAccess::Of(*engine_);
  internal::GatePass pass(engine.context().gate());
  if (!pass.admitted()) return Status::Closed("engine is closing");

  auto schema = CheckRegistration(engine, store, registration);
  if (!schema.ok()) return schema.status();
  const std::shared_ptr<internal::SessionRegistry> open = OpenHere(engine, store);
  std::vector<ImportedProfile> sorted_ids = profiles;
  for (ImportedProfile& profile : sorted_ids) {
    std::sort(profile.user_ids.begin(), profile.user_ids.end());
    profile.user_ids.erase(std::unique(profile.user_ids.begin(), profile.user_ids.end()),
                           profile.user_ids.end());
  }
  if (Status s = CheckProfiles(engine, registration.codec, schema->get(), open.get(), sorted_ids);
      !s.ok()) {
    return s;
  }

  ImportSummary summary;
  if (open && options.through_lock) {
    std::set<std::string> live;
    for (const auto& session : open->LiveSessions()) live.insert(session->key());
    for (const ImportedProfile& profile : sorted_ids) {
      if (!live.contains(profile.key)) continue;
      auto released = internal::ReleaseProfile(*open, profile.key);
      // Ended meanwhile by itself: free either way.
      if (!released.ok() && released.status().code() != StatusCode::kNotFound) {
        return released.status().WithContext("ending the live session of '" + profile.key + "'");
      }
      summary.released += released.ok() ? 1 : 0;
    }
  }

  // An open store's history policy; otherwise one that prunes nothing (as admin writes do).
  internal::HistoryPolicy keep_all;
  keep_all.retention.keep_newest = std::numeric_limits<uint32_t>::max();
  const internal::HistoryPolicy& history = open ? open->config().history : keep_all;
  const internal::TransactionContext ctx = engine.context().Transaction();
  StoreEntry registered;
  Status s = internal::RunProfileCommit(
      ctx, [&](internal::StorageTransaction& txn,
               std::vector<internal::StagedCommit>* staged) -> Status {
        summary.created = summary.replaced = 0;
        auto entry = engine.stores().StageRegistration(txn, store, registration.codec,
                                                       registration.schema);
        if (!entry.ok()) return entry.status();
        registered = std::move(*entry);
        for (const ImportedProfile& profile : sorted_ids) {
          const internal::ImportWrite write{{store, profile.key}, &profile, registration.codec,
                                            &history, options.through_lock};
          bool created = false;
          Status w = internal::StageImportedProfile(txn, ctx.now_unix_ms, write, &created, staged);
          if (!w.ok()) return w;
          ++(created ? summary.created : summary.replaced);
        }
        return Status::Ok();
      });
  if (!s.ok()) return s.WithContext("nothing was imported");
  engine.stores().Remember(std::move(registered));
  return summary;
}

}  // namespace holdfast
