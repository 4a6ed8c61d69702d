// The PostgreSQL backend of the storage seam: one table per internal::Family, keys and values as
// bytea, SERIALIZABLE transactions (a conflict is Busy, as an optimistic conflict is on RocksDB).
// Schema (docs/scale-out.md): holdfast_schema (the backend's schema version, one row) and
// holdfast_<family> (k bytea PRIMARY KEY, v bytea NOT NULL), created on first open.
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
  size_t max_idle_connections = 8;
  // Only reads: transactions, compaction and checkpoints into the database are refused.
  bool read_only = false;
  // Hold the database's writer lock (a session-level advisory lock) while open, so a second
  // writing engine on the same database is refused with IOError, as RocksDB's LOCK file refuses
  // a second process. Engines that share a database through leases will not take it.
  bool exclusive = true;
};

// Opens (creating the tables when allowed) the database. IOError when it cannot be reached or
// another engine holds it; InvalidArgument when it has no Holdfast tables and create_if_missing
// is false, or tables of a newer layout. Messages name the database without its password.
Result<std::unique_ptr<Storage>> OpenPostgresStorage(const PostgresStorageOptions& options);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_POSTGRES_STORAGE_H_
