// Holdfast: an embedded database for game servers' player data with a session lock built in.
// Include this one header for the whole public API.
#ifndef HOLDFAST_HOLDFAST_H_
#define HOLDFAST_HOLDFAST_H_

#include "holdfast/admin.h"
#include "holdfast/admin_client.h"
#include "holdfast/clock.h"
#include "holdfast/codec.h"
#include "holdfast/engine.h"
#include "holdfast/hooks.h"
#include "holdfast/limits.h"
#include "holdfast/options.h"
#include "holdfast/profile.h"
#include "holdfast/render.h"
#include "holdfast/session.h"
#include "holdfast/stats.h"
#include "holdfast/status.h"
#include "holdfast/store.h"

#endif  // HOLDFAST_HOLDFAST_H_
