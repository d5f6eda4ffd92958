// What the fuzz targets of the primitive codec share: a sink for
// wire::read_value that builds plain C++ values (allocating exactly what the
// addon's NapiSink allocates), and an encoder that writes them back in the
// format of protocol.md. Every payload the reader accepts must come back
// byte for byte: that checks that each value was read from the bytes it
// occupies, neither fewer nor more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire.h"

namespace fuzz {

namespace wire = tasklets_addon::wire;

struct Value {
  std::uint8_t tag = tasklets_addon::kUndefined;
  double f64 = 0;
  std::int32_t i32 = 0;
  std::uint8_t sign = 0;
  std::vector<unsigned char> bytes;  // a string's UTF-16LE units, a BigInt's u64 LE words
};

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// Checks that every span the reader hands over lies inside the payload:
// the addon copies from these pointers without looking at the size again.
class ModelSink {
 public:
  ModelSink(const unsigned char* data, std::size_t size) : begin_(data), end_(data + size) {}

  Value undefined() { return tagged(tasklets_addon::kUndefined); }
  Value null() { return tagged(tasklets_addon::kNull); }
  Value boolean(bool b) { return tagged(b ? tasklets_addon::kTrue : tasklets_addon::kFalse); }
  Value float64(double d) {
    Value v = tagged(tasklets_addon::kFloat64);
    v.f64 = d;
    return v;
  }
  Value int32(std::int32_t i) {
    Value v = tagged(tasklets_addon::kInt32);
    v.i32 = i;
    return v;
  }
  Value string(const unsigned char* units, std::uint32_t count) {
    Value v = tagged(tasklets_addon::kString);
    v.bytes = inside(units, std::size_t{count} * 2);
    return v;
  }
  Value bigint(std::uint8_t sign, std::uint32_t count, const unsigned char* words) {
    // NapiSink copies the words into a vector of `count` (at least one)
    // before napi_create_bigint_words: allocate the same.
    std::vector<std::uint64_t> aligned(count ? count : 1);
    Value v = tagged(tasklets_addon::kBigInt);
    v.sign = sign;
    v.bytes = inside(words, std::size_t{count} * 8);
    if (count) std::memcpy(aligned.data(), v.bytes.data(), v.bytes.size());
    return v;
  }
  std::vector<Value> array(std::uint32_t) { return {}; }
  void set(std::vector<Value>& array, std::uint32_t i, Value v) {
    if (i != array.size()) fail("elements set out of order");
    array.push_back(std::move(v));
  }

 private:
  static Value tagged(std::uint8_t tag) {
    Value v;
    v.tag = tag;
    return v;
  }
  std::vector<unsigned char> inside(const unsigned char* p, std::size_t n) const {
    if (p < begin_ || p > end_ || n > static_cast<std::size_t>(end_ - p)) fail("a span outside the payload");
    return std::vector<unsigned char>(p, p + n);
  }
  const unsigned char* begin_;
  const unsigned char* end_;
};

class Encoder {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  void value(const Value& v) {
    put(v.tag);
    switch (v.tag) {
      case tasklets_addon::kFloat64: put(v.f64); break;
      case tasklets_addon::kInt32: put(v.i32); break;
      case tasklets_addon::kString:
        put(static_cast<std::uint32_t>(v.bytes.size() / 2));
        out.insert(out.end(), v.bytes.begin(), v.bytes.end());
        break;
      case tasklets_addon::kBigInt:
        put(v.sign);
        put(static_cast<std::uint32_t>(v.bytes.size() / 8));
        out.insert(out.end(), v.bytes.begin(), v.bytes.end());
        break;
      default: break;
    }
  }
  void list(const std::vector<Value>& values) {
    put(static_cast<std::uint32_t>(values.size()));
    for (const Value& v : values) value(v);
  }
  std::vector<unsigned char> out;
};

inline void expect_same(const std::vector<unsigned char>& again, const unsigned char* data, std::size_t size) {
  if (again.size() != size || (size && std::memcmp(again.data(), data, size) != 0)) {
    fail("an accepted payload does not encode back to the same bytes");
  }
}

// Decodes an argument list; if the reader accepts it, it must re-encode to
// the same bytes. True if accepted.
inline bool check_args(const unsigned char* data, std::size_t size) {
  ModelSink sink(data, size);
  std::vector<Value> values;
  try {
    values = wire::read_array(data, size, sink);
  } catch (const wire::Malformed&) {
    return false;
  }
  Encoder e;
  e.list(values);
  expect_same(e.out, data, size);
  return true;
}

}  // namespace fuzz
