#include "engine_context.h"

#include <cstdio>

namespace holdfast::internal {

EngineContext::EngineContext(Storage* storage, EngineOptions options, std::shared_ptr<Clock> clock,
                             uint64_t incarnation)
    : storage_(storage),
      options_(std::move(options)),
      clock_(std::move(clock)),
      incarnation_(incarnation),
      critical_state_(options_, *clock_, counters_,
                      [this] { ReportException("", "", "on_critical_state", Status::Ok()); }),
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
  ctx.commits = &counters_.profile_commits;
  ctx.now_unix_ms = clock_->WallUnixMillis();
  ctx.incarnation = incarnation_;
  return ctx;
}

void EngineContext::ReportOrphan(const OrphanTakeover& orphan) {
  if (options_.on_orphan_takeover) {
    try {
      options_.on_orphan_takeover(orphan);
    } catch (...) {
      ReportException(orphan.store, orphan.key, "on_orphan_takeover", Status::Ok());
    }
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

void EngineContext::ReportError(const ErrorEvent& event) {
  if (options_.on_error) {
    try {
      options_.on_error(event);
    } catch (...) {
      // on_error must not throw; there is nobody left to tell.
    }
    return;
  }
  if (event.operation != FailedOperation::kHandler) return;  // counted, and returned to callers
  std::fprintf(stderr, "holdfast: profile '%s' of store '%s': %s (%s)\n", event.key.c_str(),
               event.store.c_str(), event.exception.c_str(), event.status.ToString().c_str());
}

void EngineContext::ReportException(std::string_view store, std::string_view key,
                                    std::string_view doing, Status outcome) {
  EngineCounters::Add(counters_.handler_exceptions);
  std::string what = "an exception that is not a std::exception";
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  ErrorEvent event;
  event.store = std::string(store);
  event.key = std::string(key);
  event.operation = FailedOperation::kHandler;
  event.status = std::move(outcome);
  event.exception = std::string(doing) + " threw: " + what;
  ReportError(event);
}

}  // namespace holdfast::internal

namespace holdfast {

std::string_view FailedOperationName(FailedOperation operation) {
  switch (operation) {
    case FailedOperation::kStart:
      return "start";
    case FailedOperation::kSave:
      return "save";
    case FailedOperation::kAutoSave:
      return "auto-save";
    case FailedOperation::kFinalSave:
      return "final-save";
    case FailedOperation::kHandler:
      return "handler";
    case FailedOperation::kMessage:
      return "message";
    case FailedOperation::kSaveTogether:
      return "save-together";
    case FailedOperation::kLastSavedData:
      return "last-saved-data";
  }
  return "unknown";
}

}  // namespace holdfast
