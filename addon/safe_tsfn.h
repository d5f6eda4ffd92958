// A thread-safe function that any thread may call at any time, including
// after it was released or after its environment was torn down: such calls
// are dropped and report false. Node-API frees a thread-safe function once it
// is released or its environment closes, so a bare handle kept by another
// thread (the runtime's housekeeper, an executor) could outlive it; here the
// handle is cleared under a lock before that happens.
//
// Locking: call(), release() and set_ref() take `mutex_` around one
// non-blocking napi call; the finalizer takes it to clear the handle. No
// napi-internal lock is held while taking ours, so the order is fixed.
#pragma once

#include <node_api.h>

#include <memory>
#include <mutex>
#include <utility>

namespace tasklets_addon {

class SafeTsfn {
 public:
  // `context` is handed to `call_js` and freed by `free_context` (may be
  // null) once Node-API finalizes the function, on the env's thread.
  using FreeContext = void (*)(void* context) noexcept;

  // On the env's thread. `fn` may be null (call_js then does everything).
  // Starts referenced when `ref`; otherwise it never keeps the loop alive.
  // Throws Napi::Error.
  static std::shared_ptr<SafeTsfn> create(napi_env env, napi_value fn, const char* name,
                                          napi_threadsafe_function_call_js call_js, void* context,
                                          FreeContext free_context, bool ref);

  SafeTsfn() = default;
  SafeTsfn(const SafeTsfn&) = delete;
  SafeTsfn& operator=(const SafeTsfn&) = delete;

  // Any thread; never blocks. False if released, closing or out of memory.
  bool call(void* data) noexcept;
  // Any thread; idempotent. Calls queued before it are still delivered.
  void release() noexcept;
  // On the env's thread.
  void set_ref(napi_env env, bool ref) noexcept;

 private:
  static void finalize(napi_env env, void* data, void* hint) noexcept;

  std::mutex mutex_;
  napi_threadsafe_function fn_ = nullptr;
  FreeContext free_context_ = nullptr;
};

}  // namespace tasklets_addon
