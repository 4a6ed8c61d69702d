#include "store_registry.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "flatbuffer_schema.h"
#include "holdfast/limits.h"
#include "key_codec.h"
#include "schema_evolution.h"

namespace holdfast::internal {
namespace {

Status ValidateSettings(const StoreSettings& settings) {
  if (settings.autosave_period.count() <= 0 || settings.handoff_timeout.count() < 0 ||
      settings.start_timeout.count() < 0) {
    return Status::InvalidArgument(
        "autosave_period must be positive; handoff_timeout and start_timeout not negative");
  }
  const RepairBreaker& breaker = settings.repair_breaker;
  if (!(breaker.max_share >= 0.0) || breaker.window.count() <= 0) {
    return Status::InvalidArgument(
        "repair_breaker: max_share must be a number >= 0 and window positive");
  }
  return Status::Ok();
}

std::string Ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }
std::string Hours(std::chrono::hours h) { return std::to_string(h.count()) + " h"; }

// What a second open of a store asks for that differs from the open store ("" when nothing):
// "autosave_period 60000 ms (asked 30000 ms), template (differs)".
std::string Differences(const StoreConfig& open, const StoreSettings& asked,
                        const std::string& template_payload) {
  std::vector<std::string> found;
  auto differ = [&](const char* what, const std::string& was, const std::string& now) {
    if (was != now) found.push_back(std::string(what) + " " + was + " (asked " + now + ")");
  };
  const StoreSettings& was = open.settings;
  differ("autosave", was.autosave ? "on" : "off", asked.autosave ? "on" : "off");
  differ("autosave_period", Ms(was.autosave_period), Ms(asked.autosave_period));
  differ("handoff_timeout", Ms(was.handoff_timeout), Ms(asked.handoff_timeout));
  differ("start_timeout", Ms(was.start_timeout), Ms(asked.start_timeout));
  differ("retention.keep_newest", std::to_string(was.retention.keep_newest),
         std::to_string(asked.retention.keep_newest));
  differ("retention.hourly_for", Hours(was.retention.hourly_for),
         Hours(asked.retention.hourly_for));
  differ("retention.daily_for", Hours(was.retention.daily_for), Hours(asked.retention.daily_for));
  differ("corruption_policy", std::to_string(static_cast<int>(was.corruption_policy)),
         std::to_string(static_cast<int>(asked.corruption_policy)));
  differ("repair_disagreement", was.repair_disagreement ? "on" : "off",
         asked.repair_disagreement ? "on" : "off");
  differ("schema_version (migrations)", std::to_string(was.schema_version),
         std::to_string(asked.schema_version));
  differ("repair_breaker.max_share", std::to_string(was.repair_breaker.max_share),
         std::to_string(asked.repair_breaker.max_share));
  differ("repair_breaker.window", Ms(was.repair_breaker.window), Ms(asked.repair_breaker.window));
  differ("repair_breaker.min_repairs", std::to_string(was.repair_breaker.min_repairs),
         std::to_string(asked.repair_breaker.min_repairs));
  if (open.template_payload != template_payload) found.push_back("template (differs)");
  std::string out;
  for (const auto& f : found) out += (out.empty() ? "" : ", ") + f;
  return out;
}

// A schema offered with `codec`: a usable binary schema whose root table is the codec's.
Result<std::shared_ptr<const FlatbufferSchema>> OfferedSchema(std::string_view name,
                                                              std::string_view codec,
                                                              std::string_view schema) {
  const std::string store = "store '" + std::string(name) + "'";
  if (!codec.starts_with(kFlatbufferCodecPrefix)) {
    return Status::InvalidArgument(store + ": codec '" + std::string(codec) +
                                   "' takes no schema (only flatbuffer codecs do)");
  }
  auto parsed = FlatbufferSchema::Parse(schema);
  if (!parsed.ok()) return parsed.status().WithContext(store + ": the schema offered");
  if ((*parsed)->root_name() != codec.substr(kFlatbufferCodecPrefix.size())) {
    return Status::InvalidArgument(store + ": the schema offered with codec '" +
                                   std::string(codec) + "' has root table '" +
                                   (*parsed)->root_name() + "'");
  }
  return parsed;
}

// Whether `offered` may replace the registered schema `stored` (bytes from the manifest, so
// verified before they are read).
Status CheckEvolution(std::string_view name, const std::string& stored,
                      const FlatbufferSchema& offered) {
  const std::string store = "store '" + std::string(name) + "'";
  if (stored.empty()) return Status::Ok();  // registered by byte-level opens only
  auto registered = FlatbufferSchema::Parse(stored);
  if (!registered.ok()) {
    return Status::Corruption(store + ": the registered schema fails verification (" +
                              registered.status().message() + "); it was left as it is");
  }
  Status s = CheckSchemaEvolution(**registered, offered);
  return s.ok() ? s : s.WithContext(store);
}

// The position of `name` in a manifest's sorted store list.
std::vector<StoreEntry>::iterator Find(std::vector<StoreEntry>& stores, std::string_view name) {
  return std::lower_bound(stores.begin(), stores.end(), name,
                          [](const StoreEntry& e, std::string_view n) { return e.name < n; });
}

}  // namespace

