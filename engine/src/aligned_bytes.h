// AlignedBytes: a copy of bytes at an 8-byte-aligned address. Flatbuffers reads scalars in place,
// so a buffer must be suitably aligned before it is verified and read; values handed out by the
// storage layer (and payloads handed to codecs) carry no alignment guarantee.
//
// Thread safety: a value; immutable after construction.
#ifndef HOLDFAST_SRC_ALIGNED_BYTES_H_
#define HOLDFAST_SRC_ALIGNED_BYTES_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace holdfast::internal {

class AlignedBytes {
 public:
  explicit AlignedBytes(std::string_view bytes)
      : storage_(new uint64_t[(bytes.size() + 7) / 8]), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(storage_.get(), bytes.data(), bytes.size());
  }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(storage_.get()); }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size_}; }

 private:
  std::unique_ptr<uint64_t[]> storage_;
  size_t size_;
};

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_ALIGNED_BYTES_H_
