// The one door from Holdfast's own tests, fuzz targets and benchmarks into the engine's
// internals (the way LevelDB's tests reach DBImpl): the storage under an Engine, its context and
// store registry, the live session behind a handle, and the record and key layouts. Not
// installed; the library never includes it.
#ifndef HOLDFAST_TESTS_SUPPORT_INTERNALS_H_
#define HOLDFAST_TESTS_SUPPORT_INTERNALS_H_

#include "engine_impl.h"
#include "holdfast/engine.h"
#include "holdfast/session.h"
#include "impl_access.h"
#include "key_codec.h"
#include "live_session.h"
#include "records.h"
#include "storage.h"

namespace holdfast::test {

inline internal::Storage& StorageOf(Engine& engine) { return ImplAccess::Of(engine).storage(); }
inline internal::EngineContext& ContextOf(Engine& engine) {
  return ImplAccess::Of(engine).context();
}
inline internal::StoreRegistry& StoresOf(Engine& engine) { return ImplAccess::Of(engine).stores(); }
inline internal::EngineCounters& CountersOf(Engine& engine) { return ContextOf(engine).counters(); }
// On a fake clock: blocks until every auto-save due by now has run.
inline void WaitAutosaveIdle(Engine& engine) { ContextOf(engine).autosaves().WaitIdle(); }
// The live session behind a handle (null for an empty handle).
inline internal::LiveSession* SessionOf(const RawSession& session) {
  return ImplAccess::Of(session).get();
}

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_SUPPORT_INTERNALS_H_
