// The argument lists an executor decodes (codec::decode_array, wire.h):
// any bytes are either refused with wire::Malformed or read exactly.
#include "wire_model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::check_args(data, size);
  return 0;
}
