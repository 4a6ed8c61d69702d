// Holdfast: an embedded database for game servers' player data with a session lock built in.
// Include this one header for the whole public API.
#ifndef HOLDFAST_HOLDFAST_H_
#define HOLDFAST_HOLDFAST_H_

#include "holdfast/clock.h"
#include "holdfast/engine.h"
#include "holdfast/limits.h"
#include "holdfast/options.h"
#include "holdfast/status.h"

#endif  // HOLDFAST_HOLDFAST_H_
