// trimMemory(): gives memory an idle pool no longer needs back to the
// system (config memory.cleanup 'aggressive'; js/ decides when). Called on
// the main thread and on each executor:
// - every jemalloc arena purges its unused dirty pages (the per-NUMA-node
//   arenas of the runtime and the payload arenas alike);
// - glibc's malloc returns free memory at the top of its heaps (V8 and Node
//   allocate through it);
// - V8 collects garbage and releases free heap pages, its young generation
//   shrunk back (LowMemoryNotification): always on an executor; on the main
//   thread only when asked (`trimMemory(true)`), since a full collection
//   there pauses the application for as long as its heap takes to mark.
#include <malloc.h>

#include "env_data.h"
#include "exports.h"
#include "isolate.h"
#include "tasklets/arena.hpp"

namespace tasklets_addon {

Napi::Value trim_memory(const Napi::CallbackInfo& info) {
  tasklets::purge_all_arenas();
  malloc_trim(0);
  const bool main_too = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  if (env_data(info.Env()).executor || main_too) release_heap_memory();
  return info.Env().Undefined();
}

// mallocInUse(): bytes glibc's malloc has handed out and not had back, over
// all its arenas (mmapped blocks included). What the process retains,
// unlike RSS, which also counts memory freed but kept by the allocator.
Napi::Value malloc_in_use(const Napi::CallbackInfo& info) {
  const struct mallinfo2 m = mallinfo2();
  return Napi::Number::New(info.Env(), static_cast<double>(m.uordblks + m.hblkhd));
}

}  // namespace tasklets_addon
