// The transfer list of a task (protocol.md, "submit", transfers): carries
// no bytes, only values that take_transfers (addon/transfer.cc) inspects
// through V8 before it detaches any. What runs without V8 is its rule,
// transfer_refusal: each input byte describes one listed value (bit 0: an
// ArrayBuffer, bit 1: detachable, bit 2: already detached); a value may move
// exactly when it is a detachable ArrayBuffer not detached yet, and a
// refusal names the reason. This target is small because the rule is: the
// list has no byte encoding of its own to get wrong.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "transfer.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tasklets_addon::BufferFacts;
  for (std::size_t i = 0; i < size; ++i) {
    const BufferFacts facts{(data[i] & 1) != 0, (data[i] & 2) != 0, (data[i] & 4) != 0};
    const char* why = tasklets_addon::transfer_refusal(facts);
    const bool movable = facts.array_buffer && facts.detachable && !facts.detached;
    if ((why == nullptr) != movable) fail("transfer_refusal lets through a value that cannot move, or refuses one that can");
    if (why == nullptr) continue;
    const char* expected = facts.array_buffer ? "cannot be transferred (detached or not detachable)" : "is not an ArrayBuffer";
    if (std::strcmp(why, expected) != 0) fail("transfer_refusal gives the wrong reason");
    // take_transfers throws here: nothing after the first refused value is looked at.
    return 0;
  }
  return 0;
}
