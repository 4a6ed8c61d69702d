// --keep-running: the server stays up with its players online (auto-saving) until SIGINT or
// SIGTERM, then closes cleanly.
#ifndef HOLDFAST_EXAMPLES_DEMO_KEEP_RUNNING_H_
#define HOLDFAST_EXAMPLES_DEMO_KEEP_RUNNING_H_

#include <cstdint>

#include "world.h"

namespace holdfast_demo {

// Blocks SIGINT and SIGTERM in the calling thread. Threads started later inherit the mask, so
// the signals stay pending until ServeUntilStopped takes them; call it before any thread starts.
void BlockStopSignals();

// Keeps the players online: once a second a few of them earn coins, and the engine's
// auto-saver stores them. Returns the signal (SIGINT or SIGTERM) that asked the server to stop,
// taken with sigwait — no polling.
int ServeUntilStopped(World& world, uint64_t seed, uint64_t* coins_earned);

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_KEEP_RUNNING_H_
