// The import's share of the profile transactions (Admin::Import, admin_import.cc): one imported
// profile staged inside the import's single transaction. Part of the one module that writes
// `meta`, `data` and `versions` (profile_transactions.h); its commit runs through
// RunProfileCommit like every other profile transaction.
#ifndef HOLDFAST_SRC_PROFILE_IMPORT_H_
#define HOLDFAST_SRC_PROFILE_IMPORT_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "holdfast/admin.h"
#include "profile_commit.h"
#include "profile_transactions.h"
#include "storage.h"

namespace holdfast::internal {

struct ImportWrite {
  ProfileAddress at;
  const ImportedProfile* profile = nullptr;  // its user ids sorted and unique
  std::string_view codec;
  const HistoryPolicy* history = nullptr;
  // A stored lock is fenced (a new epoch, the lock cleared) instead of refusing with Locked.
  bool through_lock = false;
};

// Stages one imported profile in `txn`: meta read for update (so a concurrent write conflicts),
// a new epoch, the lock left free, the payload appended as the next version (reason kAdmin)
// and made current, user ids (and their index) and metadata replaced. Adds its commit point
// (kind kAdminWrite) to `*staged`; `*created` tells whether the profile had no data before.
//   Locked      a lock is stored and write.through_lock is false;
//   Corruption  its meta or data record fails verification (erase or roll it back first);
//   storage errors as they come. The caller's transaction then commits nothing.
Status StageImportedProfile(StorageTransaction& txn, int64_t now_unix_ms,
                            const ImportWrite& write, bool* created,
                            std::vector<StagedCommit>* staged);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PROFILE_IMPORT_H_