PayloadCheck StoreRegistry::Guard(std::string store, PayloadValidator check) const {
  if (!check) return nullptr;
  // The context outlives every holder of the store's config (they all hold the context too).
  EngineContext* engine = engine_.get();
  return [engine, store = std::move(store), check = std::move(check)](std::string_view payload,
                                                                       uint32_t schema_version) {
    try {
      return check(payload, schema_version);
    } catch (...) {
      Status no_verdict =
          Status::Internal("the store's check (decode or validate) threw; nothing was changed");
      engine->ReportException(store, "", "the store's check (decode or validate)", no_verdict);
      return no_verdict;
    }
  };
}

StoreRegistry::StoreRegistry(std::shared_ptr<EngineContext> engine, Manifest manifest)
    : engine_(std::move(engine)), manifest_(std::move(manifest)) {}

Status StoreRegistry::Register(std::string_view name, std::string_view codec,
                               std::string_view schema) {
  if (Status s = ValidateStoreName(name); !s.ok()) return s;
  if (!schema.empty()) {
    // Refused before the gate and the transaction: a bad schema is the caller's mistake.
    if (auto parsed = OfferedSchema(name, codec, schema); !parsed.ok()) return parsed.status();
  }
  GatePass pass(engine_->gate());
  if (!pass.admitted()) return Status::Closed("engine is closed");
  // The transaction reads the stored manifest itself, so concurrent registrations serialize in
  // the database; the cached copy is updated for this name only, after the commit.
  StoreEntry registered;
  Status s = RunTransaction(engine_->storage(), [&](StorageTransaction& txn) -> Status {
    auto staged = StageRegistration(txn, name, codec, schema);
    if (!staged.ok()) return staged.status();
    registered = std::move(*staged);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  Remember(std::move(registered));
  return Status::Ok();
}

Result<StoreEntry> StoreRegistry::StageRegistration(StorageTransaction& txn,
                                                    std::string_view name,
                                                    std::string_view codec,
                                                    std::string_view schema) {
  if (Status s = ValidateStoreName(name); !s.ok()) return s;
  std::shared_ptr<const FlatbufferSchema> offered;
  if (!schema.empty()) {
    auto parsed = OfferedSchema(name, codec, schema);
    if (!parsed.ok()) return parsed.status();
    offered = std::move(*parsed);
  }
  std::string bytes;
  if (Status r = txn.GetForUpdate(Family::kDefault, kManifestKey, &bytes); !r.ok()) return r;
  auto manifest = DecodeManifest(bytes);
  if (!manifest.ok()) return manifest.status();
  StoreEntry registered;
  auto it = Find(manifest->stores, name);
  if (it != manifest->stores.end() && it->name == name) {
    if (it->codec != codec) {
      return Status::InvalidArgument("store '" + std::string(name) +
                                     "' is registered with codec '" + it->codec + "', not '" +
                                     std::string(codec) + "'");
    }
    registered = *it;
    // Nothing to change (nothing is written) when no schema is offered or it is the same.
    if (schema.empty() || it->schema == schema) return registered;
    if (Status e = CheckEvolution(name, it->schema, *offered); !e.ok()) return e;
    it->schema.assign(schema);
    registered.schema.assign(schema);
  } else {
    registered = StoreEntry{std::string(name), std::string(codec), std::string(schema),
                            engine_->clock().WallUnixMillis()};
    manifest->stores.insert(it, registered);
  }
  if (Status w = txn.Put(Family::kDefault, kManifestKey, EncodeManifest(*manifest)); !w.ok()) {
    return w;
  }
  return registered;
}

void StoreRegistry::Remember(StoreEntry registered) {
  MutexLock lock(mu_);
  auto it = Find(manifest_.stores, registered.name);
  if (it != manifest_.stores.end() && it->name == registered.name) {
    *it = std::move(registered);
  } else {
    manifest_.stores.insert(it, std::move(registered));
  }
}

std::vector<StoreEntry> StoreRegistry::Registered() const {
  MutexLock lock(mu_);
  return manifest_.stores;
}

uint32_t StoreRegistry::format_version() const {
  MutexLock lock(mu_);
  return manifest_.format_version;
}

Result<std::shared_ptr<SessionRegistry>> StoreRegistry::Open(std::string_view name,
                                                             std::string_view codec,
                                                             const StoreSettings& settings,
                                                             std::string template_payload,
                                                             PayloadValidator check,
                                                             std::string_view schema) {
  // Refuse bad settings, and a schema other than the one the store is open with in this
  // engine, before the name is registered: a refused open changes nothing.
  if (Status s = ValidateSettings(settings); !s.ok()) return s;
  if (!schema.empty()) {
    MutexLock lock(mu_);
    auto it = open_.find(std::string(name));
    if (it != open_.end() && it->second->config().schema != schema) {
      return Status::InvalidArgument("store '" + std::string(name) +
                                     "' is already open in this engine with another schema");
    }
  }
  if (Status s = Register(name, codec, schema); !s.ok()) return s;
  MutexLock lock(mu_);
  if (engine_->gate().closing()) return Status::Closed("engine is closing");
  auto it = open_.find(std::string(name));
  if (it != open_.end()) {
    const StoreConfig& open = it->second->config();
    if (open.codec != codec) {
      return Status::InvalidArgument("store '" + std::string(name) + "' is open with codec '" +
                                     open.codec + "', not '" + std::string(codec) + "'");
    }
    if (std::string differences = Differences(open, settings, template_payload);
        !differences.empty()) {
      return Status::InvalidArgument(
          "store '" + std::string(name) +
          "' is already open in this engine with other options: " + differences);
    }
    return it->second;
  }
  auto config = std::make_shared<StoreConfig>();
  config->name = std::string(name);
  config->codec = std::string(codec);
  config->settings = settings;
  config->history = HistoryPolicy{settings.retention, settings.corruption_policy,
                                  Guard(config->name, std::move(check)),
                                  settings.repair_disagreement, settings.schema_version};
  config->template_payload = std::move(template_payload);
  config->schema = std::string(schema);
  auto store = std::make_shared<SessionRegistry>(engine_, std::move(config));
  open_.emplace(std::string(name), store);
  return store;
}

std::vector<std::shared_ptr<SessionRegistry>> StoreRegistry::OpenStores() const {
  MutexLock lock(mu_);
  std::vector<std::shared_ptr<SessionRegistry>> stores;
  for (const auto& [name, store] : open_) stores.push_back(store);
  return stores;
}

}  // namespace holdfast::internal
