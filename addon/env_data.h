// Per-environment state (main thread or Worker): the pools this env created
// and, in an executor, the slot it serves. Created at module load, closed by
// the env's cleanup hook (module.cc), which runs even when a Worker is
// terminated or the process exits with live pools.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <vector>

namespace tasklets_addon {

struct Executor;  // executor.cc

struct EnvData {
  napi_env env;
  std::vector<std::uint32_t> owned_pools;
  Executor* executor = nullptr;
};

EnvData& env_data(napi_env env);  // throws Napi::Error if the module was not initialised

// Cleanup, on the env's thread, never calling into JS.
void close_executor(EnvData& data) noexcept;     // executor.cc
void close_owned_pools(EnvData& data) noexcept;  // main_thread.cc

}  // namespace tasklets_addon
