// StoreConfig: what a store was opened with in this engine — its name, codec, timing, history
// policy, template and schema. Immutable; shared by the store's session registry and every session of
// the store. A later open must agree with it (StoreRegistry::Open).
#ifndef HOLDFAST_SRC_STORE_CONFIG_H_
#define HOLDFAST_SRC_STORE_CONFIG_H_

#include <string>

#include "holdfast/raw_store.h"
#include "profile_transactions.h"

namespace holdfast::internal {

struct StoreConfig {
  std::string name;
  std::string codec;
  StoreSettings settings;
  HistoryPolicy history;         // retention, corruption policy, payload check
  std::string template_payload;  // the data of a profile that was never saved
  std::string schema;            // the binary schema it was opened with ("" when none)
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_STORE_CONFIG_H_
