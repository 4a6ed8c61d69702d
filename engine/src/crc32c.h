// CRC-32C (Castagnoli), used for the payload checksum and the record envelope (docs/format.md).
#ifndef HOLDFAST_SRC_CRC32C_H_
#define HOLDFAST_SRC_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace holdfast::internal {

// CRC-32C of `n` bytes at `data`, continuing from `crc` (0 to start). Uses the SSE4.2 crc32
// instruction when the CPU has it (checked once), else slicing-by-8 tables.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
// The table-driven version used where the CPU has no CRC-32C instruction (tests compare the two).
uint32_t SoftwareCrc32cForTesting(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(std::string_view bytes) {
  return Crc32cExtend(0, bytes.data(), bytes.size());
}

// Stored checksums are masked (rotated and offset) so that a CRC computed over bytes that
// themselves contain CRCs does not degenerate; the same scheme LevelDB documents for its logs.
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_CRC32C_H_
