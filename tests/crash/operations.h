// The crash workload's operations, as one table. The worker picks rows by weight and runs them;
// the parent checks each acknowledgement against the row's allowed status codes. Everything an
// operation changes reaches the parent as generic events (acquired, saved, ended: protocol.h),
// so the checker needs no per-operation code.
//
// To add an operation (messages, atomic trades, ...): write its Run function in operations.cc,
// add a row with a weight and the codes that are not violations, and report any new kind of
// effect as an event the model (model.h) understands.
#ifndef HOLDFAST_TESTS_CRASH_OPERATIONS_H_
#define HOLDFAST_TESTS_CRASH_OPERATIONS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "holdfast/status.h"

namespace holdfast::crash {

class Worker;

struct Operation {
  std::string_view name;
  int weight;  // relative frequency; 0 = not run (yet)
  // Codes an acknowledgement may carry; any other is a violation.
  std::vector<StatusCode> allowed;
  // Runs operation number `op`: reports its intent, runs it, reports the acknowledgement.
  void (*run)(Worker& worker, uint64_t op);
};

const std::vector<Operation>& Operations();
const Operation* FindOperation(std::string_view name);

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_OPERATIONS_H_
