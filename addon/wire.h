// The byte level of the primitive codec (protocol.md, "Values on the wire"):
// reading a payload and slicing a packed batch, with no N-API in sight, so
// that tests/fuzz/ can run every byte sequence through exactly the code the
// addon runs. codec.cc hands what it reads to N-API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "protocol.h"

namespace tasklets_addon::wire {

// The tags are protocol.h's (one definition on this side).
using ::tasklets_addon::Tag;

// Bytes that do not follow the encoding. Only the addon and js/pack.js write
// payloads, so this is a bug on one side, never a user's mistake.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size) noexcept : p_(data), end_(data + size) {}
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool done() const noexcept { return p_ == end_; }
  const unsigned char* take(std::size_t n) {
    if (remaining() < n) throw Malformed("tasklets: truncated primitive payload");
    const unsigned char* p = p_;
    p_ += n;
    return p;
  }
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  void expect_end() const {
    if (!done()) throw Malformed("tasklets: trailing bytes in a primitive payload");
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
};

// Reads one value and has `sink` make it. A sink has undefined(), null(),
// boolean(bool), float64(double), int32(int32_t), string(units, count) and
// bigint(sign, count, words), each returning the value it made; `units`
// (UTF-16LE) and `words` (u64 LE) point into the payload, unaligned, and
// the payload holds all of them (sizes are checked before the sink is called).
template <class Sink>
auto read_value(Reader& r, Sink& sink) -> decltype(sink.undefined()) {
  const auto tag = r.get<std::uint8_t>();
  switch (tag) {
    case kUndefined: return sink.undefined();
    case kNull: return sink.null();
    case kFalse:
    case kTrue: return sink.boolean(tag == kTrue);
    case kFloat64: return sink.float64(r.get<double>());
    case kInt32: return sink.int32(r.get<std::int32_t>());
    case kString: {
      const auto count = r.get<std::uint32_t>();
      const unsigned char* units = r.take(std::size_t{count} * sizeof(char16_t));
      return sink.string(units, count);
    }
    case kBigInt: {
      const auto sign = r.get<std::uint8_t>();
      const auto count = r.get<std::uint32_t>();
      const unsigned char* words = r.take(std::size_t{count} * sizeof(std::uint64_t));
      return sink.bigint(sign, count, words);
    }
    default: throw Malformed("tasklets: unknown tag in a primitive payload");
  }
}

// Reads an argument list (u32 count, then the values) that fills the whole
// payload. The sink also has array(count), making an array of that length,
// and set(array, index, value).
template <class Sink>
auto read_array(const unsigned char* data, std::size_t size, Sink& sink) -> decltype(sink.array(0u)) {
  Reader r(data, size);
  const auto count = r.get<std::uint32_t>();
  auto array = sink.array(count);
  for (std::uint32_t i = 0; i < count; ++i) sink.set(array, i, read_value(r, sink));
  r.expect_end();
  return array;
}

// Reads a result: one value that fills the whole payload.
template <class Sink>
auto read_one(const unsigned char* data, std::size_t size, Sink& sink) -> decltype(sink.undefined()) {
  Reader r(data, size);
  auto value = read_value(r, sink);
  r.expect_end();
  return value;
}

// A scalar result travels as a tag and a double, without bytes
// (codec::encode_scalar); these are the tags it may carry.
inline bool is_scalar_tag(std::uint8_t tag) noexcept { return tag <= kFloat64; }

struct Slice {
  const unsigned char* data;
  std::size_t size;
};

// Task i's arguments in a packed batch (js/pack.js): bytes[offsets[i] ..
// offsets[i + 1]), `offsets` holding at least i + 2 entries. False when the
// offsets run backwards or past the buffer.
inline bool packed_slice(const unsigned char* bytes, std::size_t size, const std::uint32_t* offsets, std::uint32_t i,
                         Slice& out) noexcept {
  const std::uint32_t begin = offsets[i], end = offsets[i + 1];
  if (begin > end || end > size) return false;
  out = Slice{bytes + begin, end - begin};
  return true;
}

}  // namespace tasklets_addon::wire
