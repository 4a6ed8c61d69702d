#include "engine_counters.h"

namespace holdfast::internal {

EngineStats EngineCounters::Snapshot() const {
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  EngineStats s;
  s.starts = get(starts);
  s.saves = get(saves);
  s.saves_skipped = get(saves_skipped);
  s.bytes_written = get(bytes_written);
  s.conflicts_retried = get(conflicts_retried);
  s.handoffs = get(handoffs);
  s.trades = get(trades);
  s.steals = get(steals);
  s.orphans_taken_over = get(orphans_taken_over);
  s.io_errors = get(io_errors);
  s.critical_state_entries = get(critical_state_entries);
  s.corruptions_repaired = get(corruptions_repaired);
  s.disagreements = get(disagreements);
  s.repairs_refused = get(repairs_refused);
  s.rollbacks = get(rollbacks);
  s.removals = get(removals);
  s.messages_sent = get(messages_sent);
  s.messages_delivered = get(messages_delivered);
  s.messages_processed = get(messages_processed);
  s.handler_exceptions = get(handler_exceptions);
  s.profile_commits = get(profile_commits);
  s.start_latency = start_latency.Summary();
  s.save_latency = save_latency.Summary();
  return s;
}

}  // namespace holdfast::internal
