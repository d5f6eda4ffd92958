// The primitive codec of protocol.md ("Values on the wire"): a tagged byte
// encoding of undefined, null, booleans, numbers, strings (UTF-16 code units,
// so lone surrogates round-trip) and BigInts. Arguments arrive as an array
// of values packed by js/pack.js (decoded here); a result is one value,
// encoded here: one encoder per direction. Bytes come from the calling
// thread's jemalloc arena (tasklets::thread_local_bytes) and cross threads
// inside a JsCall.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "protocol.h"
#include "wire.h"

namespace tasklets_addon::codec {

// The tags (Tag) are protocol.h's.

// Bytes owned by whoever holds them; release with free_bytes().
struct Bytes {
  unsigned char* data = nullptr;
  std::uint32_t size = 0;
};
void free_bytes(unsigned char* data) noexcept;
// Throws std::bad_alloc.
Bytes copy_bytes(const void* data, std::size_t size);

// A result; throws Napi::TypeError (code ERR_INVALID_ARG_TYPE) for a
// non-primitive. (Arguments are encoded by js/pack.js.)
Bytes encode_value(napi_env env, napi_value value);

// Scalars (undefined, null, booleans, numbers) travel without bytes: true
// when `value` is one, with its tag and number.
bool encode_scalar(napi_env env, napi_value value, std::uint8_t& tag, double& number);
napi_value decode_scalar(napi_env env, std::uint8_t tag, double number);

// Throw Napi::Error on malformed bytes (an addon bug, never user input);
// the byte-level reading is wire.h's.
napi_value decode_array(napi_env env, const unsigned char* data, std::size_t size);
napi_value decode_value(napi_env env, const unsigned char* data, std::size_t size);

}  // namespace tasklets_addon::codec
