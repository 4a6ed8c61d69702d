#include "fault_fs.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace holdfast::test {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::string ParentDirectory(const std::string& file) {
  size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash);
}

// Every append, truncation and sync of a file RocksDB writes.
class WritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  WritableFile(std::unique_ptr<rocksdb::FSWritableFile> target, FaultFileSystem* fs,
               std::string name, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), name_(std::move(name)),
        size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    return AppendWith(data.size(), size_ + data.size(),
                      [&] { return target()->Append(data, o, dbg); });
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return AppendWith(data.size(), size_ + data.size(),
                      [&] { return target()->Append(data, o, info, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    return AppendWith(data.size(), std::max(size_, offset + data.size()),
                      [&] { return target()->PositionedAppend(data, offset, o, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return AppendWith(data.size(), std::max(size_, offset + data.size()),
                      [&] { return target()->PositionedAppend(data, offset, o, info, dbg); });
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    if (IOStatus s = fs_->Check({FileOpKind::kWrite, "truncate", name_}); !s.ok()) return s;
    auto lock = fs_->MutationLock();
    IOStatus s = target()->Truncate(size, o, dbg);
    if (s.ok()) After(size);
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Sync(o, dbg); });
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Fsync(o, dbg); });
  }
  // sync_file_range makes no durability promise: counted as a sync, but the data stays unsynced.
  IOStatus RangeSync(uint64_t offset, uint64_t n, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (IOStatus s = fs_->Check({FileOpKind::kSync, "range-sync", name_}); !s.ok()) return s;
    return target()->RangeSync(offset, n, o, dbg);
  }

 private:
  // Checks the fault plan and the space budget, appends, and records the new end of the file.
  template <typename Fn>
  IOStatus AppendWith(uint64_t bytes, uint64_t end, Fn append) {
    if (IOStatus s = fs_->Check({FileOpKind::kWrite, "append", name_, bytes}); !s.ok()) return s;
    if (IOStatus s = fs_->Charge(bytes); !s.ok()) return s;
    auto lock = fs_->MutationLock();
    IOStatus s = append();
    if (s.ok()) After(end);
    return s;
  }
  void After(uint64_t end) {
    size_ = end;
    fs_->Written(name_, end);
  }
  template <typename Fn>
  IOStatus SyncWith(Fn sync) {
    if (IOStatus s = fs_->Check({FileOpKind::kSync, "sync", name_}); !s.ok()) return s;
    auto lock = fs_->MutationLock();
    IOStatus s = sync();
    if (s.ok()) fs_->Synced(name_);
    return s;
  }

  FaultFileSystem* const fs_;
  const std::string name_;
  uint64_t size_;  // RocksDB uses a writable file from one thread at a time
};

class RandomAccessFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  RandomAccessFile(std::unique_ptr<rocksdb::FSRandomAccessFile> target, FaultFileSystem* fs,
                   std::string name)
      : FSRandomAccessFileOwnerWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}

  IOStatus Read(uint64_t offset, size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) const override {
    if (IOStatus s = fs_->Check({FileOpKind::kRead, "read", name_, n}); !s.ok()) return s;
    return target()->Read(offset, n, o, result, scratch, dbg);
  }
  IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num, const IOOptions& o,
                     IODebugContext* dbg) override {
    if (IOStatus s = fs_->Check({FileOpKind::kRead, "multi-read", name_}); !s.ok()) {
      for (size_t i = 0; i < num; ++i) reqs[i].status = s;
      return s;
    }
    return target()->MultiRead(reqs, num, o, dbg);
  }

 private:
  FaultFileSystem* const fs_;
  const std::string name_;
};

class SequentialFile final : public rocksdb::FSSequentialFileOwnerWrapper {
 public:
  SequentialFile(std::unique_ptr<rocksdb::FSSequentialFile> target, FaultFileSystem* fs,
                 std::string name)
      : FSSequentialFileOwnerWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}

  IOStatus Read(size_t n, const IOOptions& o, Slice* result, char* scratch,
                IODebugContext* dbg) override {
    if (IOStatus s = fs_->Check({FileOpKind::kRead, "read", name_, n}); !s.ok()) return s;
    return target()->Read(n, o, result, scratch, dbg);
  }
  IOStatus PositionedRead(uint64_t offset, size_t n, const IOOptions& o, Slice* result,
                          char* scratch, IODebugContext* dbg) override {
    if (IOStatus s = fs_->Check({FileOpKind::kRead, "read", name_, n}); !s.ok()) return s;
    return target()->PositionedRead(offset, n, o, result, scratch, dbg);
  }

 private:
  FaultFileSystem* const fs_;
  const std::string name_;
};

