#include "raw_rocksdb_baseline.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
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

bool RawRocksBaseline::Save(Writer& w, WriteKind kind) {
  const uint64_t version = w.version + 1;
  StampCounter(&w.data, version);
  StampCounter(&w.history, version);
  StampAt(&w.meta, 8, version);
  const std::string history_key = HistoryKey(w.key, version);
  const std::string pruned_key =
      version > kHistoryKept ? HistoryKey(w.key, version - kHistoryKept) : std::string();
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_;
  if (kind == WriteKind::kPlainBatch) {
    rocksdb::WriteBatch batch;
    bool ok = batch.Put(handles_[kData], w.key, w.data).ok() &&
              batch.Put(handles_[kHistory], history_key, w.history).ok() &&
              (pruned_key.empty() || batch.Delete(handles_[kHistory], pruned_key).ok()) &&
              batch.Put(handles_[kMeta], w.key, w.meta).ok() &&
              db_->Write(write_options, &batch).ok();
    if (ok) w.version = version;
    return ok;
  }
  constexpr int kAttempts = 64;  // as Holdfast (kDefaultTransactionAttempts)
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::unique_ptr<rocksdb::Transaction> txn(db_->BeginTransaction(write_options));
    std::string stored_meta;
    rocksdb::Status s =
        txn->GetForUpdate(rocksdb::ReadOptions(), handles_[kMeta], w.key, &stored_meta);
    if (s.ok()) {
      uint64_t stored_epoch = 0;
      if (stored_meta.size() >= sizeof stored_epoch) {
        std::memcpy(&stored_epoch, stored_meta.data(), sizeof stored_epoch);
      }
      if (stored_epoch != w.epoch) return false;  // fenced out: another session holds it
    } else if (!s.IsNotFound()) {
      return false;
    }
    s = txn->Put(handles_[kData], w.key, w.data);
    if (s.ok()) s = txn->Put(handles_[kHistory], history_key, w.history);
    if (s.ok() && !pruned_key.empty()) s = txn->Delete(handles_[kHistory], pruned_key);
    if (s.ok()) s = txn->Put(handles_[kMeta], w.key, w.meta);
    if (s.ok()) s = txn->Commit();
    if (s.ok()) {
      w.version = version;
      return true;
    }
    if (!s.IsBusy() && !s.IsTryAgain()) return false;
  }
  return false;
}

}  // namespace holdfast::bench
