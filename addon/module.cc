// Module entry: context-aware (loaded by the main thread and by every
// executor Worker), per-env data, and the cleanup hook that closes what the
// env owns when it goes away (Worker terminated, process exiting).
#include <napi.h>

#include "env_data.h"
#include "errors.h"
#include "exports.h"
#include "tasklets/error.hpp"

namespace tasklets_addon {

EnvData& env_data(napi_env env) {
  void* data = nullptr;
  check(env, napi_get_instance_data(env, &data));
  if (!data) throw Napi::Error::New(env, "tasklets: the addon is not initialised in this thread");
  return *static_cast<EnvData*>(data);
}

namespace {

// Cleanup hooks run in reverse order of registration, so this one runs before
// Node-API frees the env's own state. It owns the EnvData: the instance data
// has no finalizer.
void cleanup(void* arg) noexcept {
  auto* data = static_cast<EnvData*>(arg);
  close_executor(*data);
  close_owned_pools(*data);
  napi_set_instance_data(data->env, nullptr, nullptr, nullptr);
  delete data;
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void export_function(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<guarded<F>>(env, name));
}

napi_value init(napi_env raw_env, napi_value raw_exports) {
  Napi::Env env(raw_env);
  Napi::Object exports(raw_env, raw_exports);
  auto* data = new EnvData{raw_env, {}, nullptr};
  if (napi_set_instance_data(raw_env, data, nullptr, nullptr) != napi_ok ||
      napi_add_env_cleanup_hook(raw_env, &cleanup, data) != napi_ok) {
    delete data;
    throw Napi::Error::New(env, "tasklets: cannot set up the addon in this thread");
  }
  // Errors the runtime raises reach JS with their nativeTrace (errors.h);
  // they are rare there, so the stack walk each costs does not matter.
  tasklets::record_error_traces(true);
  export_function<create_pool>(env, exports, "createPool");
  export_function<submit>(env, exports, "submit");
  export_function<submit_one>(env, exports, "submitOne");
  export_function<register_function>(env, exports, "registerFunction");
  export_function<function_source>(env, exports, "functionSource");
  export_function<release_functions>(env, exports, "releaseFunctions");
  export_function<stats>(env, exports, "stats");
  export_function<set_keep_alive>(env, exports, "setKeepAlive");
  export_function<shutdown>(env, exports, "shutdown");
  export_function<slot_failed>(env, exports, "slotFailed");
  export_function<cancel>(env, exports, "cancel");
  export_function<cancel_range>(env, exports, "cancelRange");
  export_function<task_slot>(env, exports, "taskSlot");
  export_function<resize>(env, exports, "resize");
  export_function<trim_memory>(env, exports, "trimMemory");
  export_function<malloc_in_use>(env, exports, "mallocInUse");
  export_function<attach>(env, exports, "attach");
  export_function<run_batch>(env, exports, "runBatch");
  export_function<finish_async>(env, exports, "finishAsync");
  export_function<detach>(env, exports, "detach");
  exports.Set("protocol", protocol_object(env));
  return exports;
}

}  // namespace
}  // namespace tasklets_addon

NAPI_MODULE_INIT() {
  try {
    return tasklets_addon::init(env, exports);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
    return nullptr;
  } catch (...) {
    napi_throw_error(env, "ERR_TASKLETS_NATIVE", "tasklets: the addon failed to initialise");
    return nullptr;
  }
}
