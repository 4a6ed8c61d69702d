#include "rocksdb_storage.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <filesystem>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "rocksdb_common.h"
#include "rocksdb_status.h"

namespace holdfast::internal {

rocksdb::DBOptions MakeDBOptions(const RocksStorageOptions& o) {
  rocksdb::DBOptions db;
  db.create_if_missing = o.create_if_missing;
  db.create_missing_column_families = true;
  db.paranoid_checks = true;
  // RocksDB 7.8 can report a false "missing WAL" with this on (fixed in 7.10): TOOLCHAIN.md.
  db.track_and_verify_wals_in_manifest = false;
  db.keep_log_file_num = 4;
  // Open starts this many threads minus one for every column family, whatever the number of table
  // files, to open the files in parallel: RocksDB's default, 16, started 75 threads at every open
  // of the five families. One per core keeps the parallelism where there are cores to run it.
  db.max_file_opening_threads =
      static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  if (o.env) db.env = o.env;
  return db;
}

rocksdb::ColumnFamilyOptions MakeFamilyOptions(const RocksStorageOptions& o) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.write_buffer_bytes;
  // Optimistic conflict checks need the memtable history since a transaction's reads; keeping
  // two buffers' worth makes TryAgain (too little history) rare.
  cf.max_write_buffer_size_to_maintain = static_cast<int64_t>(o.write_buffer_bytes) * 2;
  // Whole-key Bloom filters, in table files (10 bits a key: ~1% false positives) and in the
  // memtables (2% of their size): a read of a key skips every memtable and level-0 file that
  // does not hold it. Most reads are point reads of one profile's meta or data, and after many
  // starts or saves the newest version of a key sits in one of several memtables and files.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.memtable_prefix_bloom_size_ratio = 0.02;
  cf.memtable_whole_key_filtering = true;
  return cf;
}

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

namespace {

// Raises `flag` when RocksDB stops accepting writes after an error (a failed log write or sync,
// a failed flush, a full disk). Called on RocksDB's threads with its mutex held: sets a flag only.
class BackgroundErrorListener final : public rocksdb::EventListener {
 public:
  explicit BackgroundErrorListener(std::atomic<bool>* flag) : flag_(flag) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) flag_->store(true);
  }

 private:
  std::atomic<bool>* flag_;
};

// An open database and its column family handles, in internal::Family order.
struct OpenDatabase {
  rocksdb::OptimisticTransactionDB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
};

Result<OpenDatabase> OpenDatabaseAt(const RocksStorageOptions& options,
                                    const std::shared_ptr<rocksdb::EventListener>& listener);

// Flushes (when asked), releases the handles and closes. Returns the first error.
Status CloseDatabase(OpenDatabase& open, bool flush) {
  Status result;
  if (flush) {
    rocksdb::FlushOptions flush_options;
    flush_options.wait = true;
    for (auto* h : open.handles) {
      Status s = FromRocksDB(open.db->Flush(flush_options, h), "flush on close");
      if (result.ok()) result = s;
    }
  }
  for (auto* h : open.handles) (void)open.db->DestroyColumnFamilyHandle(h);
  open.handles.clear();
  Status s = FromRocksDB(open.db->Close(), "close");
  if (result.ok()) result = s;
  delete open.db;
  open.db = nullptr;
  return result;
}

class RocksStorage;

class RocksTransaction final : public StorageTransaction {
 public:
  RocksTransaction(RocksStorage* storage, std::shared_lock<std::shared_mutex> open,
                   std::unique_ptr<rocksdb::Transaction> txn)
      : storage_(storage), open_(std::move(open)), txn_(std::move(txn)) {}

  Status Get(Family f, std::string_view key, std::string* value) override;
  Status GetForUpdate(Family f, std::string_view key, std::string* value) override;
  Status GetManyForUpdate(Family f, const std::vector<std::string>& keys,
                          std::vector<std::optional<std::string>>* values) override;
  Status Put(Family f, std::string_view key, std::string_view value) override;
  Status Delete(Family f, std::string_view key) override;
  Status PutCovered(Family f, std::string_view key, std::string_view value) override;
  Status DeleteCovered(Family f, std::string_view key) override;
  Status Scan(Family f, const ScanRange& range, ScanOrder order, const ScanVisitor& visit) override;
  Status Commit() override;

