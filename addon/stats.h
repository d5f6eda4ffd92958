// tasklets::PoolStats as a plain JS object with camelCase fields (docs/api.md,
// getStats()). Latencies are in microseconds; counters are Numbers.
#pragma once

#include <napi.h>

#include "tasklets/stats.hpp"

namespace tasklets_addon {

Napi::Object stats_to_js(Napi::Env env, const tasklets::PoolStats& s);

}  // namespace tasklets_addon
