// A JavaScript task as the native runtime stores it: plain data inline in the
// task object, never called (executors take it through AttachedWorker and run
// the function on their own isolate).
//
// Life of the payload (protocol.md):
//   submit (main thread)   id, fn, arg kind, arg bytes; slot = -1, result none
//   run (executor thread)  arg bytes freed; result kind and result bytes (or
//                          an inline scalar), slot, duration written; finish()
//   settle (any thread)    the completion callback links the task into its
//                          pool's completion list through `next`
//   drain (main thread)    result (or, for a task that never ran, the arg
//                          bytes) converted and freed; the task released
// Exactly one thread owns the payload at each step, handed over by the
// runtime's claim/publish and by the completion list's release/acquire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "codec.h"
#include "protocol.h"
#include "tasklets/attached_worker.hpp"

namespace tasklets_addon {

struct TransferList;

// JsCall::inline_tag when the arguments or the result live in `data.bytes`.
inline constexpr std::uint8_t kNotInline = 0xff;
// JsCall::inline_tag when the arguments (primitives, at most kInlineArgBytes
// of them) live in the payload itself, over `data` and `link`: a task of
// a few small numbers costs no allocation on the main thread and no free on
// the executor. Only packed primitives are stored so, and they never carry
// transfers: while the tag says so, `link` holds argument bytes, not a
// TransferList; free_payload_bytes() gives `link` back (null).
inline constexpr std::uint8_t kArgsInline = 0xfe;
inline constexpr std::size_t kInlineArgBytes = 16;

struct JsCall {
  double id;                         // the JS task id
  union {
    unsigned char* bytes;            // malloc'ed; arguments, then the result
    double number;                   // an inline scalar result (inline_tag)
  } data;
  // Until the task is run or settled: the ArrayBuffers transferred with it
  // (transfer.h), or null. After: the completion list link.
  union {
    TransferList* transfers;
    tasklets::detail::TaskBase* next;
  } link;
  double duration_ms;                // run time, 0 if it never ran
  std::uint32_t length;              // of data.bytes
  std::uint32_t fn;                  // function id (registerFunction)
  std::int16_t slot;                 // executor slot that ran it, -1 if none
  ArgKind arg_kind;
  ResultKind result_kind;            // kNone until it ran
  std::uint8_t inline_tag;           // codec tag of an inline scalar, or kNotInline

  // Attached workers never call a task; Pool::post needs a callable type.
  void operator()() const noexcept {}
};

static_assert(std::is_trivially_destructible_v<JsCall>);
static_assert(std::is_standard_layout_v<JsCall>);
static_assert(offsetof(JsCall, link) == offsetof(JsCall, data) + sizeof(JsCall::data) &&
                  sizeof(JsCall::data) + sizeof(JsCall::link) == kInlineArgBytes,
              "inline arguments span data and link");
static_assert(sizeof(JsCall) <= 48, "a JsCall must fit inline in the task object");
static_assert(tasklets::detail::fits_inline<JsCall>);

void free_transfers(TransferList* list) noexcept;  // transfer.cc

// Frees whatever bytes the payload still owns (arguments or result).
inline void free_payload_bytes(JsCall& c) noexcept {
  if (c.inline_tag == kNotInline && c.data.bytes) codec::free_bytes(c.data.bytes);
  if (c.inline_tag == kArgsInline) c.link.transfers = nullptr;
  c.data.bytes = nullptr;
  c.inline_tag = kNotInline;
  c.length = 0;
}

// Where the arguments of a task not run yet are.
inline bool args_inline(const JsCall& c) noexcept { return c.inline_tag == kArgsInline; }
inline const unsigned char* arg_bytes(const JsCall& c) noexcept {
  return args_inline(c) ? reinterpret_cast<const unsigned char*>(&c.data) : c.data.bytes;
}
// What the arguments weigh against memory.limit: the bytes allocated for them.
inline std::uint32_t charged_bytes(const JsCall& c) noexcept { return args_inline(c) ? 0 : c.length; }

// Frees the buffers of a task that will never run; its inline arguments,
// if any, stay.
inline void free_unrun_transfers(JsCall& c) noexcept {
  if (args_inline(c)) return;
  free_transfers(c.link.transfers);
  c.link.transfers = nullptr;
}

inline JsCall& js_call(tasklets::detail::TaskBase& t) noexcept { return tasklets::detail::payload<JsCall>(t); }

}  // namespace tasklets_addon
