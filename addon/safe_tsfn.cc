#include "safe_tsfn.h"

#include "errors.h"

namespace tasklets_addon {

std::shared_ptr<SafeTsfn> SafeTsfn::create(napi_env env, napi_value fn, const char* name,
                                           napi_threadsafe_function_call_js call_js, void* context,
                                           FreeContext free_context, bool ref) {
  auto self = std::make_shared<SafeTsfn>();
  self->free_context_ = free_context;
  napi_value resource_name;
  check(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name));
  // The finalizer keeps the object alive until Node-API is done with it.
  auto* keep = new std::shared_ptr<SafeTsfn>(self);
  napi_threadsafe_function handle = nullptr;
  const napi_status status = napi_create_threadsafe_function(
      env, fn, nullptr, resource_name, /*max_queue_size=*/0, /*initial_thread_count=*/1, keep,
      &SafeTsfn::finalize, context, call_js, &handle);
  if (status != napi_ok) {
    delete keep;
    check(env, status);
  }
  {
    std::lock_guard lock(self->mutex_);
    self->fn_ = handle;
  }
  if (!ref) self->set_ref(env, false);
  return self;
}

bool SafeTsfn::call(void* data) noexcept {
  std::lock_guard lock(mutex_);
  return fn_ && napi_call_threadsafe_function(fn_, data, napi_tsfn_nonblocking) == napi_ok;
}

void SafeTsfn::release() noexcept {
  std::lock_guard lock(mutex_);
  if (fn_) napi_release_threadsafe_function(std::exchange(fn_, nullptr), napi_tsfn_release);
}

void SafeTsfn::set_ref(napi_env env, bool ref) noexcept {
  std::lock_guard lock(mutex_);
  if (!fn_) return;
  if (ref) {
    napi_ref_threadsafe_function(env, fn_);
  } else {
    napi_unref_threadsafe_function(env, fn_);
  }
}

void SafeTsfn::finalize(napi_env, void* data, void* context) noexcept {
  auto* keep = static_cast<std::shared_ptr<SafeTsfn>*>(data);
  {
    std::lock_guard lock((*keep)->mutex_);
    (*keep)->fn_ = nullptr;
  }
  if ((*keep)->free_context_) (*keep)->free_context_(context);
  delete keep;
}

}  // namespace tasklets_addon
