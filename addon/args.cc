#include "args.h"

#include "errors.h"

namespace tasklets_addon {

namespace {

[[noreturn]] void bad_arg(napi_env env, std::size_t i, const char* want) {
  throw type_error(env, "ERR_INVALID_ARG_TYPE",
                   "tasklets: argument " + std::to_string(i) + " must be " + want);
}

napi_value arg(const Napi::CallbackInfo& info, std::size_t i, napi_valuetype want, const char* name) {
  napi_value v = info[i];
  napi_valuetype type;
  check(info.Env(), napi_typeof(info.Env(), v, &type));
  if (type != want) bad_arg(info.Env(), i, name);
  return v;
}

}  // namespace

std::shared_ptr<PoolState> pool_arg(const Napi::CallbackInfo& info, std::size_t i) {
  const std::uint32_t id = uint32_arg(info, i);
  if (auto s = registry::find(id)) return s;
  if (registry::was_created(id)) {
    throw status_error(info.Env(), "ERR_POOL_SHUTDOWN");
  }
  throw coded_error(info.Env(), "ERR_INVALID_ARG_VALUE", "tasklets: no pool with id " + std::to_string(id));
}

double number_arg(const Napi::CallbackInfo& info, std::size_t i) {
  double d;
  check(info.Env(), napi_get_value_double(info.Env(), arg(info, i, napi_number, "a number"), &d));
  return d;
}

std::uint32_t uint32_arg(const Napi::CallbackInfo& info, std::size_t i) {
  std::uint32_t u;
  check(info.Env(), napi_get_value_uint32(info.Env(), arg(info, i, napi_number, "a number"), &u));
  return u;
}

std::string string_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return Napi::String(info.Env(), arg(info, i, napi_string, "a string")).Utf8Value();
}

napi_value function_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return arg(info, i, napi_function, "a function");
}

void* typed_array_data(napi_env env, napi_value v, napi_typedarray_type want, std::size_t min_length,
                       std::size_t* length) {
  bool is = false;
  check(env, napi_is_typedarray(env, v, &is));
  if (!is) return nullptr;
  napi_typedarray_type type;
  std::size_t n = 0;
  void* data = nullptr;
  check(env, napi_get_typedarray_info(env, v, &type, &n, &data, nullptr, nullptr));
  if (type != want || n < min_length) return nullptr;
  if (length) *length = n;
  // An empty typed array may have no storage: still "the right array".
  static char empty;
  return data ? data : &empty;
}

template <class T>
T* typed_array_arg(const Napi::CallbackInfo& info, std::size_t i, napi_typedarray_type want, std::size_t min_length) {
  void* data = typed_array_data(info.Env(), info[i], want, min_length);
  if (!data) bad_arg(info.Env(), i, "a typed array of the right type and length");
  return static_cast<T*>(data);
}

template double* typed_array_arg<double>(const Napi::CallbackInfo&, std::size_t, napi_typedarray_type, std::size_t);
template std::uint32_t* typed_array_arg<std::uint32_t>(const Napi::CallbackInfo&, std::size_t, napi_typedarray_type,
                                                       std::size_t);
template std::uint8_t* typed_array_arg<std::uint8_t>(const Napi::CallbackInfo&, std::size_t, napi_typedarray_type,
                                                     std::size_t);
template std::int32_t* typed_array_arg<std::int32_t>(const Napi::CallbackInfo&, std::size_t, napi_typedarray_type,
                                                     std::size_t);

ByteView bytes_of(napi_env env, napi_value view) {
  bool is = false;
  check(env, napi_is_typedarray(env, view, &is));
  if (is) {
    napi_typedarray_type type;
    std::size_t length = 0;
    void* data = nullptr;
    check(env, napi_get_typedarray_info(env, view, &type, &length, &data, nullptr, nullptr));
    std::size_t unit = 1;
    switch (type) {
      case napi_int16_array:
      case napi_uint16_array: unit = 2; break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array: unit = 4; break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array: unit = 8; break;
      default: break;
    }
    return ByteView{static_cast<const unsigned char*>(data), length * unit};
  }
  check(env, napi_is_dataview(env, view, &is));
  if (!is) throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: a serialized payload must be a Buffer");
  std::size_t length = 0;
  void* data = nullptr;
  check(env, napi_get_dataview_info(env, view, &length, &data, nullptr, nullptr));
  return ByteView{static_cast<const unsigned char*>(data), length};
}

}  // namespace tasklets_addon
