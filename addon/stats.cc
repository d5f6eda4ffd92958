#include "stats.h"

#include "histograms.h"

#include <string>

namespace tasklets_addon {

namespace {

Napi::Number num(Napi::Env env, std::uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
Napi::Number us(Napi::Env env, double ns) { return Napi::Number::New(env, ns / 1000.0); }

Napi::Object latency(Napi::Env env, const tasklets::LatencySummary& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", num(env, l.count));
  o.Set("p50", us(env, static_cast<double>(l.p50_ns)));
  o.Set("p90", us(env, static_cast<double>(l.p90_ns)));
  o.Set("p99", us(env, static_cast<double>(l.p99_ns)));
  o.Set("p999", us(env, static_cast<double>(l.p999_ns)));
  o.Set("max", us(env, static_cast<double>(l.max_ns)));
  o.Set("mean", us(env, l.mean_ns));
  return o;
}

Napi::Object worker(Napi::Env env, const tasklets::WorkerStats& w) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, w.id));
  o.Set("running", Napi::Boolean::New(env, w.running));
  Napi::Array pus = Napi::Array::New(env, w.pus.size());
  for (std::size_t i = 0; i < w.pus.size(); ++i) pus.Set(static_cast<std::uint32_t>(i), Napi::Number::New(env, w.pus[i]));
  o.Set("pus", pus);
  o.Set("numa", Napi::Number::New(env, w.numa));
  o.Set("pinned", Napi::Boolean::New(env, w.pinned));
  o.Set("bindError", Napi::String::New(env, w.bind_error));
#define TASKLETS_SET_COUNTER(field, name) o.Set(name, num(env, w.counters.field));
  TASKLETS_WORKER_COUNTERS(TASKLETS_SET_COUNTER)
#undef TASKLETS_SET_COUNTER
  o.Set("cpuTime", us(env, static_cast<double>(w.cpu_ns)));
  o.Set("busyTime", us(env, static_cast<double>(w.busy_ns)));
  return o;
}

Napi::Object task_pool(Napi::Env env, const tasklets::TaskPoolStats& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("capacity", num(env, t.capacity));
  o.Set("live", num(env, t.live));
  o.Set("freeShared", num(env, t.free_shared));
  o.Set("cached", num(env, t.cached));
  o.Set("misses", num(env, t.misses));
  o.Set("chunkBytes", num(env, t.chunk_bytes));
  return o;
}

Napi::Object arena(Napi::Env env, const tasklets::ArenaStats& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", num(env, a.allocated_bytes));
  o.Set("active", num(env, a.active_bytes));
  o.Set("resident", num(env, a.resident_bytes));
  o.Set("mapped", num(env, a.mapped_bytes));
  o.Set("bindFailures", num(env, a.bind_failures));
  return o;
}

template <class T, class F>
Napi::Array array_of(Napi::Env env, const std::vector<T>& items, F convert) {
  Napi::Array a = Napi::Array::New(env, items.size());
  for (std::size_t i = 0; i < items.size(); ++i) a.Set(static_cast<std::uint32_t>(i), convert(env, items[i]));
  return a;
}

}  // namespace

Napi::Object stats_to_js(Napi::Env env, const tasklets::PoolStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("topology", Napi::String::New(env, s.topology));
  o.Set("placement", Napi::String::New(env, std::string(tasklets::placement_name(s.placement))));
  o.Set("scaling", Napi::String::New(env, std::string(tasklets::scaling_name(s.scaling))));
  o.Set("minWorkers", Napi::Number::New(env, s.min_workers));
  o.Set("maxWorkers", Napi::Number::New(env, s.max_workers));
  o.Set("activeWorkers", Napi::Number::New(env, s.active_workers));
  o.Set("sleepingWorkers", Napi::Number::New(env, s.sleeping_workers));
  o.Set("scaleUps", num(env, s.scale_ups));
  o.Set("scaleDowns", num(env, s.scale_downs));
  o.Set("replacedWorkers", num(env, s.replaced_workers));
  Napi::Object queued = Napi::Object::New(env);
  queued.Set("high", num(env, s.queued[0]));
  queued.Set("normal", num(env, s.queued[1]));
  queued.Set("low", num(env, s.queued[2]));
  o.Set("queued", queued);
  o.Set("executed", num(env, s.executed));
  o.Set("failed", num(env, s.failed));
  o.Set("cancelled", num(env, s.cancelled));
  o.Set("timedOut", num(env, s.timed_out));
  o.Set("dependencyFailed", num(env, s.dependency_failed));
  o.Set("waiting", num(env, s.waiting));
  o.Set("stolen", num(env, s.stolen));
  o.Set("queueWait", latency(env, s.queue_wait));
  o.Set("runTime", latency(env, s.run_time));
  o.Set("taskCpu", latency(env, s.task_cpu));
  o.Set("histograms", histograms_to_js(env, s));
  o.Set("workers", array_of(env, s.workers, worker));
  o.Set("taskPools", array_of(env, s.task_pools, task_pool));
  o.Set("arenas", array_of(env, s.arenas, arena));
  return o;
}

}  // namespace tasklets_addon
