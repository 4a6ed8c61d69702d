// The PostgreSQL backend of the storage seam: one table per internal::Family, keys and values as
// bytea, REPEATABLE READ transactions whose keys read for update are locked at commit (a conflict
// is Busy, as an optimistic conflict is on RocksDB).
// Schema (docs/scale-out.md): holdfast_schema (the backend's schema version, one row),
// holdfast_<family> (k bytea PRIMARY KEY, v bytea NOT NULL) and holdfast_engines (the engines
// sharing the database and their leases, pg_membership.h), created on first open. Many engines
// (in many processes) may open one database; a writing engine joins its membership
// (Storage::Membership) after claiming its incarnation.
#ifndef HOLDFAST_SRC_POSTGRES_STORAGE_H_
#define HOLDFAST_SRC_POSTGRES_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "holdfast/status.h"
#include "storage.h"

namespace holdfast::internal {

// The version of the tables' layout this build writes; a database with a newer one is refused.
inline constexpr int kPostgresSchemaVersion = 1;

struct PostgresStorageOptions {
  std::string conninfo;  // a postgresql:// URI or a libpq key=value string; may hold a password
  bool create_if_missing = true;
  bool sync = true;       // synchronous_commit on (the server's setting) or off
  size_t max_idle_connections = 32;  // EngineOptions::postgres_idle_connections
  // Only reads: transactions, compaction and checkpoints into the database are refused.
  bool read_only = false;
};

// Opens (creating the tables when allowed) the database. IOError when it cannot be reached;
// InvalidArgument when it has no Holdfast tables and create_if_missing
// is false, or tables of a newer layout. Messages name the database without its password.
Result<std::unique_ptr<Storage>> OpenPostgresStorage(const PostgresStorageOptions& options);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_POSTGRES_STORAGE_H_
