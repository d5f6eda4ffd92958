// Delivering settled tasks to the main thread: the call_js of a pool's
// onCompletions thread-safe function. Producers (PoolState::on_task_complete)
// ask for a call only when none is pending; each call drains everything that
// settled so far into one onCompletions(count, ids, kinds, values, workers,
// durations) call (protocol.md).
#pragma once

#include <node_api.h>

#include <memory>

#include "pool_registry.h"

namespace tasklets_addon {

// The thread-safe function's context: a weak reference to the pool, which
// may be gone by the time a queued call runs.
void* make_completions_context(const std::shared_ptr<PoolState>& state);
void free_completions_context(void* context) noexcept;

// data: nullptr for "tasks settled", or a ShutdownDone* (shutdown.h) queued
// after the last task settled: delivered after the final drain.
void completions_call_js(napi_env env, napi_value on_completions, void* context, void* data) noexcept;

// Owner thread. Throws Napi::Error; every drained task is released either way.
void deliver_completions(napi_env env, napi_value on_completions, PoolState& state);

}  // namespace tasklets_addon
