// Volumes: where an engine's files live when not on the plain disk. A volume owns a RocksDB Env
// and outlives the engines opened on it, so a database can be closed and reopened on it.
// EngineOptions::memory_volume accepts any VolumeImpl: the in-memory one below, or test volumes
// that inject faults or simulate power loss (tests/).
#ifndef HOLDFAST_SRC_MEMORY_VOLUME_H_
#define HOLDFAST_SRC_MEMORY_VOLUME_H_

#include <rocksdb/env.h>

#include <memory>

#include "holdfast/options.h"

namespace holdfast::internal {

class VolumeImpl : public MemoryVolume {
 public:
  // The environment every file of an engine on this volume goes through.
  virtual rocksdb::Env* env() const = 0;
  // True when `path` names a directory on the real disk (parents are created before opening).
  virtual bool on_disk() const { return false; }
};

class MemoryVolumeImpl final : public VolumeImpl {
 public:
  MemoryVolumeImpl() : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {}
  rocksdb::Env* env() const override { return env_.get(); }

 private:
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_MEMORY_VOLUME_H_