 private:
  RocksStorage* storage_;
  std::shared_lock<std::shared_mutex> open_;  // keeps the database open while this lives
  std::unique_ptr<rocksdb::Transaction> txn_;
};

// After an error that stops all writes, RocksDB 7.8 refuses every later write until the database
// is reopened: DB::Resume() is NotSupported on an OptimisticTransactionDB and, on its base DB,
// trips an assertion in Debian's build after a failed log write. So the storage closes and
// reopens the database in place, before the next transaction, when RocksDB has reported such an
// error. Reopening replays the log: whatever was acknowledged is there; the write that failed is
// there or not, whole. A reopen that fails (the fault persists) leaves the storage without a
// database; every call tries again, and reads fail until one succeeds.
class RocksStorage final : public Storage {
 public:
  RocksStorage(RocksStorageOptions options, const rocksdb::WriteOptions& write_options)
      : options_(std::move(options)),
        listener_(std::make_shared<BackgroundErrorListener>(&needs_reopen_)),
        write_options_(write_options) {}
  ~RocksStorage() override { (void)Close(); }

  Status Open() {
    auto opened = OpenDatabaseAt(options_, listener_);
    if (!opened.ok()) return opened.status();
    open_ = std::move(*opened);
    return Status::Ok();
  }

  rocksdb::ColumnFamilyHandle* Handle(Family f) const { return open_.handles[static_cast<int>(f)]; }

