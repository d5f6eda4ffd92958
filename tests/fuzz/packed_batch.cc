// A packed batch (js/pack.js, protocol.md "submit", kind 3): the addon
// slices task i's arguments out of one buffer by offsets[i] .. offsets[i+1]
// (wire::packed_slice), keeps up to kInlineArgBytes of them inside the task
// object and the rest in a copy, and the executor decodes that. Input: a
// task count byte, count + 1 little-endian u32 offsets, then the buffer.
#include <algorithm>

#include "wire_model.h"

namespace {

// JsCall's `data` and `link`, which hold small arguments (addon/js_task.h).
constexpr std::size_t kInlineArgBytes = 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = tasklets_addon::wire;
  if (size < 1) return 0;
  const std::uint32_t count = data[0] % 32;
  const std::size_t header = 1 + 4 * (std::size_t{count} + 1);
  if (size < header) return 0;
  std::vector<std::uint32_t> offsets(count + 1);
  std::memcpy(offsets.data(), data + 1, 4 * offsets.size());
  // The buffer gets its own allocation so that ASan sees a read past its end.
  const std::vector<unsigned char> packed(data + header, data + size);
  for (std::uint32_t i = 0; i < count; ++i) {
    wire::Slice slice{};
    const bool ok = wire::packed_slice(packed.data(), packed.size(), offsets.data(), i, slice);
    const bool in_range = offsets[i] <= offsets[i + 1] && offsets[i + 1] <= packed.size();
    if (ok != in_range) fuzz::fail("packed_slice disagrees with the offsets");
    if (!ok) continue;
    if (slice.data != packed.data() + offsets[i] || slice.size != offsets[i + 1] - offsets[i]) {
      fuzz::fail("packed_slice returned the wrong bytes");
    }
    if (slice.size <= kInlineArgBytes) {
      alignas(8) unsigned char inline_args[kInlineArgBytes];
      std::copy_n(slice.data, slice.size, inline_args);
      fuzz::check_args(inline_args, slice.size);
    } else {
      const std::vector<unsigned char> copy(slice.data, slice.data + slice.size);
      fuzz::check_args(copy.data(), copy.size());
    }
  }
  return 0;
}
