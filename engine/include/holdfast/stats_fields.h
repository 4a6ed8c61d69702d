// EngineStats field by field, by name: how tools print a running engine's statistics and how the
// admin socket carries them (schema/admin_frame.fbs: counters by name, so a counter added to
// EngineStats reaches tools once it is listed here; a name a tool does not know is skipped).
#ifndef HOLDFAST_STATS_FIELDS_H_
#define HOLDFAST_STATS_FIELDS_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "holdfast/stats.h"

namespace holdfast {

struct StatsCounterField {
  std::string_view name;
  uint64_t EngineStats::*field;
};

struct StatsLatencyField {
  std::string_view name;
  LatencySummary EngineStats::*field;
};

// Every counter of EngineStats, in declaration order. Add a new counter here too.
inline constexpr std::array<StatsCounterField, 24> kStatsCounterFields = {{
    {"active_sessions", &EngineStats::active_sessions},
    {"starts", &EngineStats::starts},
    {"saves", &EngineStats::saves},
    {"saves_skipped", &EngineStats::saves_skipped},
    {"bytes_written", &EngineStats::bytes_written},
    {"conflicts_retried", &EngineStats::conflicts_retried},
    {"handoffs", &EngineStats::handoffs},
    {"trades", &EngineStats::trades},
    {"steals", &EngineStats::steals},
    {"orphans_taken_over", &EngineStats::orphans_taken_over},
    {"io_errors", &EngineStats::io_errors},
    {"storage_reopens", &EngineStats::storage_reopens},
    {"critical_state_entries", &EngineStats::critical_state_entries},
    {"corruptions_repaired", &EngineStats::corruptions_repaired},
    {"disagreements", &EngineStats::disagreements},
    {"repairs_refused", &EngineStats::repairs_refused},
    {"rollbacks", &EngineStats::rollbacks},
    {"removals", &EngineStats::removals},
    {"messages_sent", &EngineStats::messages_sent},
    {"messages_delivered", &EngineStats::messages_delivered},
    {"messages_processed", &EngineStats::messages_processed},
    {"handler_exceptions", &EngineStats::handler_exceptions},
    {"profile_commits", &EngineStats::profile_commits},
    {"storage_connections_opened", &EngineStats::storage_connections_opened},
}};

inline constexpr std::array<StatsLatencyField, 2> kStatsLatencyFields = {{
    {"start", &EngineStats::start_latency},
    {"save", &EngineStats::save_latency},
}};

}  // namespace holdfast

#endif  // HOLDFAST_STATS_FIELDS_H_
