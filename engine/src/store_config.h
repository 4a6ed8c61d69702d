// StoreConfig: what a store was first opened with in this engine — its name, codec, timing and
// history policy. Immutable; shared by the store's session registry and every session of the
// store. (The template belongs to each RawStore handle.)
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
  HistoryPolicy history;  // retention, corruption policy, payload check
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_STORE_CONFIG_H_
