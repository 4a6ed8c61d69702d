// The in-memory file system behind MemoryVolume: a RocksDB mem env shared by every engine opened
// on the volume.
#ifndef HOLDFAST_SRC_MEMORY_VOLUME_H_
#define HOLDFAST_SRC_MEMORY_VOLUME_H_

#include <rocksdb/env.h>

#include <memory>

#include "holdfast/options.h"

namespace holdfast::internal {

class MemoryVolumeImpl final : public MemoryVolume {
 public:
  MemoryVolumeImpl() : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {}
  rocksdb::Env* env() const { return env_.get(); }

 private:
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_MEMORY_VOLUME_H_
