#include "completion_columns.h"

#include <algorithm>

#include "errors.h"

namespace tasklets_addon {

namespace {

template <class T>
T* typed_array(napi_env env, napi_typedarray_type type, std::size_t n, napi_value& out) {
  napi_value buffer;
  void* data = nullptr;
  check(env, napi_create_arraybuffer(env, n * sizeof(T), &data, &buffer));
  check(env, napi_create_typedarray(env, type, n, buffer, 0, &out));
  return static_cast<T*>(data);
}

constexpr std::size_t kFirstCapacity = 64;

}  // namespace

CompletionColumns::View CompletionColumns::fresh(napi_env env, std::size_t n) {
  View v{};
  v.id = typed_array<double>(env, napi_float64_array, n, v.ids);
  v.kind = typed_array<std::uint8_t>(env, napi_uint8_array, n, v.kinds);
  v.worker = typed_array<std::int32_t>(env, napi_int32_array, n, v.workers);
  v.duration = typed_array<double>(env, napi_float64_array, n, v.durations);
  return v;
}

CompletionColumns::View CompletionColumns::take(napi_env env, std::size_t n) {
  if (busy_ || closed_) return fresh(env, n);
  View v;
  if (n > capacity_) {
    const std::size_t capacity = std::max({n, capacity_ * 2, kFirstCapacity});
    v = fresh(env, capacity);
    keep(env, v, capacity);  // if it cannot, these arrays serve this call only
  } else {
    v = kept_;
    check(env, napi_get_reference_value(env, refs_[kIds], &v.ids));
    check(env, napi_get_reference_value(env, refs_[kKinds], &v.kinds));
    check(env, napi_get_reference_value(env, refs_[kWorkers], &v.workers));
    check(env, napi_get_reference_value(env, refs_[kDurations], &v.durations));
  }
  busy_ = capacity_ != 0;
  return v;
}

void CompletionColumns::keep(napi_env env, const View& v, std::size_t capacity) noexcept {
  forget(env);
  const napi_value values[kColumns] = {v.ids, v.kinds, v.workers, v.durations};
  for (int i = 0; i < kColumns; ++i) {
    if (napi_create_reference(env, values[i], 1, &refs_[i]) != napi_ok) {
      forget(env);
      return;
    }
  }
  kept_ = v;
  capacity_ = capacity;
}

void CompletionColumns::forget(napi_env env) noexcept {
  for (napi_ref& r : refs_) {
    if (r) napi_delete_reference(env, r);
    r = nullptr;
  }
  capacity_ = 0;
}

void CompletionColumns::close(napi_env env) noexcept {
  forget(env);
  closed_ = true;
}

}  // namespace tasklets_addon
