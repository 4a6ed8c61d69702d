// The raw RocksDB baseline: the save a user would hand-write on RocksDB without Holdfast. Each
// save writes the same three records a Holdfast save writes (profile data, profile meta, one
// history version) with the sizes Holdfast's records have, deletes the history version that falls
// out of a keep-the-newest-50 window (Holdfast's default retention), and either
//   - kFencedTransaction: reads the meta key with GetForUpdate in an OptimisticTransactionDB
//     transaction and commits only if the stored epoch is still the writer's (the fencing
//     compare-and-swap a session lock needs; what Holdfast itself does), retrying on Busy; or
//   - kPlainBatch: writes the same records in one WriteBatch with no read and no fence (the
//     cheapest possible save, and no session lock at all).
// The database is opened the way Holdfast opens its own (column families, write buffers,
// conflict buckets, parallel validation), so only the work differs.
//
// Thread safety: Save may be called from many threads at once, each with its own Writer.
#ifndef HOLDFAST_BENCH_RAW_ROCKSDB_BASELINE_H_
#define HOLDFAST_BENCH_RAW_ROCKSDB_BASELINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rocksdb {
class ColumnFamilyHandle;
class OptimisticTransactionDB;
}  // namespace rocksdb

namespace holdfast::bench {

// Bytes of the records one save writes, as measured on Holdfast's own stored records.
struct RecordSizes {
  size_t data = 0;
  size_t meta = 0;
  size_t history = 0;
};

class RawRocksBaseline {
 public:
  enum class WriteKind { kFencedTransaction, kPlainBatch };

  // One writer's profile: its key, fencing epoch, version counter and the bytes it rewrites.
  struct Writer {
    std::string key;
    uint64_t epoch = 1;
    uint64_t version = 0;
    std::string data;
    std::string meta;
    std::string history;
  };

  // Opens (creating) a database in `dir`, syncing the log on every write when `sync`.
  // nullptr (with the reason in *error) when RocksDB refuses.
  static std::unique_ptr<RawRocksBaseline> Open(const std::string& dir, bool sync,
                                                std::string* error);
  ~RawRocksBaseline();

  // A writer for `key` whose records have `sizes`, filled with bytes from `seed`.
  static Writer MakeWriter(std::string key, const RecordSizes& sizes, uint64_t seed);

  // One save of `writer`'s three records. False when the fence failed or RocksDB returned an
  // error other than a conflict (conflicts are retried, as Holdfast retries them).
  bool Save(Writer& writer, WriteKind kind) { return SaveAll({&writer}, kind); }
  // The records of every writer in one commit, fenced on each one's epoch (a trade of several
  // profiles, as Engine::SaveTogether stores it). Same results as Save.
  bool SaveAll(const std::vector<Writer*>& writers, WriteKind kind);

  // One record `value` under `key` in the data family, in one write (synced as the database
  // is): the least a durable message append can cost.
  bool Append(const std::string& key, const std::string& value);

 private:
  RawRocksBaseline() = default;

  rocksdb::OptimisticTransactionDB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, data, meta, history
  bool sync_ = true;
};

// Holdfast keeps the newest 50 versions by default (VersionRetention::keep_newest).
inline constexpr uint64_t kHistoryKept = 50;

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_RAW_ROCKSDB_BASELINE_H_
