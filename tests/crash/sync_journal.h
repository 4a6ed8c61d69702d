// Power loss across a SIGKILL. A killed process keeps everything it wrote (the operating system
// holds it), so a plain kill never tests what fsync promises. The power-loss file system
// (tests/fault_fs.h) knows what was synced, but that knowledge dies with the worker. So, in a
// power-loss run, the worker's files go through a SyncJournalFileSystem that appends one line per
// durability event (a file created, synced up to a length, truncated, renamed, deleted) to a side
// file outside the database; after the kill the parent replays that journal and cuts every file
// the worker wrote back to its last synced length: the disk a power cut would have left.
//
// Each record is written with one write(2) before the operation returns to RocksDB, so anything
// the engine acknowledged after a sync has its record on file; a write(2) survives SIGKILL (the
// machine does not lose power), so the journal itself needs no fsync. A kill between a sync and
// its record loses data of a sync that never returned: a power cut during fsync may do the same.
//
// The model is fault_fs.h's: metadata (create, rename, delete) is durable at once; contents only
// up to the last completed sync. A sync covers the bytes appended before it began (a concurrent
// append may or may not be included, so it is not counted). Files the journal never mentions
// (written by earlier runs, already cut) are left whole.
#ifndef HOLDFAST_TESTS_CRASH_SYNC_JOURNAL_H_
#define HOLDFAST_TESTS_CRASH_SYNC_JOURNAL_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "holdfast/status.h"
#include "memory_volume.h"

namespace holdfast::crash {

class SyncJournalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  // Appends to `journal` (created if missing). Aborts when it cannot be opened: a power-loss
  // run without its journal would cut nothing and prove nothing.
  SyncJournalFileSystem(std::shared_ptr<rocksdb::FileSystem> base, const std::string& journal);
  ~SyncJournalFileSystem() override;
  const char* Name() const override { return "HoldfastSyncJournalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;

  // One journal line: a tag, a number, one or two paths (tab-separated). Thread-safe.
  void Record(char tag, uint64_t number, std::string_view path, std::string_view second = "");

 private:
  std::mutex mu_;  // keeps the records of one file in the order their operations completed
  int fd_ = -1;
};

// A Holdfast volume on the real disk whose files go through `base` (the worker's fault volume,
// so that its kill points still fire) and then through a SyncJournalFileSystem.
class JournaledVolume final : public internal::VolumeImpl {
 public:
  JournaledVolume(std::shared_ptr<internal::VolumeImpl> base, const std::string& journal);
  rocksdb::Env* env() const override { return env_.get(); }
  bool on_disk() const override { return base_->on_disk(); }

 private:
  std::shared_ptr<internal::VolumeImpl> base_;
  std::shared_ptr<SyncJournalFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

struct PowerLossCut {
  uint64_t files_cut = 0;      // files that lost bytes
  uint64_t bytes_dropped = 0;  // over all files
  uint64_t records = 0;        // journal lines replayed
};

// The parent, after the worker died: replays `journal` and truncates every file it names to its
// last synced length. IOError when a file cannot be cut.
Result<PowerLossCut> ApplyPowerLoss(const std::string& journal);

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_SYNC_JOURNAL_H_
