// `holdfast stores`: the stores in the database with their profile, lock and version counts.
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "text_output.h"

namespace holdfast::cli {
namespace stores_command {

Json StoreJson(const StoreSummary& store) {
  return {{"name", store.name},
          {"codec", store.codec},
          {"profiles", store.profiles},
          {"locked", store.locked},
          {"versions", store.versions},
          {"damaged", store.damaged},
          {"created", TimeJson(store.created_unix_ms)}};
}

Status ListStores(AdminService& admin, const Invocation& call) {
  auto stores = admin.Stores();
  if (!stores.ok()) return stores.status();
  if (call.json) {
    PrintJson(call.io.out, JsonArray(*stores, StoreJson));
    return Status::Ok();
  }
  Table table({"STORE", "CODEC", "PROFILES", "LOCKED", "VERSIONS", "DAMAGED", "CREATED"});
  for (const StoreSummary& store : *stores) {
    table.Add({store.name, store.codec, std::to_string(store.profiles),
               std::to_string(store.locked), std::to_string(store.versions),
               std::to_string(store.damaged), TimeText(store.created_unix_ms)});
  }
  table.Print(call.io.out);
  return Status::Ok();
}

}  // namespace stores_command

std::unique_ptr<Command> MakeStoresCommand() {
  using namespace stores_command;
  return MakeDatabaseCommand({.name = "stores", .summary = "list the stores", .run = ListStores});
}

}  // namespace holdfast::cli
