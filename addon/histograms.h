#pragma once

#include <napi.h>

#include "tasklets/stats.hpp"

namespace tasklets_addon {

// { bounds: Float64Array (seconds), queueWait, runTime, taskCpu }, each
// { buckets: Float64Array (cumulative counts per bound), count, sum (seconds) }.
Napi::Object histograms_to_js(Napi::Env env, const tasklets::PoolStats& s);

}  // namespace tasklets_addon
