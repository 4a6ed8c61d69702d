#include "rocksdb_storage.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction.h>

#include <cstdarg>
#include <filesystem>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <vector>

#include "rocksdb_status.h"

namespace holdfast::internal {
namespace {

constexpr Family kAllFamilies[kFamilyCount] = {Family::kDefault, Family::kData, Family::kMeta,
                                               Family::kVersions, Family::kMessages};

// Discards RocksDB's informational log, so that a read-only probe writes no LOG file.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

rocksdb::DBOptions MakeDBOptions(const RocksStorageOptions& o) {
  rocksdb::DBOptions db;
  db.create_if_missing = o.create_if_missing;
  db.create_missing_column_families = true;
  db.paranoid_checks = true;
  // RocksDB 7.8 can report a false "missing WAL" with this on (fixed in 7.10): TOOLCHAIN.md.
  db.track_and_verify_wals_in_manifest = false;
  db.keep_log_file_num = 4;
  if (o.env) db.env = o.env;
  return db;
}

rocksdb::ColumnFamilyOptions MakeFamilyOptions(const RocksStorageOptions& o) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  // Optimistic conflict checks need the memtable history since a transaction's reads; keeping
  // two buffers' worth makes TryAgain (too little history) rare.
  cf.max_write_buffer_size_to_maintain = static_cast<int64_t>(o.write_buffer_bytes) * 2;
  return cf;
}

// Visits [range.lower, range.upper) of an iterator, bounds checked by hand so the same code
// serves base-DB iterators and transaction (write-batch-merged) iterators.
Status VisitRange(rocksdb::Iterator* it, const ScanRange& range, ScanOrder order,
                  const ScanVisitor& visit) {
  auto in_range = [&](const rocksdb::Slice& k) {
    if (k.compare(rocksdb::Slice(range.lower)) < 0) return false;
    return range.upper.empty() || k.compare(rocksdb::Slice(range.upper)) < 0;
  };
  if (order == ScanOrder::kForward) {
    for (it->Seek(range.lower); it->Valid() && in_range(it->key()); it->Next()) {
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
  } else {
    if (range.upper.empty()) {
      it->SeekToLast();
    } else {
      it->SeekForPrev(range.upper);
      if (it->Valid() && it->key().compare(rocksdb::Slice(range.upper)) >= 0) it->Prev();
    }
    for (; it->Valid() && in_range(it->key()); it->Prev()) {
      if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
    }
  }
  return FromRocksDB(it->status(), "scan");
}

class RocksStorage;

class RocksTransaction final : public StorageTransaction {
 public:
  RocksTransaction(RocksStorage* storage, std::unique_ptr<rocksdb::Transaction> txn)
      : storage_(storage), txn_(std::move(txn)) {}

  Status Get(Family f, std::string_view key, std::string* value) override;
  Status GetForUpdate(Family f, std::string_view key, std::string* value) override;
  Status Put(Family f, std::string_view key, std::string_view value) override;
  Status Delete(Family f, std::string_view key) override;
  Status Scan(Family f, const ScanRange& range, ScanOrder order, const ScanVisitor& visit) override;
  Status Commit() override;

 private:
  RocksStorage* storage_;
  std::unique_ptr<rocksdb::Transaction> txn_;
};

class RocksStorage final : public Storage {
 public:
  RocksStorage(rocksdb::OptimisticTransactionDB* db,
               std::vector<rocksdb::ColumnFamilyHandle*> handles, bool sync)
      : db_(db), handles_(std::move(handles)) {
    write_options_.sync = sync;
  }
  ~RocksStorage() override { (void)Close(); }

  rocksdb::ColumnFamilyHandle* Handle(Family f) const { return handles_[static_cast<int>(f)]; }
  rocksdb::OptimisticTransactionDB* db() const { return db_; }

  std::unique_ptr<StorageTransaction> Begin() override {
    std::shared_lock lock(close_mu_);
    if (db_ == nullptr) return nullptr;
    std::unique_ptr<rocksdb::Transaction> txn(db_->BeginTransaction(write_options_));
    return std::make_unique<RocksTransaction>(this, std::move(txn));
  }

  Status Get(Family f, std::string_view key, std::string* value) override {
    std::shared_lock lock(close_mu_);
    if (db_ == nullptr) return Status::Closed("storage is closed");
    return FromRocksDB(db_->Get(rocksdb::ReadOptions(), Handle(f), key, value), "get");
  }

  Status Scan(Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) override {
    std::shared_lock lock(close_mu_);
    if (db_ == nullptr) return Status::Closed("storage is closed");
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(f)));
    return VisitRange(it.get(), range, order, visit);
  }

  Status Close() override {
    std::unique_lock lock(close_mu_);
    if (db_ == nullptr) return Status::Ok();
    Status result;
    rocksdb::FlushOptions flush;
    flush.wait = true;
    for (auto* h : handles_) {
      Status s = FromRocksDB(db_->Flush(flush, h), "flush on close");
      if (result.ok()) result = s;
    }
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    Status s = FromRocksDB(db_->Close(), "close");
    if (result.ok()) result = s;
    delete db_;
    db_ = nullptr;
    return result;
  }

  const rocksdb::WriteOptions& write_options() const { return write_options_; }

