// Fuzz target: session operation sequences on an in-memory engine, checked against a model after
// every operation (fuzz/session_driver.h). Everything but reopens, which are slow: see
// session_reopen.cc. The engine keeps memory from one input to the next on purpose, so
// libFuzzer's per-input leak check (a full heap scan each time) is off; leaks show in the replay
// test of the ASan build, which checks at exit. -max_len is kMaxInputBytes (session_driver.h).
// fuzz-flags: -max_len=64 -timeout=60 -detect_leaks=0
#include "session_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  holdfast::fuzz::RunSessionOps(data, size, {.max_reopens = 0});
  return 0;
}
