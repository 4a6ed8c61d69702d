// The storage seam: the small transactional interface the session logic is written against.
// Two backends: RocksDB (rocksdb_storage.cc; one writing process per database) and PostgreSQL
// (postgres_storage.cc; many engines in many processes share one database through leases, see
// EngineMembership).
//
// Semantics a backend must provide:
//  - A transaction sees its own writes and the committed state as of its reads.
//  - Commit() fails with Busy, writing nothing, when a key read with GetForUpdate was written by
//    another commit after that read (optimistic concurrency). Busy is always safe to retry from
//    the start of the transaction; RunTransaction does so.
//  - Commits are atomic and, when the backend was opened with sync, durable once acknowledged.
// Thread safety: Storage is thread-safe; a StorageTransaction belongs to one thread at a time.
#ifndef HOLDFAST_SRC_STORAGE_H_
#define HOLDFAST_SRC_STORAGE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/status.h"

namespace holdfast::internal {

enum class Family : uint8_t { kDefault = 0, kData, kMeta, kVersions, kMessages };
inline constexpr int kFamilyCount = 5;
// The on-disk column family name ("default", "data", "meta", "versions", "messages").
std::string_view FamilyName(Family f);

// Keys in [lower, upper); an empty `upper` means no upper bound.
struct ScanRange {
  std::string lower;
  std::string upper;
  // Every key that starts with `prefix`.
  static ScanRange Prefix(std::string_view prefix);
};

// Called for each key in order; return false to stop the scan early.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

enum class ScanOrder : uint8_t { kForward, kReverse };

// Another engine's lease on a shared database, as a transaction sees it.
struct PeerLease {
  bool alive = false;          // registered, and its lease has not expired by the database's clock
  int64_t remaining_ms = 0;    // until it expires (when alive)
};

class StorageTransaction {
 public:
  virtual ~StorageTransaction() = default;
  // NotFound when absent; IOError on storage failure.
  virtual Status Get(Family f, std::string_view key, std::string* value) = 0;
  // As Get, and the commit will fail with Busy if the key changes before it.
  virtual Status GetForUpdate(Family f, std::string_view key, std::string* value) = 0;
  // GetForUpdate of each of `keys` (distinct): (*values)[i] holds keys[i]'s value, nullopt when
  // absent; the first failure fails the call. The default reads them one by one; a backend may
  // read them in one batch.
  virtual Status GetManyForUpdate(Family f, const std::vector<std::string>& keys,
                                  std::vector<std::optional<std::string>>* values);
  virtual Status Put(Family f, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(Family f, std::string_view key) = 0;
  // As Put and Delete, for a key covered by another one this transaction read for update: every
  // transaction that writes the key also writes the covering key (a profile's data and
  // versions, covered by its meta), so a conflicting write always fails the covering key's
  // check. A backend may leave the key out of the conflict check (RocksDB: untracked). Default:
  // Put and Delete.
  virtual Status PutCovered(Family f, std::string_view key, std::string_view value) {
    return Put(f, key, value);
  }
  virtual Status DeleteCovered(Family f, std::string_view key) { return Delete(f, key); }
  // Visits committed keys merged with this transaction's own writes.
  virtual Status Scan(Family f, const ScanRange& range, ScanOrder order,
                      const ScanVisitor& visit) = 0;
  // Busy on conflict (nothing written); IOError on storage failure.
  virtual Status Commit() = 0;

  // Engines sharing the database. Whether the engine of `incarnation` holds a live lease, as of
  // this transaction and by the database's clock. A backend with one writing process answers
  // that no other engine is alive: every other incarnation's locks are orphans.
  virtual Result<PeerLease> Lease(uint64_t /*incarnation*/) { return PeerLease{}; }
  // Sends `message` (printable text) to the engine of `incarnation` if and when this transaction
  // commits; never when it does not. No-op on a backend with one writing process.
  virtual void Notify(uint64_t /*incarnation*/, std::string_view /*message*/) {}
};

// What a joined engine hears from its membership (on the membership's own thread, holding no
// engine lock).
struct MembershipHandlers {
  // A notification another engine sent to this one (StorageTransaction::Notify).
  std::function<void(std::string_view message)> on_message;
  // The lease could not be renewed in time (or was found expired): called once, before the
  // lease can have expired by the database's clock when the hosts' clocks run at the same rate.
  // From then on Begin() fails with LockLost: this engine never writes again.
  std::function<void(const Status& why)> on_lease_lost;
};

// The membership of engines sharing one database: each holds a lease, timed by the database's
// clock and renewed in the background; a lock whose engine's lease expired is an orphan.
class EngineMembership {
 public:
  virtual ~EngineMembership() = default;
  // Registers `incarnation` with a lease of `lease`, listens for notifications to it and renews
  // the lease every third of `lease`. IOError when the database cannot be reached.
  virtual Status Join(uint64_t incarnation, const std::string& owner,
                      std::chrono::milliseconds lease, MembershipHandlers handlers) = 0;
  // Stops renewing and listening and removes the registration: this engine's remaining locks
  // (none after a clean close) become orphans at once. Idempotent.
  virtual void Leave() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Closed after Close(); IOError when the backend cannot be made writable (see Reopens()).
  // A transaction must end before its thread begins another or closes the storage.
  virtual Result<std::unique_ptr<StorageTransaction>> Begin() = 0;
  // Reads of the latest committed state, outside any transaction.
  virtual Status Get(Family f, std::string_view key, std::string* value) = 0;
  virtual Status Scan(Family f, const ScanRange& range, ScanOrder order,
                      const ScanVisitor& visit) = 0;
  // Flushes memtables and closes; later calls fail with Closed.
  virtual Status Close() = 0;
  // How many times the backend was reopened in place to clear a storage error that stops all
  // writes (a failed log write or sync, a full disk) once it is gone.
  virtual uint64_t Reopens() const = 0;
  // Connections to a database server opened so far for transactions and reads (PostgreSQL);
  // 0 for an embedded backend.
  virtual uint64_t ConnectionsOpened() const { return 0; }
  // Flushes every family (so the write-ahead log holding them is retired) and compacts the files
  // of `f` that hold `range` in full, so deleted records in it no longer exist in the database's
  // files (the erasure of Store::Remove).
  virtual Status CompactRange(Family f, const ScanRange& range) = 0;