  Result<std::unique_ptr<StorageTransaction>> Begin() override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/true); !s.ok()) return s;
    std::unique_ptr<rocksdb::Transaction> txn(open_.db->BeginTransaction(write_options_));
    return std::unique_ptr<StorageTransaction>(
        new RocksTransaction(this, std::move(lock), std::move(txn)));
  }

  Status Get(Family f, std::string_view key, std::string* value) override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/false); !s.ok()) return s;
    return FromRocksDB(open_.db->Get(rocksdb::ReadOptions(), Handle(f), key, value), "get");
  }

  Status Scan(Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/false); !s.ok()) return s;
    std::unique_ptr<rocksdb::Iterator> it(open_.db->NewIterator(rocksdb::ReadOptions(), Handle(f)));
    return VisitRange(it.get(), range, order, visit);
  }

  Status Close() override {
    std::unique_lock lock(mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    if (open_.db == nullptr) return Status::Ok();
    // After a write-stopping error a flush cannot succeed; the log holds what it would write.
    return CloseDatabase(open_, /*flush=*/!needs_reopen_.load());
  }

  uint64_t Reopens() const override { return reopens_.load(); }

  Status CompactRange(Family f, const ScanRange& range) override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/true); !s.ok()) return s;
    // Every family's memtable first: the erased records move into files, and the write-ahead
    // log that recorded them becomes obsolete (RocksDB keeps a log until every family with data
    // in it is flushed) and is deleted. Then every level's files that overlap the range are
    // rewritten (kForce: the bottommost level too), which drops the records.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    if (Status s = FromRocksDB(open_.db->Flush(flush, open_.handles), "flush"); !s.ok()) return s;
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    const rocksdb::Slice begin(range.lower);
    const rocksdb::Slice end(range.upper);
    return FromRocksDB(open_.db->CompactRange(options, Handle(f), &begin,
                                              range.upper.empty() ? nullptr : &end),
                       "compact range");
  }

  Status Checkpoint(const std::string& dir) override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/true); !s.ok()) return s;
    rocksdb::Checkpoint* raw = nullptr;
    if (Status s = FromRocksDB(rocksdb::Checkpoint::Create(open_.db, &raw), "checkpoint");
        !s.ok()) {
      return s;
    }
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // The default log_size_for_flush (0) flushes first, so the copy needs no log replay.
    return FromRocksDB(checkpoint->CreateCheckpoint(dir), "checkpoint into '" + dir + "'");
  }

  Status VerifyFiles() override {
    std::shared_lock<std::shared_mutex> lock;
    if (Status s = LockOpen(lock, /*writing=*/false); !s.ok()) return s;
    return FromRocksDB(open_.db->VerifyChecksum(), "verify file checksums");
  }

  // A commit that failed with a storage error: RocksDB may now refuse writes (its listener call
  // sets the same flag; this covers a failure it does not report as a background error).
  void CommitFailed(const Status& s) {
    if (s.code() == StatusCode::kIOError || s.code() == StatusCode::kResourceExhausted) {
      needs_reopen_.store(true);
    }
  }

 private:
  // Takes `lock` shared on an open database; for a write, first reopens one that stopped
  // accepting writes. Closed after Close().
  Status LockOpen(std::shared_lock<std::shared_mutex>& lock, bool writing) {
    for (;;) {
      lock = std::shared_lock(mu_);
      if (closed_) return Status::Closed("storage is closed");
      if (open_.db != nullptr && !(writing && needs_reopen_.load())) return Status::Ok();
      lock.unlock();
      if (Status s = Reopen(); !s.ok()) return s;
    }
  }

  // Waits for the transactions in flight to end, then closes and reopens the database.
  Status Reopen() {
    std::unique_lock lock(mu_);
    if (closed_) return Status::Closed("storage is closed");
    if (open_.db != nullptr && !needs_reopen_.load()) return Status::Ok();  // another thread did
    if (open_.db != nullptr) (void)CloseDatabase(open_, /*flush=*/false);   // reports the old error
    needs_reopen_.store(false);
    RocksStorageOptions existing = options_;
    existing.create_if_missing = false;  // a directory removed meanwhile is an error, not new
    auto opened = OpenDatabaseAt(existing, listener_);
    if (!opened.ok()) {
      return opened.status().WithContext("reopening the database after a storage error");
    }
    open_ = std::move(*opened);
    reopens_.fetch_add(1);
    return Status::Ok();
  }

  const RocksStorageOptions options_;
  std::atomic<bool> needs_reopen_{false};
  const std::shared_ptr<BackgroundErrorListener> listener_;
  const rocksdb::WriteOptions write_options_;
  std::atomic<uint64_t> reopens_{0};
  // Transactions (for their whole life) and reads hold it shared; Close and Reopen exclusively.
  // glibc's rwlock lets a reader in while a writer waits, so one thread may hold two shared
  // locks (two transactions, or a read inside one); it must not begin a transaction that needs
  // a reopen while holding one (a deadlock), which the engine never does.
  std::shared_mutex mu_;
  bool closed_ = false;  // guarded by mu_
  OpenDatabase open_;    // guarded by mu_; db null after a failed reopen
};

Status RocksTransaction::Get(Family f, std::string_view key, std::string* value) {
  return FromRocksDB(txn_->Get(rocksdb::ReadOptions(), storage_->Handle(f), key, value), "get");
}

Status RocksTransaction::GetForUpdate(Family f, std::string_view key, std::string* value) {
  rocksdb::ReadOptions read;
  // A data record read for update is a session's load (or an admin write's): the session then
  // holds the payload in memory, so its block would sit in the block cache as a second copy,
  // evicting the meta blocks every fenced save reads.
  read.fill_cache = f != Family::kData;
  return FromRocksDB(txn_->GetForUpdate(read, storage_->Handle(f), key, value), "get for update");
}

