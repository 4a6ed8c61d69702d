// The read-only backend: a RocksDB secondary instance that follows a database another process
// (a running game server) holds. RocksDB 7.8: a secondary needs max_open_files = -1 and a
// directory of its own; it replays the primary's MANIFEST and write-ahead logs, writing nothing
// to the primary's directory. One catch-up at open: the reads see the database as of then.
#include <rocksdb/db.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "rocksdb_common.h"
#include "rocksdb_status.h"
#include "rocksdb_storage.h"

namespace holdfast::internal {
namespace {

Status ReadOnly(const char* what) {
  return Status::InvalidArgument(std::string(what) +
                                 ": the database was opened read-only (another process holds it)");
}

class RocksSecondaryStorage final : public Storage {
 public:
  RocksSecondaryStorage(std::string scratch, std::unique_ptr<rocksdb::DB> db,
                        std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : scratch_(std::move(scratch)), db_(std::move(db)), handles_(std::move(handles)) {}
  ~RocksSecondaryStorage() override { (void)Close(); }

  Result<std::unique_ptr<StorageTransaction>> Begin() override {
    return ReadOnly("a transaction");
  }

  Status Get(Family f, std::string_view key, std::string* value) override {
    std::lock_guard lock(mu_);
    if (!db_) return Status::Closed("storage is closed");
    return FromRocksDB(db_->Get(rocksdb::ReadOptions(), Handle(f), key, value), "get");
  }

  Status Scan(Family f, const ScanRange& range, ScanOrder order,
              const ScanVisitor& visit) override {
    rocksdb::DB* db = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!db_) return Status::Closed("storage is closed");
      db = db_.get();
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), Handle(f)));
    return VisitRange(it.get(), range, order, visit);
  }

  Status Close() override {
    std::lock_guard lock(mu_);
    if (!db_) return Status::Ok();
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    Status s = FromRocksDB(db_->Close(), "close");
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(scratch_, ignored);
    return s;
  }

  uint64_t Reopens() const override { return 0; }
  Status CompactRange(Family, const ScanRange&) override { return ReadOnly("compaction"); }
  Status Checkpoint(const std::string&) override { return ReadOnly("a checkpoint"); }

  Status VerifyFiles() override {
    std::lock_guard lock(mu_);
    if (!db_) return Status::Closed("storage is closed");
    return FromRocksDB(db_->VerifyChecksum(), "verify file checksums");
  }

 private:
  rocksdb::ColumnFamilyHandle* Handle(Family f) const { return handles_[static_cast<int>(f)]; }

  const std::string scratch_;  // the secondary's own directory
  // Reads run while others do; Close waits for Get and VerifyFiles (a scan in flight when the
  // engine closes cannot happen: the engine's gate lets Close in only after every read left).
  std::mutex mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenRocksSecondary(const RocksStorageOptions& options) {
  auto existing = ExistingFamilies(options);
  if (!existing.ok()) return existing.status();
  if (existing->empty()) {
    return Status::InvalidArgument("no Holdfast database at '" + options.path + "'");
  }
  std::string scratch = (std::filesystem::temp_directory_path() / "holdfast-secondary-XXXXXX");
  if (::mkdtemp(scratch.data()) == nullptr) {
    return Status::IOError("cannot create a directory for a read-only open in " +
                           std::filesystem::temp_directory_path().string());
  }
  rocksdb::DBOptions db_options = MakeDBOptions(options);
  db_options.create_if_missing = false;
  db_options.create_missing_column_families = false;
  db_options.max_open_files = -1;  // required of a secondary instance
  db_options.info_log = std::make_shared<NullLogger>();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (Family f : kAllFamilies) {
    descriptors.emplace_back(std::string(FamilyName(f)), MakeFamilyOptions(options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  Status s = FromRocksDB(
      rocksdb::DB::OpenAsSecondary(db_options, options.path, scratch, descriptors, &handles, &raw),
      "open '" + options.path + "' read-only");
  if (s.ok()) s = FromRocksDB(raw->TryCatchUpWithPrimary(), "catch up with the primary");
  if (!s.ok()) {
    if (raw != nullptr) {
      for (auto* h : handles) (void)raw->DestroyColumnFamilyHandle(h);
      (void)raw->Close();
      delete raw;
    }
    std::error_code ignored;
    std::filesystem::remove_all(scratch, ignored);
    return s;
  }
  return std::unique_ptr<Storage>(new RocksSecondaryStorage(
      std::move(scratch), std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
}

}  // namespace holdfast::internal
