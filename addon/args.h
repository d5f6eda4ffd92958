// Reading the arguments of exported functions. js/ validates every value;
// these only make sure that a wrong one becomes a TypeError instead of a
// crash, never apply defaults.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "pool_registry.h"

namespace tasklets_addon {

// A live pool. Throws ERR_POOL_SHUTDOWN for a retired one and
// ERR_INVALID_ARG_VALUE for an unknown id.
std::shared_ptr<PoolState> pool_arg(const Napi::CallbackInfo& info, std::size_t i);

double number_arg(const Napi::CallbackInfo& info, std::size_t i);
std::uint32_t uint32_arg(const Napi::CallbackInfo& info, std::size_t i);
std::string string_arg(const Napi::CallbackInfo& info, std::size_t i);
napi_value function_arg(const Napi::CallbackInfo& info, std::size_t i);

// The elements of `v` if it is a typed array of type `want` with at least
// `min_length` elements (their count in *length when asked); null otherwise.
void* typed_array_data(napi_env env, napi_value v, napi_typedarray_type want, std::size_t min_length,
                       std::size_t* length = nullptr);

// The elements of a typed array of the given type with at least `min_length`.
template <class T>
T* typed_array_arg(const Napi::CallbackInfo& info, std::size_t i, napi_typedarray_type type, std::size_t min_length);

// The bytes of any ArrayBufferView (a Buffer included).
struct ByteView {
  const unsigned char* data;
  std::size_t size;
};
ByteView bytes_of(napi_env env, napi_value view);

}  // namespace tasklets_addon
