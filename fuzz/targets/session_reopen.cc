// Fuzz target: session operation sequences with up to two engine reopens (Close with final
// saves, Open on the same volume) per input, checked against a model after every operation
// (fuzz/session_driver.h). Slower than session_ops by the cost of an open (~45 ms under ASan).
// Per-input leak checks are off and -max_len is kMaxInputBytes, as in session_ops.cc.
// fuzz-flags: -max_len=64 -timeout=60 -detect_leaks=0
#include "session_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  holdfast::fuzz::RunSessionOps(data, size, {.max_reopens = 2});
  return 0;
}
