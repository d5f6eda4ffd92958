#include "codec.h"

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "errors.h"
#include "tasklets/arena.hpp"

namespace tasklets_addon::codec {

using namespace wire;  // the tags

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian and copied as is");

namespace {

constexpr std::size_t kInitialCapacity = 64;

// A growable buffer (from the calling thread's arena: an executor's is its
// NUMA node's) whose bytes are handed over by release().
class Writer {
 public:
  Writer() = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { tasklets::free_bytes(data_); }

  unsigned char* grow(std::size_t n) {
    if (size_ + n > capacity_) reserve(size_ + n);
    unsigned char* p = data_ + size_;
    size_ += n;
    return p;
  }
  void put_u8(std::uint8_t v) { *grow(1) = v; }
  template <class T>
  void put(const T& v) {
    std::memcpy(grow(sizeof(T)), &v, sizeof(T));
  }
  void shrink_by(std::size_t n) noexcept { size_ -= n; }
  Bytes release() noexcept {
    Bytes b{data_, static_cast<std::uint32_t>(size_)};
    data_ = nullptr;
    size_ = capacity_ = 0;
    return b;
  }

 private:
  void reserve(std::size_t need) {
    std::size_t cap = capacity_ ? capacity_ : kInitialCapacity;
    while (cap < need) cap *= 2;
    if (cap > UINT32_MAX) throw std::bad_alloc();
    auto* p = static_cast<unsigned char*>(tasklets::resize_bytes(data_, cap));
    if (!p) throw std::bad_alloc();
    data_ = p;
    capacity_ = cap;
  }
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

void encode_one(napi_env env, napi_value v, Writer& w) {
  napi_valuetype type;
  check(env, napi_typeof(env, v, &type));
  switch (type) {
    case napi_undefined: w.put_u8(kUndefined); return;
    case napi_null: w.put_u8(kNull); return;
    case napi_boolean: {
      bool b;
      check(env, napi_get_value_bool(env, v, &b));
      w.put_u8(b ? kTrue : kFalse);
      return;
    }
    case napi_number: {
      double d;
      check(env, napi_get_value_double(env, v, &d));
      const auto i = static_cast<std::int32_t>(d);
      // -0 must stay a float64: int32 has no negative zero.
      if (static_cast<double>(i) == d && !(d == 0 && std::signbit(d))) {
        w.put_u8(kInt32);
        w.put(i);
      } else {
        w.put_u8(kFloat64);
        w.put(d);
      }
      return;
    }
    case napi_string: {
      std::size_t len = 0;
      check(env, napi_get_value_string_utf16(env, v, nullptr, 0, &len));
      if (len > UINT32_MAX) throw std::bad_alloc();
      w.put_u8(kString);
      w.put(static_cast<std::uint32_t>(len));
      // napi writes a terminating NUL unit: reserve it, then drop it.
      auto* units = reinterpret_cast<char16_t*>(w.grow((len + 1) * sizeof(char16_t)));
      std::size_t copied = 0;
      check(env, napi_get_value_string_utf16(env, v, units, len + 1, &copied));
      w.shrink_by(sizeof(char16_t));
      return;
    }
    case napi_bigint: {
      int sign = 0;
      std::size_t count = 0;
      check(env, napi_get_value_bigint_words(env, v, nullptr, &count, nullptr));
      std::vector<std::uint64_t> words(count ? count : 1);  // napi wants a buffer even for 0n
      check(env, napi_get_value_bigint_words(env, v, &sign, &count, words.data()));
      w.put_u8(kBigInt);
      w.put_u8(static_cast<std::uint8_t>(sign ? 1 : 0));
      w.put(static_cast<std::uint32_t>(count));
      for (std::size_t i = 0; i < count; ++i) w.put(words[i]);
      return;
    }
    default:
      throw type_error(env, "ERR_INVALID_ARG_TYPE", "tasklets: only primitives can use the primitive encoding");
  }
}

// Makes the JS values wire::read_value reads.
class NapiSink {
 public:
  explicit NapiSink(napi_env env) noexcept : env_(env) {}
  napi_value undefined() { return made(napi_get_undefined(env_, &out_)); }
  napi_value null() { return made(napi_get_null(env_, &out_)); }
  napi_value boolean(bool b) { return made(napi_get_boolean(env_, b, &out_)); }
  napi_value float64(double d) { return made(napi_create_double(env_, d, &out_)); }
  napi_value int32(std::int32_t i) { return made(napi_create_int32(env_, i, &out_)); }
  napi_value string(const unsigned char* units, std::uint32_t count) {
    if (reinterpret_cast<std::uintptr_t>(units) % alignof(char16_t) == 0) {
      return made(napi_create_string_utf16(env_, reinterpret_cast<const char16_t*>(units), count, &out_));
    }
    std::u16string copy(count, u'\0');
    std::memcpy(copy.data(), units, std::size_t{count} * sizeof(char16_t));
    return made(napi_create_string_utf16(env_, copy.data(), count, &out_));
  }
  napi_value bigint(std::uint8_t sign, std::uint32_t count, const unsigned char* words) {
    std::vector<std::uint64_t> aligned(count ? count : 1);  // napi wants a buffer even for 0n
    std::memcpy(aligned.data(), words, std::size_t{count} * sizeof(std::uint64_t));
    return made(napi_create_bigint_words(env_, sign, count, aligned.data(), &out_));
  }
  napi_value array(std::uint32_t count) { return made(napi_create_array_with_length(env_, count, &out_)); }
  void set(napi_value array, std::uint32_t i, napi_value v) { check(env_, napi_set_element(env_, array, i, v)); }

