#include "sync_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <utility>

namespace holdfast::crash {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// Tracks the logical end of one file and journals every sync of it.
class JournaledFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  JournaledFile(std::unique_ptr<rocksdb::FSWritableFile> target, SyncJournalFileSystem* fs,
                std::string name, uint64_t size)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), name_(std::move(name)),
        size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    return Grown(target()->Append(data, o, dbg), size_.load() + data.size());
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return Grown(target()->Append(data, o, info, dbg), size_.load() + data.size());
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    return Grown(target()->PositionedAppend(data, offset, o, dbg),
                 std::max(size_.load(), offset + data.size()));
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Grown(target()->PositionedAppend(data, offset, o, info, dbg),
                 std::max(size_.load(), offset + data.size()));
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    IOStatus s = target()->Truncate(size, o, dbg);
    if (s.ok()) {
      size_ = size;
      fs_->Record('T', size, name_);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    const uint64_t covered = size_.load();  // appended before the sync began
    IOStatus s = target()->Sync(o, dbg);
    if (s.ok()) fs_->Record('S', covered, name_);
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    const uint64_t covered = size_.load();
    IOStatus s = target()->Fsync(o, dbg);
    if (s.ok()) fs_->Record('S', covered, name_);
    return s;
  }
  // RangeSync (sync_file_range) promises nothing about durability: not journaled.

 private:
  IOStatus Grown(IOStatus s, uint64_t end) {
    if (s.ok()) size_ = end;
    return s;
  }

  SyncJournalFileSystem* const fs_;
  const std::string name_;
  // A WAL may be synced from another thread than the one appending to it.
  std::atomic<uint64_t> size_;
};

// Splits "<tag> <number> <path>[\t<second>]".
struct JournalLine {
  char tag = 0;
  uint64_t number = 0;
  std::string path;
  std::string second;
};

std::optional<JournalLine> ParseLine(const std::string& line) {
  JournalLine j;
  if (line.size() < 4 || line[1] != ' ') return std::nullopt;
  j.tag = line[0];
  size_t space = line.find(' ', 2);
  if (space == std::string::npos) return std::nullopt;
  j.number = std::strtoull(line.c_str() + 2, nullptr, 10);
  std::string rest = line.substr(space + 1);
  size_t tab = rest.find('\t');
  j.path = rest.substr(0, tab);
  if (tab != std::string::npos) j.second = rest.substr(tab + 1);
  if (j.path.empty()) return std::nullopt;
  return j;
}

}  // namespace

SyncJournalFileSystem::SyncJournalFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                             const std::string& journal)
    : FileSystemWrapper(std::move(base)) {
  fd_ = open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    std::fprintf(stderr, "sync journal '%s': %s\n", journal.c_str(), std::strerror(errno));
    std::abort();
  }
}

SyncJournalFileSystem::~SyncJournalFileSystem() {
  if (fd_ >= 0) close(fd_);
}

void SyncJournalFileSystem::Record(char tag, uint64_t number, std::string_view path,
                                   std::string_view second) {
  std::string line;
  line += tag;
  line += ' ';
  line += std::to_string(number);
  line += ' ';
  line += path;
  if (!second.empty()) {
    line += '\t';
    line += second;
  }
  line += '\n';
  std::lock_guard lock(mu_);
  // One write(2) per record: a kill leaves whole lines (a torn last line is ignored on replay).
  if (write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::fprintf(stderr, "sync journal: write failed: %s\n", std::strerror(errno));
    std::abort();  // a record lost would make the cut lie about what was synced
  }
}

IOStatus SyncJournalFileSystem::NewWritableFile(const std::string& f,
                                                const rocksdb::FileOptions& o,
                                                std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                IODebugContext* dbg) {
  IOStatus s = target()->NewWritableFile(f, o, r, dbg);
  if (!s.ok()) return s;
  Record('C', 0, f);
  *r = std::make_unique<JournaledFile>(std::move(*r), this, f, 0);
  return s;
}

IOStatus SyncJournalFileSystem::ReopenWritableFile(const std::string& f,
                                                   const rocksdb::FileOptions& o,
                                                   std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                   IODebugContext* dbg) {
  IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
  if (!s.ok()) return s;
  // The size on disk: a reopened POSIX file counts its size from 0 (FSWritableFile::GetFileSize
  // says 0 here), which would make an earlier run's whole WAL look unsynced.
  uint64_t size = 0;
  if (IOStatus st = target()->GetFileSize(f, IOOptions(), &size, dbg); !st.ok()) return st;
  Record('O', size, f);  // durable so far, unless this run already tracks the file
  *r = std::make_unique<JournaledFile>(std::move(*r), this, f, size);
  return s;
}