  // Maintenance for the admin API (holdfast/admin.h); each may run while transactions do.
  // Writes a consistent copy of the whole database into `dir`, which must not exist yet; the
  // copy opens as a database of its own. InvalidArgument when `dir` exists; IOError otherwise.
  virtual Status Checkpoint(const std::string& dir) = 0;
  // Checks the backend's own checksums of every stored block; Corruption names what failed.
  virtual Status VerifyFiles() = 0;

  // The membership of engines sharing this database; null for a backend with one writing
  // process (RocksDB) or storage opened read-only.
  virtual EngineMembership* Membership() { return nullptr; }
  // True when many engines may write this database at once (PostgreSQL), even if this one only
  // reads: then another incarnation's lock is an orphan only once its engine's lease expired.
  virtual bool Shared() const { return false; }
  // Another engine's lease now, outside any transaction (for reports such as Admin::Locks).
  // A backend with one writing process answers that no other engine is alive.
  virtual Result<PeerLease> Lease(uint64_t /*incarnation*/) { return PeerLease{}; }
};

// How many times RunTransaction starts over on Busy before giving up with Busy.
inline constexpr int kDefaultTransactionAttempts = 64;

// Runs `body` in a fresh transaction and commits it. When the body or the commit returns Busy, the
// whole transaction starts over, up to `attempts` times. Any other failure is returned as is,
// with nothing committed. `retries`, when given, is increased by the number of restarts.
Status RunTransaction(Storage& storage, const std::function<Status(StorageTransaction&)>& body,
                      int attempts = kDefaultTransactionAttempts, uint64_t* retries = nullptr);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_STORAGE_H_
