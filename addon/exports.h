// The functions module.cc exports (protocol.md), one declaration each. Every
// one is wrapped in guarded() (errors.h) when exported.
#pragma once

#include <napi.h>

namespace tasklets_addon {

// main_thread.cc
Napi::Value create_pool(const Napi::CallbackInfo& info);
Napi::Value submit(const Napi::CallbackInfo& info);
Napi::Value submit_one(const Napi::CallbackInfo& info);
Napi::Value register_function(const Napi::CallbackInfo& info);
Napi::Value function_source(const Napi::CallbackInfo& info);
Napi::Value release_functions(const Napi::CallbackInfo& info);
Napi::Value stats(const Napi::CallbackInfo& info);
Napi::Value set_keep_alive(const Napi::CallbackInfo& info);
Napi::Value shutdown(const Napi::CallbackInfo& info);
Napi::Value slot_failed(const Napi::CallbackInfo& info);
Napi::Value cancel(const Napi::CallbackInfo& info);
Napi::Value cancel_range(const Napi::CallbackInfo& info);
Napi::Value task_slot(const Napi::CallbackInfo& info);
Napi::Value resize(const Napi::CallbackInfo& info);

// protocol.cc: the numbers of protocol.h, exported as `protocol`
Napi::Object protocol_object(Napi::Env env);

// memory.cc
Napi::Value trim_memory(const Napi::CallbackInfo& info);
Napi::Value malloc_in_use(const Napi::CallbackInfo& info);

// executor.cc
Napi::Value attach(const Napi::CallbackInfo& info);
Napi::Value run_batch(const Napi::CallbackInfo& info);
Napi::Value finish_async(const Napi::CallbackInfo& info);
Napi::Value detach(const Napi::CallbackInfo& info);

}  // namespace tasklets_addon
