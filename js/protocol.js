'use strict';
// The numbers js/ and the addon agree on (addon/protocol.md), defined once
// on this side; addon/protocol.h is the other side, and
// tests/js/protocol.test.js checks that the two match (the addon exports its
// numbers as `addon.protocol`). A number keeps one name from end to end.

// How a task's arguments travel (submit's `argKinds`, invoke's `argKind`).
const ArgKind = Object.freeze({
  // js/ only: an Array of primitives not packed yet (js/pack.js packs it
  // before submit; the addon refuses this kind).
  PRIMITIVES: 1,
  // The bytes of v8.serialize(args): a Buffer at submit and at invoke.
  SERIALIZED: 2,
  // Primitives packed by js/pack.js into the batch's packed buffer; invoke
  // gets them back as an Array.
  PACKED: 3,
});

// What became of a task: the kind invoke writes into outcome[0], the kind
// finishAsync reports, the kind of each onCompletions entry, and why a
// pending task was settled by an interrupt (wake's `whys`). Each place uses
// the subset named in addon/protocol.md.
const ResultKind = Object.freeze({
  // A primitive value: returned as is by invoke, encoded by the addon
  // (addon/codec.cc), delivered decoded.
  PRIMITIVE: 1,
  // The bytes of v8.serialize(result), a Buffer both ways.
  SERIALIZED: 2,
  // The bytes of v8.serialize(errorRecord) (js/task-errors.js), a Buffer.
  ERROR: 3,
  // The task ended after its signal was aborted, or was cancelled unrun.
  CANCELLED: 4,
  // Its deadline passed (onCompletions, wake).
  TIMED_OUT: 5,
  // invoke returned a promise: finishAsync reports its end (outcome only).
  PENDING: 6,
  // The task failed inside the runtime, not in its own code: invoke threw,
  // its executor was terminated mid-task, or it was still pending when its
  // executor stopped. The value is a message string (onCompletions only).
  RUNTIME_ERROR: 7,
  // A task it depended on did not succeed; it never ran (onCompletions only).
  DEPENDENCY_FAILED: 8,
});

// The tags of the primitive encoding (addon/protocol.md, "Values on the
// wire"): js/pack.js writes them, addon/codec.cc reads and writes them.
const Tag = Object.freeze({
  UNDEFINED: 0,
  NULL: 1,
  FALSE: 2,
  TRUE: 3,
  FLOAT64: 4,
  STRING: 5,
  BIGINT: 6,
  INT32: 7,
});

// What runBatch returns.
const RunBatch = Object.freeze({
  AGAIN: 0,   // the budget is spent: call again after the event loop turned
  PARKED: 1,  // nothing to run: wait for wake()
  STOP: 2,    // the slot must stop: detach once no task is pending
});

// What cancel returns: NOT_PENDING, CANCELLED, or RUNNING + 1 + slot when
// the task runs on executor `slot` (RUNNING alone: the slot is not known).
const Cancel = Object.freeze({
  NOT_PENDING: 0,  // settled already: its completion is on its way
  CANCELLED: 1,    // it was queued or waiting and is now cancelled
  RUNNING: 2,
});

// An executor's abort requests (js/executors.js writes, js/executor.js
// reads): a SharedArrayBuffer of BYTES per executor. At COUNTS: Int32 [0]
// requests ever written to the ring, [1] generation of abort-running
// requests. At INVOKING: Float64 [0] id of the task being invoked (0: none),
// [1] id to abort if it is that task. At IDS: Float64 ring of SLOTS ids,
// request k at k % SLOTS.
const AbortRing = Object.freeze({
  SLOTS: 256,
  COUNTS: 0,
  INVOKING: 8,
  IDS: 24,
  BYTES: 24 + 256 * 8,
});

// The registered "source" of a module task (js/pool.js writes it,
// js/executor.js reads it): this prefix, then JSON [path, exportName].
// Never a valid expression.
const MODULE_MARKER = '\u0000module:';

module.exports = { ArgKind, ResultKind, Tag, RunBatch, Cancel, AbortRing, MODULE_MARKER };
