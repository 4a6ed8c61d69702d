// StoreRegistry: the stores of one open engine — the manifest's registrations (name, codec,
// schema), persisted in the database, and the stores opened by this process, each with its
// SessionRegistry. It owns the open stores; nothing it owns refers back to it.
//
// Thread safety: thread-safe. mu_ is a leaf: never held across storage I/O or a call out.
#ifndef HOLDFAST_SRC_STORE_REGISTRY_H_
#define HOLDFAST_SRC_STORE_REGISTRY_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine_context.h"
#include "holdfast/raw_store.h"
#include "mutex.h"
#include "records.h"
#include "session_registry.h"
#include "storage.h"

namespace holdfast::internal {

class StoreRegistry {
 public:
  StoreRegistry(std::shared_ptr<EngineContext> engine, Manifest manifest);

  // Registers `name` with `codec` and `schema` in the manifest, or checks that an existing
  // registration uses the same codec. A schema ("" offers none and keeps the registered one) is
  // a binary flatbuffers schema, for a "flatbuffer:<root>" codec only, whose root table is the
  // codec's; it replaces the registered one when it is a compatible evolution of it
  // (schema_evolution.h). InvalidArgument for a bad name, a codec mismatch, an unusable or
  // incompatible schema (naming what is incompatible); Corruption when the registered schema
  // fails verification; Closed once the engine is closing. A refusal changes nothing.
  Status Register(std::string_view name, std::string_view codec, std::string_view schema);
  // Register's work inside a transaction the caller runs (Admin::Import registers a store in
  // the same transaction as its profiles): the same refusals, the manifest written only when
  // it changes. Returns the registration to Remember once the transaction committed.
  Result<StoreEntry> StageRegistration(StorageTransaction& txn, std::string_view name,
                                       std::string_view codec, std::string_view schema);
  // Updates the cached manifest with a registration that committed.
  void Remember(StoreEntry registered);
  // The registered stores, by name.
  std::vector<StoreEntry> Registered() const;
  uint32_t format_version() const;

  // Registers the store (Register) and returns its session registry (the same one for every
  // open of the name in this engine). InvalidArgument for bad timing settings, Register's
  // refusals, or another codec, schema or other options than the open store's (naming each
  // difference); Closed once the engine is closing.
  Result<std::shared_ptr<SessionRegistry>> Open(std::string_view name, std::string_view codec,
                                                const StoreSettings& settings,
                                                std::string template_payload,
                                                PayloadValidator check, std::string_view schema);
  // Every store opened by this engine.
  std::vector<std::shared_ptr<SessionRegistry>> OpenStores() const;

 private:
  // The store's check with game-code exceptions reported and turned into Internal (no verdict).
  PayloadCheck Guard(std::string store, PayloadValidator check) const;

  const std::shared_ptr<EngineContext> engine_;

  mutable Mutex mu_{LockLevel::kLeaf};
  Manifest manifest_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<SessionRegistry>> open_ GUARDED_BY(mu_);
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_STORE_REGISTRY_H_
