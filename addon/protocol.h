// The numbers the addon and js/ agree on (protocol.md), defined once on this
// side; js/protocol.js is the other side. module.cc exports them as
// `addon.protocol` (protocol.cc) and tests/js/protocol.test.js checks that
// the two sides match. A number keeps one name from end to end.
#pragma once

#include <cstdint>

namespace tasklets_addon {

// How a task's arguments travel (submit's `argKinds`, invoke's `argKind`).
// js/ has one more, PRIMITIVES (1): arguments it has not packed yet, which
// never reach the addon.
enum class ArgKind : std::uint8_t {
  kSerialized = 2,  // the bytes of v8.serialize(args), copied as they are
  kPacked = 3,      // primitives packed by js/pack.js; invoke gets an Array
};

// What became of a task (see js/protocol.js for where each one is used).
enum class ResultKind : std::uint8_t {
  kNone = 0,  // the addon's own: not run yet, `data` holds the arguments
  kPrimitive = 1,
  kSerialized = 2,
  kError = 3,
  kCancelled = 4,
  kTimedOut = 5,
  kPending = 6,
  kRuntimeError = 7,  // the value is a message string
  kDependencyFailed = 8,
};

// The tags of the primitive encoding (protocol.md, "Values on the wire"):
// codec.cc reads and writes them, js/pack.js writes them. Unscoped: a tag
// is stored as a byte (JsCall::inline_tag) beside sentinels of its own.
enum Tag : std::uint8_t {
  kUndefined = 0,
  kNull = 1,
  kFalse = 2,
  kTrue = 3,
  kFloat64 = 4,
  kString = 5,
  kBigInt = 6,
  kInt32 = 7,
};

// What runBatch returns.
enum class RunBatch : std::uint8_t {
  kAgain = 0,   // budget spent: call again after the event loop turned
  kParked = 1,  // nothing to run: wait for wake()
  kStop = 2,    // the slot must stop: detach once no task is pending
};

// What cancel returns; a running task on executor `slot` gives
// kRunning + 1 + slot (kRunning alone: the slot is not known).
enum class CancelResult : std::uint8_t {
  kNotPending = 0,
  kCancelled = 1,
  kRunning = 2,
};

}  // namespace tasklets_addon
