#include "transfer.h"

#include <cstring>
#include <memory>
#include <vector>

#include <v8.h>

#include "errors.h"
#include "isolate.h"

namespace tasklets_addon {

struct TransferList {
  std::vector<std::shared_ptr<v8::BackingStore>> stores;
};

namespace {

// Node's N-API represents a napi_value as a v8::Local<v8::Value> (its
// v8impl::V8LocalValueFromJsValue is this very copy); the addon is built
// against the running Node's headers, so the layouts match.
v8::Local<v8::Value> to_v8(napi_value v) noexcept {
  static_assert(sizeof(v8::Local<v8::Value>) == sizeof(napi_value));
  v8::Local<v8::Value> local;
  std::memcpy(static_cast<void*>(&local), &v, sizeof(v));
  return local;
}

napi_value from_v8(v8::Local<v8::Value> local) noexcept {
  napi_value v;
  std::memcpy(&v, static_cast<void*>(&local), sizeof(v));
  return v;
}

}  // namespace

TransferList* take_transfers(napi_env env, napi_value buffers) {
  bool is_array = false;
  check(env, napi_is_array(env, buffers, &is_array));
  if (!is_array) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: transfer must be an Array of ArrayBuffers");
  std::uint32_t n = 0;
  check(env, napi_get_array_length(env, buffers, &n));
  auto list = std::make_unique<TransferList>();
  list->stores.reserve(n);
  std::vector<v8::Local<v8::ArrayBuffer>> buffers_v8;
  buffers_v8.reserve(n);
  // Validate every buffer before detaching any, so that a bad list leaves
  // the caller's buffers untouched.
  for (std::uint32_t i = 0; i < n; ++i) {
    napi_value item;
    check(env, napi_get_element(env, buffers, i, &item));
    const v8::Local<v8::Value> value = to_v8(item);
    BufferFacts facts{value->IsArrayBuffer(), false, false};
    if (facts.array_buffer) {
      const v8::Local<v8::ArrayBuffer> ab = value.As<v8::ArrayBuffer>();
      facts.detachable = ab->IsDetachable();
      facts.detached = ab->WasDetached();
      buffers_v8.push_back(ab);
    }
    if (const char* why = transfer_refusal(facts)) {
      throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: transfer[" + std::to_string(i) + "] " + why);
    }
  }
  for (const auto& ab : buffers_v8) {
    list->stores.push_back(ab->GetBackingStore());
    if (ab->Detach(v8::Local<v8::Value>()).IsNothing()) {
      throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: an ArrayBuffer refused to be detached");
    }
  }
  return list.release();
}

napi_value give_transfers(napi_env env, TransferList* list) {
  std::unique_ptr<TransferList> owned(list);
  napi_value out;
  check(env, napi_create_array_with_length(env, owned->stores.size(), &out));
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  for (std::size_t i = 0; i < owned->stores.size(); ++i) {
    const v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(owned->stores[i]));
    check(env, napi_set_element(env, out, static_cast<std::uint32_t>(i), from_v8(ab)));
  }
  return out;
}

void free_transfers(TransferList* list) noexcept { delete list; }

// ---------------------------------------------------------------- isolate.h
// The addon's other uses of V8's own API, kept in this one file: stopping
// the JavaScript a task runs, and releasing heap memory.

IsolateHandle current_isolate() noexcept { return v8::Isolate::GetCurrent(); }

void terminate_execution(IsolateHandle isolate) noexcept {
  static_cast<v8::Isolate*>(isolate)->TerminateExecution();
}

void cancel_termination(IsolateHandle isolate) noexcept {
  static_cast<v8::Isolate*>(isolate)->CancelTerminateExecution();
}

void release_heap_memory() noexcept {
  if (v8::Isolate* isolate = v8::Isolate::GetCurrent()) isolate->LowMemoryNotification();
}

}  // namespace tasklets_addon
