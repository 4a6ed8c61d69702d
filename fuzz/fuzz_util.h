// Helpers shared by the fuzz targets in fuzz/targets/: a CHECK that aborts (so libFuzzer records
// a finding and the replay build fails its ctest test), and FuzzInput, a reader that turns the
// fuzzer's bytes into the numbers and strings a target needs, giving zeros once they run out.
//
// Every target is one file in fuzz/targets/ defining LLVMFuzzerTestOneInput. It is built twice:
// with clang and libFuzzer (scripts/fuzz.sh, build-fuzz/) and as a plain program with
// fuzz/replay_main.cc that runs its corpus as a ctest test (fuzz/CMakeLists.txt).
#ifndef HOLDFAST_FUZZ_FUZZ_UTIL_H_
#define HOLDFAST_FUZZ_FUZZ_UTIL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast::fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", file, line, condition);
  if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// Printable form of bytes for failure messages: escapes everything outside printable ASCII.
inline std::string Printable(std::string_view bytes, size_t limit = 96) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > limit) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace holdfast::fuzz

// Aborts with the condition, the location and the streamed detail when `cond` is false:
//   FUZZ_CHECK(a == b, "a=" << a << " b=" << b);
#define FUZZ_CHECK(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::ostringstream fuzz_check_detail_;                                       \
      fuzz_check_detail_ << "" __VA_OPT__(<<) __VA_ARGS__;                         \
      ::holdfast::fuzz::Fail(__FILE__, __LINE__, #cond, fuzz_check_detail_.str()); \
    }                                                                              \
  } while (0)

// Aborts unless the Status (or Result) `expr` has exactly StatusCode::`expected`.
#define FUZZ_CHECK_CODE(expr, expected, ...)                                            \
  do {                                                                                  \
    ::holdfast::Status fuzz_status_ = ::holdfast::fuzz::StatusOf(expr);                 \
    FUZZ_CHECK(fuzz_status_.code() == ::holdfast::StatusCode::expected,                 \
               #expr " -> " << fuzz_status_.ToString()                                  \
                            << ", expected " #expected " " __VA_OPT__(<<) __VA_ARGS__); \
  } while (0)

namespace holdfast::fuzz {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// Reads the fuzzer's bytes front to back. Past the end every read returns zeros (or an empty
// string), so a target never has to check lengths and every input means something.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return empty() ? 0 : size_ - pos_; }

  uint8_t Byte() { return empty() ? 0 : data_[pos_++]; }
  uint16_t U16() { return static_cast<uint16_t>((uint16_t{Byte()} << 8) | Byte()); }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return v;
  }
  // Up to `n` bytes (fewer when the input runs out).
  std::string Bytes(size_t n) {
    n = std::min(n, remaining());
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_FUZZ_UTIL_H_
