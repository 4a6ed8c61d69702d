// The check behind Admin::Verify: reads every record of the chosen stores through the one decode
// function of its type and reports what fails, without stopping at the first damage.
#ifndef HOLDFAST_SRC_DATABASE_VERIFY_H_
#define HOLDFAST_SRC_DATABASE_VERIFY_H_

#include <string_view>
#include <vector>

#include "holdfast/admin.h"
#include "records.h"
#include "storage.h"

namespace holdfast::internal {

// Checks the manifest, the stores in `stores` (each a registered store) and, when `whole_database`,
// also the keys that belong to no registered store. `registered` is every registered store.
// Fails only when the storage cannot be read on (IOError, Closed); damage goes into the report.
// `progress`, when set, is called with the profiles checked so far after each one.
Result<VerifyReport> VerifyDatabase(Storage& storage, const std::vector<StoreEntry>& registered,
                                    const std::vector<StoreEntry>& stores, bool whole_database,
                                    const VerifyProgress& progress = nullptr);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_DATABASE_VERIFY_H_
