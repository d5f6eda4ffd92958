// getStats().histograms: the runtime's latency histograms at the fixed
// exposition bounds (include/tasklets/exposition.hpp), for js/metrics/.
#include "histograms.h"

#include "tasklets/exposition.hpp"

namespace tasklets_addon {

namespace {

Napi::Object histogram(Napi::Env env, const tasklets::HistogramSnapshot& h) {
  const tasklets::ExpositionBuckets b = tasklets::exposition_buckets(h);
  Napi::Float64Array counts = Napi::Float64Array::New(env, b.cumulative.size());
  for (std::size_t i = 0; i < b.cumulative.size(); ++i) counts[i] = static_cast<double>(b.cumulative[i]);
  Napi::Object o = Napi::Object::New(env);
  o.Set("buckets", counts);
  o.Set("count", Napi::Number::New(env, static_cast<double>(b.count)));
  o.Set("sum", Napi::Number::New(env, static_cast<double>(b.sum_ns) / 1e9));
  return o;
}

}  // namespace

Napi::Object histograms_to_js(Napi::Env env, const tasklets::PoolStats& s) {
  Napi::Float64Array bounds = Napi::Float64Array::New(env, tasklets::kExpositionBoundsNs.size());
  for (std::size_t i = 0; i < bounds.ElementLength(); ++i) bounds[i] = static_cast<double>(tasklets::kExpositionBoundsNs[i]) / 1e9;
  Napi::Object o = Napi::Object::New(env);
  o.Set("bounds", bounds);
  o.Set("queueWait", histogram(env, s.queue_wait_histogram));
  o.Set("runTime", histogram(env, s.run_time_histogram));
  o.Set("taskCpu", histogram(env, s.task_cpu_histogram));
  return o;
}

}  // namespace tasklets_addon
