// Shutting a pool down without blocking the main thread, and tearing pools
// down when their env goes away.
//
// shutdown(): the native Pool::shutdown runs on a helper thread, which then
// waits for tasks still pending on executors (their promises), and queues a
// ShutdownDone on the pool's onCompletions function, after every completion:
// the main thread drains the last tasks, then resolves the promise(s), then
// releases the pool's thread-safe functions and retires it from the registry.
#pragma once

#include <node_api.h>

#include <string>
#include <vector>

#include "pool_registry.h"

namespace tasklets_addon {

struct ShutdownDone {
  tasklets::ShutdownReport report;
  std::string error;  // non-empty: the native shutdown threw
};

// Owner thread, from completions_call_js; takes ownership of `done`.
void finish_shutdown(napi_env env, PoolState& state, ShutdownDone* done) noexcept;

}  // namespace tasklets_addon
