// FaultFileSystem: a rocksdb::FileSystemWrapper for reliability tests. It sits between RocksDB and
// a real file system (the disk, or RocksDB's in-memory one) and can
//
//  - simulate power loss: it records, per file, how much of it is durable (appended and then
//    synced). CrashNow() freezes, at that instant, the image a disk would hold after the power
//    came back: every file cut to its synced length. The dead engine may then be torn down
//    normally (what it writes after the crash does not matter), and RestoreCrashImage() puts the
//    frozen image back in place of everything on the volume;
//  - inject I/O errors by operation class (write, sync, read): fail the Nth call only, or fail
//    from the Nth call on until cleared, as SQLite's I/O-error tests do;
//  - fill up: appends beyond a byte budget fail with NoSpace (marked retryable, as RocksDB's
//    POSIX file system marks ENOSPC);
//  - report every operation to an observer (the crash-test worker uses this to stop inside a
//    flush or a compaction so that the parent can kill it there).
//
// Unsynced appends go through to the base file at once, so that RocksDB reads back what it wrote
// (as an operating system's page cache would serve it); the wrapper keeps, per file, the synced
// length, and the crash image drops everything after it. Freezing an image, rather than failing
// every write after the crash, keeps RocksDB's own error handling out of power-loss tests.
//
// Metadata operations (create, rename, delete) are modelled as durable at once and in order, as a
// journaling file system (ext4, xfs) commits them; only file contents need a sync. A stricter
// model that also drops creations not followed by a directory sync must undo later renames and
// deletes too, or it produces images no real disk can (CURRENT naming a MANIFEST that vanished).
// Locks, loggers and metadata reads are never failed. Thread-safe.
//
// FaultVolume packages the file system as a Holdfast volume: pass it as
// EngineOptions::memory_volume (in memory or on disk) and reopen on the same volume.
#ifndef HOLDFAST_TESTS_FAULT_FS_H_
#define HOLDFAST_TESTS_FAULT_FS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/io_status.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "memory_volume.h"

namespace holdfast::test {

// The classes of operations that faults (and the observer) distinguish.
enum class FileOpKind : uint8_t {
  kWrite,  // creating, appending to, truncating, renaming or deleting a file
  kSync,   // Sync / Fsync / RangeSync of a file, Fsync of a directory
  kRead,   // opening a file for reading, and every read from it
};
inline constexpr int kFileOpKinds = 3;
std::string_view FileOpKindName(FileOpKind kind);  // "write", "sync", "read"

struct FileOp {
  FileOpKind kind;
  std::string_view name;  // e.g. "append", "sync", "rename", "read"
  std::string_view file;  // full path
  uint64_t bytes = 0;     // appended or read
};

enum class FaultMode : uint8_t {
  kOnce,       // only the Nth call fails (a transient error)
  kFromNthOn,  // the Nth and every later call fail until ClearFaults() (a failed device)
};

class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base);
  const char* Name() const override { return "HoldfastFaultFileSystem"; }

  // --- I/O errors. `n` counts calls of `kind` from now (1 = the next one); with `file_part`,
  // only calls on files whose path contains it. Re-arming replaces an armed fault of the same
  // kind. The error is IOError (not retryable, as EIO), or `error`.
  void FailNth(FileOpKind kind, uint64_t n, FaultMode mode,
               std::optional<rocksdb::IOStatus> error = std::nullopt, std::string file_part = "");
  void ClearFaults();
  // Errors injected so far (all kinds, full-disk refusals included).
  uint64_t InjectedErrors() const;

  // --- A full disk: appends fail with NoSpace once `bytes` more have been appended. nullopt
  // (the default) means unlimited.
  void SetSpaceBudget(std::optional<uint64_t> bytes);

  // --- Power loss. CrashNow() freezes the crash image of every directory the volume has written
  // to (idempotent until the restore); crashed() says whether it did. RestoreCrashImage() (call it
  // once no engine is open on the files) replaces the volume's files with the image.
  void CrashNow();
  bool crashed() const;
  rocksdb::IOStatus RestoreCrashImage();
  // Bytes appended but not yet durable, over all files (for tests of the harness itself).
  uint64_t UnsyncedBytes() const;

  // --- Observation. Called before each write, sync and read, on the calling thread, with no
  // lock held; it may block. Set it before opening an engine.
  void SetObserver(std::function<void(const FileOp&)> observer);

  // FileSystem overrides.
  rocksdb::IOStatus NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext* dbg) override;
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
  rocksdb::IOStatus NewDirectory(const std::string& d, const rocksdb::IOOptions& o,
                                 std::unique_ptr<rocksdb::FSDirectory>* r,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& f, size_t size, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override;

  // Used by the file wrappers (fault_fs.cc). Counts the call, reports it to the observer and
  // returns the injected error, if any.
  rocksdb::IOStatus Check(const FileOp& op);
  // Held (shared) around a mutation and its bookkeeping.
  std::shared_lock<std::shared_mutex> MutationLock() {
    return std::shared_lock<std::shared_mutex>(namespace_mu_);
  }
  // Durability bookkeeping of one file: it now ends at `end_offset` (after an append, a
  // positioned write or a truncation).
  void Written(const std::string& file, uint64_t end_offset);
  void Synced(const std::string& file);
  // NoSpace once the space budget is used up; otherwise charges `bytes` to it.
  rocksdb::IOStatus Charge(uint64_t bytes);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  struct Fault {
    bool armed = false;
    uint64_t at_call = 0;  // the first failing call, counting matching calls since arming
    uint64_t seen = 0;     // matching calls since arming
    std::string file_part;
    FaultMode mode = FaultMode::kOnce;
    rocksdb::IOStatus error;
  };
  rocksdb::IOStatus WrapWritable(const std::string& f, rocksdb::IOStatus s, bool created,
                                 std::unique_ptr<rocksdb::FSWritableFile>* r);

  // Held shared by every mutation (the base call and its bookkeeping), exclusively by CrashNow,
  // so that an image never sees half of a rename or a sync. Lock order: namespace_mu_, then mu_.
  std::shared_mutex namespace_mu_;
  mutable std::mutex mu_;
  Fault faults_[kFileOpKinds];            // guarded by mu_
  uint64_t injected_ = 0;                 // guarded by mu_
  std::optional<uint64_t> space_left_;    // guarded by mu_
  std::map<std::string, FileState> files_;  // guarded by mu_; files written since the restore
  std::set<std::string> directories_;       // guarded by mu_; where files were created
  std::optional<std::map<std::string, std::string>> image_;  // guarded by mu_; path -> bytes
  std::shared_ptr<std::function<void(const FileOp&)>> observer_;  // guarded by mu_
};

// A Holdfast volume whose files go through a FaultFileSystem.
class FaultVolume final : public internal::VolumeImpl {
 public:
  // Files in RocksDB's in-memory file system (fast; survives engine close and reopen).
  static std::shared_ptr<FaultVolume> InMemory();
  // Files on the real disk under the path given to Engine::Open.
  static std::shared_ptr<FaultVolume> OnDisk();

  FaultFileSystem& fs() const { return *fs_; }
  rocksdb::Env* env() const override { return env_.get(); }
  bool on_disk() const override { return on_disk_; }

 private:
  FaultVolume(std::unique_ptr<rocksdb::Env> base_env, std::shared_ptr<rocksdb::FileSystem> base,
              bool on_disk);

  std::unique_ptr<rocksdb::Env> base_env_;  // owns the in-memory files (null on disk)
  std::shared_ptr<FaultFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  bool on_disk_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_FAULT_FS_H_