class Directory final : public rocksdb::FSDirectoryWrapper {
 public:
  Directory(std::unique_ptr<rocksdb::FSDirectory> target, FaultFileSystem* fs, std::string name)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return SyncWith([&] { return FSDirectoryWrapper::Fsync(o, dbg); });
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& d) override {
    return SyncWith([&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, d); });
  }

 private:
  template <typename Fn>
  IOStatus SyncWith(Fn sync) {
    if (IOStatus s = fs_->Check({FileOpKind::kSync, "dir-sync", name_}); !s.ok()) return s;
    auto lock = fs_->MutationLock();
    return sync();
  }

  FaultFileSystem* const fs_;
  const std::string name_;
};

}  // namespace

std::string_view FileOpKindName(FileOpKind kind) {
  switch (kind) {
    case FileOpKind::kWrite:
      return "write";
    case FileOpKind::kSync:
      return "sync";
    case FileOpKind::kRead:
      return "read";
  }
  return "?";
}

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

void FaultFileSystem::FailNth(FileOpKind kind, uint64_t n, FaultMode mode,
                              std::optional<IOStatus> error, std::string file_part) {
  std::lock_guard lock(mu_);
  Fault& f = faults_[static_cast<int>(kind)];
  f.armed = true;
  f.at_call = std::max<uint64_t>(n, 1);
  f.seen = 0;
  f.file_part = std::move(file_part);
  f.mode = mode;
  f.error = error ? *error
                  : IOStatus::IOError("injected " + std::string(FileOpKindName(kind)) + " error");
}

void FaultFileSystem::ClearFaults() {
  std::lock_guard lock(mu_);
  for (Fault& f : faults_) f.armed = false;
}

uint64_t FaultFileSystem::InjectedErrors() const {
  std::lock_guard lock(mu_);
  return injected_;
}

void FaultFileSystem::SetSpaceBudget(std::optional<uint64_t> bytes) {
  std::lock_guard lock(mu_);
  space_left_ = bytes;
}

void FaultFileSystem::CrashNow() {
  std::unique_lock exclusive(namespace_mu_);
  std::map<std::string, FileState> files;
  std::set<std::string> directories;
  {
    std::lock_guard lock(mu_);
    if (image_) return;
    files = files_;
    directories = directories_;
  }
  std::map<std::string, std::string> image;
  IOOptions o;
  for (const auto& dir : directories) {
    std::vector<std::string> children;
    if (!target_->GetChildren(dir, o, &children, nullptr).ok()) continue;
    for (const auto& child : children) {
      // LOCK belongs to the process that held it (RocksDB's in-memory file system refuses a
      // LOCK that it did not create as one); a new open creates it again.
      if (child == "." || child == ".." || child == "LOCK") continue;
      const std::string path = dir + "/" + child;
      uint64_t size = 0;
      if (!target_->GetFileSize(path, o, &size, nullptr).ok()) continue;
      auto it = files.find(path);
      if (it != files.end()) size = std::min(size, it->second.synced);
      std::string bytes;
      std::unique_ptr<rocksdb::FSSequentialFile> file;
      if (target_->NewSequentialFile(path, rocksdb::FileOptions(), &file, nullptr).ok()) {
        std::string chunk(size, '\0');
        while (bytes.size() < size) {
          Slice read;
          if (!file->Read(size - bytes.size(), o, &read, chunk.data(), nullptr).ok() ||
              read.empty()) {
            break;
          }
          bytes.append(read.data(), read.size());
        }
      }
      image[path] = std::move(bytes);
    }
  }
  std::lock_guard lock(mu_);
  image_ = std::move(image);
}

bool FaultFileSystem::crashed() const {
  std::lock_guard lock(mu_);
  return image_.has_value();
}

uint64_t FaultFileSystem::UnsyncedBytes() const {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [name, state] : files_) {
    total += state.size - std::min(state.size, state.synced);
  }
  return total;
}

