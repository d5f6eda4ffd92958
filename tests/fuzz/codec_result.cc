// The results the main thread decodes (completions.cc): a scalar inline in
// the task (a tag and a double) or one value filling a byte payload
// (codec::decode_value). The first input byte picks which.
#include "wire_model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = tasklets_addon::wire;
  if (size == 0) return 0;
  const unsigned char* body = data + 1;
  const std::size_t n = size - 1;
  if (data[0] & 1) {
    // An inline scalar: decode_scalar accepts exactly the tags encode_scalar writes.
    if (n == 0) return 0;
    const bool writable = body[0] == tasklets_addon::kUndefined || body[0] == tasklets_addon::kNull || body[0] == tasklets_addon::kFalse ||
                          body[0] == tasklets_addon::kTrue || body[0] == tasklets_addon::kFloat64;
    if (wire::is_scalar_tag(body[0]) != writable) fuzz::fail("is_scalar_tag disagrees with encode_scalar");
    return 0;
  }
  fuzz::ModelSink sink(body, n);
  fuzz::Value value;
  try {
    value = wire::read_one(body, n, sink);
  } catch (const wire::Malformed&) {
    return 0;
  }
  fuzz::Encoder e;
  e.value(value);
  fuzz::expect_same(e.out, body, n);
  return 0;
}