 private:
  napi_value made(napi_status status) {
    check(env_, status);
    return out_;
  }
  napi_env env_;
  napi_value out_ = nullptr;
};

// Runs a wire reader; a malformed payload becomes a JS Error with the same message.
template <class Read>
napi_value decode(napi_env env, Read read) {
  NapiSink sink(env);
  try {
    return read(sink);
  } catch (const wire::Malformed& e) {
    throw Napi::Error::New(env, e.what());
  }
}

}  // namespace

void free_bytes(unsigned char* data) noexcept { tasklets::free_bytes(data); }

Bytes copy_bytes(const void* data, std::size_t size) {
  if (size > UINT32_MAX) throw std::bad_alloc();
  auto* p = static_cast<unsigned char*>(tasklets::thread_local_bytes(size));
  if (!p) throw std::bad_alloc();
  if (size) std::memcpy(p, data, size);
  return Bytes{p, static_cast<std::uint32_t>(size)};
}

Bytes encode_value(napi_env env, napi_value value) {
  Writer w;
  encode_one(env, value, w);
  return w.release();
}

bool encode_scalar(napi_env env, napi_value value, std::uint8_t& tag, double& number) {
  napi_valuetype type;
  check(env, napi_typeof(env, value, &type));
  number = 0;
  switch (type) {
    case napi_undefined: tag = kUndefined; return true;
    case napi_null: tag = kNull; return true;
    case napi_boolean: {
      bool b;
      check(env, napi_get_value_bool(env, value, &b));
      tag = b ? kTrue : kFalse;
      return true;
    }
    case napi_number:
      check(env, napi_get_value_double(env, value, &number));
      tag = kFloat64;
      return true;
    default: return false;
  }
}

napi_value decode_scalar(napi_env env, std::uint8_t tag, double number) {
  if (!wire::is_scalar_tag(tag)) throw Napi::Error::New(env, "tasklets: unknown inline scalar tag");
  NapiSink sink(env);
  switch (tag) {
    case kUndefined: return sink.undefined();
    case kNull: return sink.null();
    case kFalse:
    case kTrue: return sink.boolean(tag == kTrue);
    default: return sink.float64(number);
  }
}

napi_value decode_array(napi_env env, const unsigned char* data, std::size_t size) {
  return decode(env, [&](NapiSink& sink) { return wire::read_array(data, size, sink); });
}

napi_value decode_value(napi_env env, const unsigned char* data, std::size_t size) {
  return decode(env, [&](NapiSink& sink) { return wire::read_one(data, size, sink); });
}

}  // namespace tasklets_addon::codec
