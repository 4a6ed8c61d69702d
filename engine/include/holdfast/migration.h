// Schema migrations of a typed store: the game's ordered steps that bring stored data up to the
// shape its current code expects. Each payload is stored with the number of steps it has been
// through (its schema version); a start or Get runs the missing steps, in order, on the decoded
// data, and a start stores the result at once — so each step's effect reaches the stored data
// exactly once, and the stored version never goes down.
#ifndef HOLDFAST_MIGRATION_H_
#define HOLDFAST_MIGRATION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "holdfast/status.h"

namespace holdfast {

// One step: turns data of schema version N-1 into version N, N being its position in
// StoreOptions::migrations (from 1). Append steps; never reorder, change or remove one that a
// deployed server may have run. `apply` must be a pure function of the data: it may run more
// than once on the same stored payload (a check inside a retried transaction, each Get), but
// only its first stored result counts. A non-OK status refuses the data: the start fails with
// InvalidArgument, changing nothing.
template <typename Value>
struct Migration {
  std::string name;  // named in errors, e.g. "add-guild-field"
  std::function<Status(Value&)> apply;
};

// Runs steps [from, steps.size()) on `data`. InvalidArgument when `from` is newer than the steps
// this code knows (a newer server wrote the data) or a step refuses.
template <typename Value>
Status MigrateValue(Value& data, uint32_t from, const std::vector<Migration<Value>>& steps) {
  if (from > steps.size()) {
    return Status::InvalidArgument(
        "the data is in schema version " + std::to_string(from) + ", newer than the " +
        std::to_string(steps.size()) + " this server's migrations reach (a newer server wrote it)");
  }
  for (size_t i = from; i < steps.size(); ++i) {
    if (!steps[i].apply) continue;
    if (Status s = steps[i].apply(data); !s.ok()) {
      return Status::InvalidArgument("migration step " + std::to_string(i + 1) + " '" +
                                     steps[i].name + "' refused the data: " + s.ToString());
    }
  }
  return Status::Ok();
}

}  // namespace holdfast

#endif  // HOLDFAST_MIGRATION_H_