 private:
  // Transactions and reads hold it shared; Close holds it exclusively. Callers must finish their
  // transactions before closing (the engine ends sessions first).
  std::shared_mutex close_mu_;
  rocksdb::OptimisticTransactionDB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
};

Status RocksTransaction::Get(Family f, std::string_view key, std::string* value) {
  return FromRocksDB(txn_->Get(rocksdb::ReadOptions(), storage_->Handle(f), key, value), "get");
}

Status RocksTransaction::GetForUpdate(Family f, std::string_view key, std::string* value) {
  return FromRocksDB(txn_->GetForUpdate(rocksdb::ReadOptions(), storage_->Handle(f), key, value),
                     "get for update");
}

Status RocksTransaction::Put(Family f, std::string_view key, std::string_view value) {
  return FromRocksDB(txn_->Put(storage_->Handle(f), key, value), "put");
}

Status RocksTransaction::Delete(Family f, std::string_view key) {
  return FromRocksDB(txn_->Delete(storage_->Handle(f), key), "delete");
}

Status RocksTransaction::Scan(Family f, const ScanRange& range, ScanOrder order,
                              const ScanVisitor& visit) {
  std::unique_ptr<rocksdb::Iterator> it(
      txn_->GetIterator(rocksdb::ReadOptions(), storage_->Handle(f)));
  return VisitRange(it.get(), range, order, visit);
}

Status RocksTransaction::Commit() { return FromRocksDB(txn_->Commit(), "commit"); }

// The families present on disk, or an empty list for a new database.
Result<std::vector<std::string>> ExistingFamilies(const RocksStorageOptions& o) {
  if (!DatabaseExists(o)) return std::vector<std::string>{};
  std::vector<std::string> names;
  rocksdb::DBOptions db = MakeDBOptions(o);
  Status s =
      FromRocksDB(rocksdb::DB::ListColumnFamilies(db, o.path, &names), "list column families");
  if (!s.ok()) return s;
  std::set<std::string> known;
  for (Family f : kAllFamilies) known.insert(std::string(FamilyName(f)));
  for (const auto& n : names) {
    if (!known.count(n)) {
      return Status::InvalidArgument(
          "'" + o.path + "' is not a Holdfast database (column family '" + n + "' is unknown)");
    }
  }
  return names;
}

}  // namespace

bool DatabaseExists(const RocksStorageOptions& options) {
  rocksdb::Env* env = options.env ? options.env : rocksdb::Env::Default();
  return env->FileExists(options.path + "/CURRENT").ok();
}

Result<std::string> ReadDefaultKeyReadOnly(const RocksStorageOptions& options,
                                           std::string_view key) {
  auto families = ExistingFamilies(options);
  if (!families.ok()) return families.status();
  if (families->empty()) return Status::NotFound("no database at '" + options.path + "'");
  rocksdb::DBOptions db_options = MakeDBOptions(options);
  db_options.create_if_missing = false;
  db_options.info_log = std::make_shared<NullLogger>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : *families) descriptors.emplace_back(n, MakeFamilyOptions(options));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  Status s = FromRocksDB(
      rocksdb::DB::OpenForReadOnly(db_options, options.path, descriptors, &handles, &raw),
      "open read-only");
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == rocksdb::kDefaultColumnFamilyName) default_family = h;
  }
  std::string value;
  s = FromRocksDB(db->Get(rocksdb::ReadOptions(), default_family, key, &value), "read");
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
  if (!s.ok()) return s;
  return value;
}

Result<std::unique_ptr<Storage>> OpenRocksStorage(const RocksStorageOptions& options) {
  auto existing = ExistingFamilies(options);
  if (!existing.ok()) return existing.status();
  if (existing->empty() && !options.create_if_missing) {
    return Status::InvalidArgument("no Holdfast database at '" + options.path +
                                   "' (and create_if_missing is false)");
  }
  if (!options.env || options.create_parent_directories) {
    // RocksDB creates only the last path component; create parents the way `mkdir -p` would.
    // A failure here surfaces as a clear error from the open below.
    std::error_code ignored;
    std::filesystem::create_directories(options.path, ignored);
  }
  rocksdb::DBOptions db_options = MakeDBOptions(options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (Family f : kAllFamilies) {
    descriptors.emplace_back(std::string(FamilyName(f)), MakeFamilyOptions(options));
  }
  rocksdb::OptimisticTransactionDBOptions occ;
  occ.validate_policy = rocksdb::OccValidationPolicy::kValidateParallel;  // keeps group commit
  occ.occ_lock_buckets = options.conflict_buckets;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::OptimisticTransactionDB* db = nullptr;
  Status s = FromRocksDB(rocksdb::OptimisticTransactionDB::Open(db_options, occ, options.path,
                                                                descriptors, &handles, &db),
                         "open '" + options.path + "'");
  if (s.code() == StatusCode::kInvalidArgument) {
    // Holdfast's own options are valid by construction and a missing database was refused
    // above, so RocksDB's InvalidArgument here comes from a failed read during recovery (7.8
    // reports a failed probe of CURRENT as "Direct I/O is not supported"): an I/O problem.
    s = Status::IOError(s.message());
  }
  if (!s.ok()) return s;
  return std::unique_ptr<Storage>(new RocksStorage(db, std::move(handles), options.sync));
}

}  // namespace holdfast::internal