// Each key tracked first (GetForUpdate without a value reads nothing), then all read in one
// MultiGet, which looks up filters, indexes and blocks once for the keys they share: Close's
// final saves read 32 metas a transaction. A write between the tracking and the read fails the
// commit's conflict check, as it would have after a GetForUpdate.
Status RocksTransaction::GetManyForUpdate(Family f, const std::vector<std::string>& keys,
                                          std::vector<std::optional<std::string>>* values) {
  rocksdb::ReadOptions read;
  read.fill_cache = f != Family::kData;  // as GetForUpdate
  rocksdb::ColumnFamilyHandle* family = storage_->Handle(f);
  for (const std::string& key : keys) {
    Status tracked = FromRocksDB(
        txn_->GetForUpdate(read, family, key, static_cast<std::string*>(nullptr)),
        "get for update");
    if (!tracked.ok()) return tracked;
  }
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  txn_->MultiGet(read, family, keys.size(), slices.data(), found.data(), statuses.data());
  values->assign(keys.size(), std::nullopt);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (Status s = FromRocksDB(statuses[i], "get for update"); !s.ok()) return s;
    (*values)[i] = found[i].ToString();
  }
  return Status::Ok();
}

Status RocksTransaction::Put(Family f, std::string_view key, std::string_view value) {
  return FromRocksDB(txn_->PutUntracked(storage_->Handle(f), key, value), "put");
}

Status RocksTransaction::Delete(Family f, std::string_view key) {
  return FromRocksDB(txn_->Delete(storage_->Handle(f), key), "delete");
}

// Untracked: no entry in the transaction's conflict set, no lookup of the key at commit (each
// tracked key costs one at the commit's validation).
Status RocksTransaction::PutCovered(Family f, std::string_view key, std::string_view value) {
  return FromRocksDB(txn_->PutUntracked(storage_->Handle(f), key, value), "put");
}

Status RocksTransaction::DeleteCovered(Family f, std::string_view key) {
  return FromRocksDB(txn_->DeleteUntracked(storage_->Handle(f), key), "delete");
}

Status RocksTransaction::Scan(Family f, const ScanRange& range, ScanOrder order,
                              const ScanVisitor& visit) {
  std::unique_ptr<rocksdb::Iterator> it(
      txn_->GetIterator(rocksdb::ReadOptions(), storage_->Handle(f)));
  return VisitRange(it.get(), range, order, visit);
}

Status RocksTransaction::Commit() {
  Status s = FromRocksDB(txn_->Commit(), "commit");
  if (!s.ok()) storage_->CommitFailed(s);
  return s;
}

}  // namespace

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
  rocksdb::WriteOptions write_options;
  write_options.sync = options.sync;
  auto storage = std::make_unique<RocksStorage>(options, write_options);
  if (Status s = storage->Open(); !s.ok()) return s;
  return std::unique_ptr<Storage>(std::move(storage));
}

namespace {

Result<OpenDatabase> OpenDatabaseAt(const RocksStorageOptions& options,
                                    const std::shared_ptr<rocksdb::EventListener>& listener) {
  rocksdb::DBOptions db_options = MakeDBOptions(options);
  db_options.listeners.push_back(listener);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (Family f : kAllFamilies) {
    descriptors.emplace_back(std::string(FamilyName(f)), MakeFamilyOptions(options));
  }
  rocksdb::OptimisticTransactionDBOptions occ;
  occ.validate_policy = rocksdb::OccValidationPolicy::kValidateParallel;  // keeps group commit
  occ.occ_lock_buckets = options.conflict_buckets;
  OpenDatabase open;
  Status s = FromRocksDB(rocksdb::OptimisticTransactionDB::Open(
                             db_options, occ, options.path, descriptors, &open.handles, &open.db),
                         "open '" + options.path + "'");
  if (s.code() == StatusCode::kInvalidArgument) {
    // Holdfast's own options are valid by construction and a missing database was refused
    // before, so RocksDB's InvalidArgument here comes from a failed read during recovery (7.8
    // reports a failed probe of CURRENT as "Direct I/O is not supported"): an I/O problem.
    s = Status::IOError(s.message());
  }
  if (s.code() == StatusCode::kIOError && s.message().find("/LOCK: ") != std::string::npos) {
    // RocksDB's lock file: say plainly that the database is taken, not that the disk failed.
    s = Status::IOError("database '" + options.path +
                        "' is already open (another process, or another engine in this one, "
                        "holds its LOCK file): " +
                        s.message());
  }
  if (!s.ok()) return s;
  return open;
}

}  // namespace

}  // namespace holdfast::internal