IOStatus FaultFileSystem::RestoreCrashImage() {
  std::unique_lock exclusive(namespace_mu_);
  std::map<std::string, std::string> image;
  std::set<std::string> directories;
  {
    std::lock_guard lock(mu_);
    if (!image_) return IOStatus::InvalidArgument("no crash image: call CrashNow() first");
    image = std::move(*image_);
    image_.reset();
    files_.clear();
    directories = directories_;
  }
  IOOptions o;
  for (const auto& dir : directories) {
    std::vector<std::string> children;
    if (!target_->GetChildren(dir, o, &children, nullptr).ok()) continue;
    for (const auto& child : children) {
      if (child == "." || child == "..") continue;
      if (IOStatus s = target_->DeleteFile(dir + "/" + child, o, nullptr); !s.ok()) return s;
    }
  }
  for (const auto& [path, bytes] : image) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    IOStatus s = target_->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
    if (s.ok()) s = file->Append(bytes, o, nullptr);
    if (s.ok()) s = file->Fsync(o, nullptr);
    if (s.ok()) s = file->Close(o, nullptr);
    if (!s.ok()) return s;
  }
  return IOStatus::OK();
}

void FaultFileSystem::SetObserver(std::function<void(const FileOp&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = observer ? std::make_shared<std::function<void(const FileOp&)>>(std::move(observer))
                       : nullptr;
}

IOStatus FaultFileSystem::Check(const FileOp& op) {
  std::shared_ptr<std::function<void(const FileOp&)>> observer;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
  }
  if (observer) (*observer)(op);
  std::lock_guard lock(mu_);
  Fault& f = faults_[static_cast<int>(op.kind)];
  if (!f.armed) return IOStatus::OK();
  if (!f.file_part.empty() && op.file.find(f.file_part) == std::string_view::npos) {
    return IOStatus::OK();
  }
  const uint64_t call = ++f.seen;
  if (call < f.at_call) return IOStatus::OK();
  if (f.mode == FaultMode::kOnce) f.armed = false;
  ++injected_;
  return f.error;
}

void FaultFileSystem::Written(const std::string& file, uint64_t end_offset) {
  std::lock_guard lock(mu_);
  FileState& s = files_[file];
  s.size = end_offset;
  s.synced = std::min(s.synced, end_offset);
}

void FaultFileSystem::Synced(const std::string& file) {
  std::lock_guard lock(mu_);
  auto it = files_.find(file);
  if (it != files_.end()) it->second.synced = it->second.size;
}

IOStatus FaultFileSystem::Charge(uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (!space_left_) return IOStatus::OK();
  if (*space_left_ < bytes) {
    ++injected_;
    IOStatus s = IOStatus::NoSpace("injected: no space left on device");
    s.SetRetryable(true);
    return s;
  }
  *space_left_ -= bytes;
  return IOStatus::OK();
}

IOStatus FaultFileSystem::WrapWritable(const std::string& f, IOStatus s, bool created,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r) {
  if (!s.ok()) return s;
  // A reopened file's own GetFileSize counts from the reopen on disk (POSIX reports 0); ask the
  // file system for the size it already has.
  uint64_t size = 0;
  if (!created && !target_->GetFileSize(f, IOOptions(), &size, nullptr).ok()) {
    size = (*r)->GetFileSize(IOOptions(), nullptr);
  }
  {
    std::lock_guard lock(mu_);
    auto it = files_.find(f);
    if (created) {
      files_[f] = FileState{0, 0};
    } else if (it == files_.end()) {
      files_[f] = FileState{size, size};  // written before tracking began: durable
    }
  }
  *r = std::make_unique<WritableFile>(std::move(*r), this, f, size);
  return s;
}

IOStatus FaultFileSystem::NewSequentialFile(const std::string& f, const rocksdb::FileOptions& o,
                                            std::unique_ptr<rocksdb::FSSequentialFile>* r,
                                            IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kRead, "open", f}); !s.ok()) return s;
  IOStatus s = target_->NewSequentialFile(f, o, r, dbg);
  if (s.ok()) *r = std::make_unique<SequentialFile>(std::move(*r), this, f);
  return s;
}

IOStatus FaultFileSystem::NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions& o,
                                              std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                              IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kRead, "open", f}); !s.ok()) return s;
  IOStatus s = target_->NewRandomAccessFile(f, o, r, dbg);
  if (s.ok()) *r = std::make_unique<RandomAccessFile>(std::move(*r), this, f);
  return s;
}

