// `holdfast stores`: the stores in the database with their profile, lock and version counts.
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "text_output.h"

namespace holdfast::cli {
namespace {

void WriteStore(JsonWriter& out, const StoreSummary& store) {
  out.BeginObject()
      .Field("name", store.name)
      .Field("codec", store.codec)
      .Field("profiles", store.profiles)
      .Field("locked", store.locked)
      .Field("versions", store.versions)
      .Field("damaged", store.damaged);
  WriteTimeField(out, "created", store.created_unix_ms);
  out.EndObject();
}

Status ListStores(Engine& engine, const Invocation& call) {
  auto stores = Admin(engine).Stores();
  if (!stores.ok()) return stores.status();
  if (call.json) {
    PrintJsonArray(call.io.out, *stores, WriteStore);
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

}  // namespace

std::unique_ptr<Command> MakeStoresCommand() {
  return MakeDatabaseCommand({.name = "stores", .summary = "list the stores", .run = ListStores});
}

}  // namespace holdfast::cli
