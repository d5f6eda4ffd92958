// Zero-copy transfer of ArrayBuffers from the submitting thread to the
// executor that runs the task (run(fn, { args, transfer })).
//
// N-API has no way to move an ArrayBuffer's memory between isolates, so this
// uses V8's own API (transfer.cc, the addon's one file that calls V8, which
// also implements isolate.h), the way Node's
// MessagePort moves transferables: the sender's buffer gives up its backing
// store (GetBackingStore + Detach, so the sender sees a detached, zero-length
// buffer, as after postMessage), the store travels with the task as a
// shared_ptr, and the executor makes a new ArrayBuffer over the same memory
// in its own isolate. No byte is copied.
#pragma once

#include <node_api.h>

#include <cstddef>

namespace tasklets_addon {

struct TransferList;  // owned by the task's payload until the task is run or settled

// What take_transfers learns of each listed value before it detaches any.
struct BufferFacts {
  bool array_buffer;
  bool detachable;
  bool detached;
};

// Why a listed value cannot be transferred (the end of take_transfers'
// message), or null when it can. Kept apart from V8 so that tests/fuzz/ runs
// the very rule take_transfers applies.
inline const char* transfer_refusal(const BufferFacts& f) noexcept {
  if (!f.array_buffer) return "is not an ArrayBuffer";
  if (!f.detachable || f.detached) return "cannot be transferred (detached or not detachable)";
  return nullptr;
}

// `buffers`: an Array of ArrayBuffers (validated by js/). Detaches each one.
// Throws a JS TypeError (ERR_INVALID_ARG_TYPE) for anything else or for a
// buffer that cannot be detached (e.g. one backing a WebAssembly memory).
TransferList* take_transfers(napi_env env, napi_value buffers);

// An Array of new ArrayBuffers over the transferred memory, in the calling
// (executor) isolate's heap; consumes `list`.
napi_value give_transfers(napi_env env, TransferList* list);

void free_transfers(TransferList* list) noexcept;

}  // namespace tasklets_addon
