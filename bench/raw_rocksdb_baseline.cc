#include "raw_rocksdb_baseline.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction.h>
#include <rocksdb/write_batch.h>

#include <cstring>

#include "bench_util.h"

namespace holdfast::bench {
namespace {

enum Handle { kDefault = 0, kData = 1, kMeta = 2, kHistory = 3 };

// A history key: the profile key and a big-endian version, as Holdfast lays out its versions.
std::string HistoryKey(const std::string& key, uint64_t version) {
  std::string out = key;
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(version >> shift));
  return out;
}

void StampAt(std::string* bytes, size_t offset, uint64_t value) {
  if (bytes->size() >= offset + sizeof value) {
    std::memcpy(bytes->data() + offset, &value, sizeof value);
  }
}

}  // namespace

std::unique_ptr<RawRocksBaseline> RawRocksBaseline::Open(const std::string& dir, bool sync,
                                                         std::string* error) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.track_and_verify_wals_in_manifest = false;  // as Holdfast (TOOLCHAIN.md)
  rocksdb::ColumnFamilyOptions family;
  family.write_buffer_size = size_t{16} << 20;  // Holdfast's default write_buffer_bytes
  family.max_write_buffer_size_to_maintain = int64_t{32} << 20;
  rocksdb::BlockBasedTableOptions table;  // Holdfast's Bloom filters (MakeFamilyOptions)
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.memtable_prefix_bloom_size_ratio = 0.02;
  family.memtable_whole_key_filtering = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "data", "meta", "history"}) {
    families.emplace_back(name, family);
  }
  rocksdb::OptimisticTransactionDBOptions occ;
  occ.validate_policy = rocksdb::OccValidationPolicy::kValidateParallel;
  occ.occ_lock_buckets = 1u << 16;  // Holdfast's default conflict_buckets
  std::unique_ptr<RawRocksBaseline> baseline(new RawRocksBaseline());
  baseline->sync_ = sync;
  rocksdb::Status s = rocksdb::OptimisticTransactionDB::Open(db_options, occ, dir, families,
                                                             &baseline->handles_, &baseline->db_);
  if (!s.ok()) {
    *error = s.ToString();
    return nullptr;
  }
  return baseline;
}

RawRocksBaseline::~RawRocksBaseline() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  (void)db_->Close();
  delete db_;
}

RawRocksBaseline::Writer RawRocksBaseline::MakeWriter(std::string key, const RecordSizes& sizes,
                                                      uint64_t seed) {
  Writer w;
  w.key = std::move(key);
  FillRandomBytes(&w.data, sizes.data, seed);
  FillRandomBytes(&w.meta, sizes.meta, seed + 1);
  FillRandomBytes(&w.history, sizes.history, seed + 2);
  StampAt(&w.meta, 0, w.epoch);
  return w;
}

namespace {

// What one writer's next save writes: its new version, the history key and the key leaving the
// newest-kHistoryKept window (empty while the window is not full).
struct PendingSave {
  RawRocksBaseline::Writer* writer;
  uint64_t version;
  std::string history_key;
  std::string pruned_key;
};

PendingSave Prepare(RawRocksBaseline::Writer& w) {
  const uint64_t version = w.version + 1;
  StampCounter(&w.data, version);
  StampCounter(&w.history, version);
  StampAt(&w.meta, 8, version);
  return {&w, version, HistoryKey(w.key, version),
          version > kHistoryKept ? HistoryKey(w.key, version - kHistoryKept) : std::string()};
}

// The three records (and the pruned version) of `save` into `out` (a WriteBatch or a
// Transaction: both have Put and Delete by column family).
template <typename Writes>
rocksdb::Status Stage(Writes& out, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                      const PendingSave& save) {
  const RawRocksBaseline::Writer& w = *save.writer;
  rocksdb::Status s = out.Put(handles[kData], w.key, w.data);
  if (s.ok()) s = out.Put(handles[kHistory], save.history_key, w.history);
  if (s.ok() && !save.pruned_key.empty()) s = out.Delete(handles[kHistory], save.pruned_key);
  if (s.ok()) s = out.Put(handles[kMeta], w.key, w.meta);
  return s;
}

}  // namespace

bool RawRocksBaseline::SaveAll(const std::vector<Writer*>& writers, WriteKind kind) {
  std::vector<PendingSave> saves;
  saves.reserve(writers.size());
  for (Writer* w : writers) saves.push_back(Prepare(*w));
  auto done = [&saves] {
    for (const PendingSave& save : saves) save.writer->version = save.version;
    return true;
  };
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_;
  if (kind == WriteKind::kPlainBatch) {
    rocksdb::WriteBatch batch;
    for (const PendingSave& save : saves) {
      if (!Stage(batch, handles_, save).ok()) return false;
    }
    return db_->Write(write_options, &batch).ok() && done();
  }
  constexpr int kAttempts = 64;  // as Holdfast (kDefaultTransactionAttempts)
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(db_->BeginTransaction(write_options));
    rocksdb::Status s;
    for (const PendingSave& save : saves) {
      std::string stored_meta;
      s = txn->GetForUpdate(rocksdb::ReadOptions(), handles_[kMeta], save.writer->key,
                            &stored_meta);
      if (s.ok()) {
        uint64_t stored_epoch = 0;
        if (stored_meta.size() >= sizeof stored_epoch) {
          std::memcpy(&stored_epoch, stored_meta.data(), sizeof stored_epoch);
        }
        if (stored_epoch != save.writer->epoch) return false;  // fenced out
      } else if (!s.IsNotFound()) {
        return false;
      }
      s = Stage(*txn, handles_, save);
      if (!s.ok()) return false;
    }
    s = txn->Commit();
    if (s.ok()) return done();
    if (!s.IsBusy() && !s.IsTryAgain()) return false;
  }
  return false;
}

bool RawRocksBaseline::Append(const std::string& key, const std::string& value) {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_;
  rocksdb::WriteBatch batch;
  return batch.Put(handles_[kData], key, value).ok() && db_->Write(write_options, &batch).ok();
}

}  // namespace holdfast::bench