IOStatus FaultFileSystem::NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                          std::unique_ptr<rocksdb::FSWritableFile>* r,
                                          IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "create", f}); !s.ok()) return s;
  auto mutation = MutationLock();
  {
    std::lock_guard lock(mu_);
    directories_.insert(ParentDirectory(f));
  }
  return WrapWritable(f, target_->NewWritableFile(f, o, r, dbg), /*created=*/true, r);
}

IOStatus FaultFileSystem::ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                                             IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "reopen", f}); !s.ok()) return s;
  auto mutation = MutationLock();
  return WrapWritable(f, target_->ReopenWritableFile(f, o, r, dbg), /*created=*/false, r);
}

IOStatus FaultFileSystem::ReuseWritableFile(const std::string& f, const std::string& old,
                                            const rocksdb::FileOptions& o,
                                            std::unique_ptr<rocksdb::FSWritableFile>* r,
                                            IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "reuse", f}); !s.ok()) return s;
  auto mutation = MutationLock();
  IOStatus s = target_->ReuseWritableFile(f, old, o, r, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(old);
  }
  return WrapWritable(f, s, /*created=*/true, r);
}

IOStatus FaultFileSystem::NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                                          std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                          IODebugContext* dbg) {
  // RocksDB does not use read-write files on the paths Holdfast exercises; fail loudly if it
  // starts to, rather than let writes bypass the durability bookkeeping.
  return IOStatus::NotSupported("FaultFileSystem does not model random read-write files: " + f);
}

IOStatus FaultFileSystem::NewDirectory(const std::string& d, const IOOptions& o,
                                       std::unique_ptr<rocksdb::FSDirectory>* r,
                                       IODebugContext* dbg) {
  IOStatus s = target_->NewDirectory(d, o, r, dbg);
  if (s.ok()) *r = std::make_unique<Directory>(std::move(*r), this, d);
  return s;
}

IOStatus FaultFileSystem::DeleteFile(const std::string& f, const IOOptions& o,
                                     IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "delete", f}); !s.ok()) return s;
  auto mutation = MutationLock();
  IOStatus s = target_->DeleteFile(f, o, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(f);
  }
  return s;
}

IOStatus FaultFileSystem::RenameFile(const std::string& from, const std::string& to,
                                     const IOOptions& o, IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "rename", to}); !s.ok()) return s;
  auto mutation = MutationLock();
  IOStatus s = target_->RenameFile(from, to, o, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    auto it = files_.find(from);
    if (it != files_.end()) {
      FileState moved = it->second;
      files_.erase(it);
      files_[to] = moved;
    } else {
      files_.erase(to);
    }
  }
  return s;
}

IOStatus FaultFileSystem::LinkFile(const std::string& from, const std::string& to,
                                   const IOOptions& o, IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "link", to}); !s.ok()) return s;
  auto mutation = MutationLock();
  IOStatus s = target_->LinkFile(from, to, o, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
    }
  }
  return s;
}

IOStatus FaultFileSystem::Truncate(const std::string& f, size_t size, const IOOptions& o,
                                   IODebugContext* dbg) {
  if (IOStatus s = Check({FileOpKind::kWrite, "truncate", f}); !s.ok()) return s;
  auto mutation = MutationLock();
  IOStatus s = target_->Truncate(f, size, o, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    auto it = files_.find(f);
    if (it != files_.end()) {
      it->second.size = size;
      it->second.synced = std::min<uint64_t>(it->second.synced, size);
    }
  }
  return s;
}

FaultVolume::FaultVolume(std::unique_ptr<rocksdb::Env> base_env,
                         std::shared_ptr<rocksdb::FileSystem> base, bool on_disk)
    : base_env_(std::move(base_env)),
      fs_(std::make_shared<FaultFileSystem>(std::move(base))),
      env_(rocksdb::NewCompositeEnv(fs_)),
      on_disk_(on_disk) {}

std::shared_ptr<FaultVolume> FaultVolume::InMemory() {
  std::unique_ptr<rocksdb::Env> memory(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  std::shared_ptr<rocksdb::FileSystem> files = memory->GetFileSystem();
  return std::shared_ptr<FaultVolume>(new FaultVolume(std::move(memory), files, false));
}

std::shared_ptr<FaultVolume> FaultVolume::OnDisk() {
  return std::shared_ptr<FaultVolume>(
      new FaultVolume(nullptr, rocksdb::FileSystem::Default(), true));
}

}  // namespace holdfast::test
