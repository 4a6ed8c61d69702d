// RawStore: the public byte-level store. Sessions go through the store's SessionRegistry; reads
// through profile_reads; a rollback claims the key in the registry, then commits through
// profile_transactions (admin_writes: the same path as Admin::Edit and Admin::Release).
#include "holdfast/raw_store.h"

#include "admin_writes.h"
#include "impl_access.h"
#include "key_codec.h"
#include "profile_reads.h"
#include "session_registry.h"

namespace holdfast {
namespace {

Status NoStore() { return Status::InvalidArgument("empty store handle"); }

// A read admitted by the engine's gate (Closed once the engine is closing).
template <typename Fn>
auto GatedRead(RawStore::Impl& store, Fn&& fn) -> decltype(fn()) {
  internal::GatePass pass(store.engine().gate());
  if (!pass.admitted()) return Status::Closed("engine is closing");
  return fn();
}

}  // namespace

Result<RawSession> RawStore::StartSession(std::string_view key, const SessionOptions& options,
                                          const SessionDataFactory& make_data) {
  if (!impl_) return NoStore();
  return impl_->Start(key, options, make_data);
}

Status RawStore::Message(std::string_view key, std::string_view payload) {
  if (!impl_) return NoStore();
  return impl_->Message(key, payload);
}

Result<std::vector<VersionInfo>> RawStore::Versions(std::string_view key,
                                                    const VersionQuery& query) {
  if (!impl_) return NoStore();
  return GatedRead(*impl_, [&] {
    return internal::ListVersions(impl_->engine().storage(), {impl_->config().name, key}, query);
  });
}

Result<RawProfileView> RawStore::Get(std::string_view key, std::optional<uint64_t> version) {
  if (!impl_) return NoStore();
  return GatedRead(*impl_, [&] {
    return internal::ReadProfileView(impl_->engine().storage(), {impl_->config().name, key},
                                     version);
  });
}

Result<uint64_t> RawStore::Rollback(std::string_view key, uint64_t version) {
  if (!impl_) return NoStore();
  internal::EngineContext& engine = impl_->engine();
  const internal::StoreConfig& config = impl_->config();
  // Everything that can refuse the rollback is checked before the key is claimed: claiming ends
  // a live session (final save, release), and a refused rollback must change nothing. Version
  // records are immutable, so the source read here is still that version's payload when the
  // transaction below runs, even if the live session's final save pruned it from the index.
  auto source = GatedRead(*impl_, [&] {
    return internal::ReadRollbackSource(engine.storage(), {config.name, key}, version,
                                        config.history);
  });
  if (!source.ok()) {
    engine.critical_state().Record(source.status());  // a failed read counts toward it too
    return source.status();
  }
  internal::AdminWriteRequest request;
  request.payload = &source->payload;
  request.codec = source->codec;
  request.reason = VersionReason::kRollback;
  request.source_version = source->version;
  request.schema_version = source->schema_version;
  request.history = &config.history;
  auto written =
      internal::ClaimAndWrite(*impl_, key, EndReason::kRollback, request, "a rollback");
  if (!written.ok()) return written.status();
  internal::EngineCounters::Add(engine.counters().rollbacks);
  return written->version;
}

Status RawStore::Remove(std::string_view key) {
  if (!impl_) return NoStore();
  internal::EngineContext& engine = impl_->engine();
  const internal::StoreConfig& config = impl_->config();
  Status s = impl_->Exclusive(
      key, EndReason::kRemoved,
      [&](const std::string& claimed, const std::shared_ptr<internal::LiveSession>& victim) {
        // The victim (fenced: its data can no longer change) keeps its last saved payload in
        // memory before the removal deletes the version that holds it: its end judges unsaved
        // changes against it, and its handles can still read it.
        if (victim) victim->KeepLastSaved();
        auto erased = internal::CommitRemove(engine.Transaction(), {config.name, claimed});
        engine.critical_state().Record(erased.status());
        if (victim) {
          if (erased.ok()) {
            victim->EndOnce(EndReason::kRemoved, "the profile was removed");
          } else {
            victim->EndOnce(EndReason::kStolen,
                            "fenced for a removal that failed: " + erased.status().ToString());
          }
        }
        if (erased.ok()) internal::EngineCounters::Add(engine.counters().removals);
        return erased.status();
      },
      EndReason::kRemoved);
  if (!s.ok()) return s;
  // Erasure: the records are deleted; now make their bytes leave the files on disk.
  internal::GatePass pass(engine.gate());
  if (!pass.admitted()) {
    return Status::Closed("the profile was removed, but the engine closed before its bytes were "
                          "compacted away; the next compaction drops them");
  }
  const std::string prefix = internal::EncodeProfileKey(config.name, key);
  for (internal::Family f : {internal::Family::kData, internal::Family::kMeta,
                             internal::Family::kVersions, internal::Family::kMessages}) {
    if (Status c = engine.storage().CompactRange(f, internal::ScanRange::Prefix(prefix)); !c.ok()) {
      return c.WithContext("the profile was removed, but compacting its bytes away failed");
    }
  }
  return Status::Ok();
}

Result<uint64_t> RawStore::RollbackTo(std::string_view key, int64_t unix_ms) {
  if (!impl_) return NoStore();
  auto target = GatedRead(*impl_, [&] {
    return internal::RestorableVersionAt(impl_->engine().storage(), {impl_->config().name, key},
                                         unix_ms);
  });
  if (!target.ok()) return target.status();
  return Rollback(key, *target);
}

const std::string& RawStore::name() const {
  static const std::string kNone;
  return impl_ ? impl_->config().name : kNone;
}

const std::string& RawStore::codec() const {
  static const std::string kNone;
  return impl_ ? impl_->config().codec : kNone;
}

}  // namespace holdfast
