#include "engine_context.h"

#include <cstdio>

namespace holdfast::internal {

EngineContext::EngineContext(Storage* storage, EngineOptions options, std::shared_ptr<Clock> clock,
                             uint64_t incarnation)
    : storage_(storage),
      options_(std::move(options)),
      clock_(std::move(clock)),
      incarnation_(incarnation),
      critical_state_(options_, *clock_, counters_),
      workers_(options_.worker_threads),
      autosaves_(*clock_, workers_) {}

EngineContext::~EngineContext() {
  autosaves_.Stop();
  workers_.Shutdown();
}

TransactionContext EngineContext::Transaction() {
  TransactionContext ctx;
  ctx.storage = storage_;
  ctx.hooks = options_.fault_hooks.get();
  ctx.conflicts = &counters_.conflicts_retried;
  ctx.now_unix_ms = clock_->WallUnixMillis();
  return ctx;
}

void EngineContext::ReportOrphan(const OrphanTakeover& orphan) const {
  if (options_.on_orphan_takeover) {
    options_.on_orphan_takeover(orphan);
    return;
  }
  std::fprintf(stderr,
               "holdfast: took over the lock of profile '%s' in store '%s', left by session %llu "
               "of engine incarnation %llu (%s)\n",
               orphan.key.c_str(), orphan.store.c_str(),
               static_cast<unsigned long long>(orphan.previous_session_id),
               static_cast<unsigned long long>(orphan.previous_incarnation),
               orphan.previous_owner.c_str());
}

}  // namespace holdfast::internal