IOStatus SyncJournalFileSystem::ReuseWritableFile(const std::string& f, const std::string& old,
                                                  const rocksdb::FileOptions& o,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* r,
                                                  IODebugContext* dbg) {
  IOStatus s = target()->ReuseWritableFile(f, old, o, r, dbg);
  if (!s.ok()) return s;
  // A recycled file is rewritten from its start: only what this run syncs of it is durable.
  Record('D', 0, old);
  Record('C', 0, f);
  *r = std::make_unique<JournaledFile>(std::move(*r), this, f, 0);
  return s;
}

IOStatus SyncJournalFileSystem::NewRandomRWFile(const std::string& f,
                                                const rocksdb::FileOptions& o,
                                                std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                                                IODebugContext* dbg) {
  // Writes through such a file would bypass the journal (the fault file system below refuses
  // them too).
  return IOStatus::NotSupported("the sync journal does not model random read-write files: " + f);
}

IOStatus SyncJournalFileSystem::DeleteFile(const std::string& f, const IOOptions& o,
                                           IODebugContext* dbg) {
  IOStatus s = target()->DeleteFile(f, o, dbg);
  if (s.ok()) Record('D', 0, f);
  return s;
}

IOStatus SyncJournalFileSystem::RenameFile(const std::string& from, const std::string& to,
                                           const IOOptions& o, IODebugContext* dbg) {
  IOStatus s = target()->RenameFile(from, to, o, dbg);
  if (s.ok()) Record('R', 0, from, to);
  return s;
}

IOStatus SyncJournalFileSystem::LinkFile(const std::string& from, const std::string& to,
                                         const IOOptions& o, IODebugContext* dbg) {
  IOStatus s = target()->LinkFile(from, to, o, dbg);
  if (s.ok()) Record('L', 0, from, to);
  return s;
}

IOStatus SyncJournalFileSystem::Truncate(const std::string& f, size_t size, const IOOptions& o,
                                         IODebugContext* dbg) {
  IOStatus s = target()->Truncate(f, size, o, dbg);
  if (s.ok()) Record('T', size, f);
  return s;
}

JournaledVolume::JournaledVolume(std::shared_ptr<internal::VolumeImpl> base,
                                 const std::string& journal)
    : base_(std::move(base)),
      fs_(std::make_shared<SyncJournalFileSystem>(base_->env()->GetFileSystem(), journal)),
      env_(rocksdb::NewCompositeEnv(fs_)) {}

Result<PowerLossCut> ApplyPowerLoss(const std::string& journal) {
  PowerLossCut cut;
  // Path -> durable length, for every file this run wrote; files it never named stay whole.
  std::map<std::string, uint64_t> durable;
  std::ifstream in(journal);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: a torn last record, written by no completed operation
    auto j = ParseLine(line);
    if (!j) return Status::Corruption("sync journal line '" + line + "'");
    ++cut.records;
    switch (j->tag) {
      case 'C':
        durable[j->path] = 0;
        break;
      case 'O':
        durable.emplace(j->path, j->number);
        break;
      case 'S':
        // Concurrent syncs of one file may journal out of order: durability only grows.
        if (auto it = durable.find(j->path); it != durable.end()) {
          it->second = std::max(it->second, j->number);
        }
        break;
      case 'T':
        if (auto it = durable.find(j->path); it != durable.end()) {
          it->second = std::min(it->second, j->number);
        }
        break;
      case 'D':
        durable.erase(j->path);
        break;
      case 'R':
        if (auto it = durable.find(j->path); it != durable.end()) {
          const uint64_t length = it->second;
          durable.erase(it);
          durable[j->second] = length;
        } else {
          durable.erase(j->second);  // an untracked file took the name: whole
        }
        break;
      case 'L':
        if (auto it = durable.find(j->path); it != durable.end()) durable[j->second] = it->second;
        break;
      default:
        return Status::Corruption("sync journal line '" + line + "'");
    }
  }
  for (const auto& [path, length] : durable) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) continue;  // deleted (metadata is durable at once)
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size <= length) continue;
    if (truncate(path.c_str(), static_cast<off_t>(length)) != 0) {
      return Status::IOError("cutting '" + path + "' to " + std::to_string(length) + ": " +
                             std::strerror(errno));
    }
    ++cut.files_cut;
    cut.bytes_dropped += size - length;
  }
  return cut;
}

}  // namespace holdfast::crash
