'use strict';
// An executor: a worker_threads Worker that serves one native worker slot
// (addon/protocol.md, "Executor functions"). The native runtime pins this
// thread, feeds it and parks it; this file only drives the loop:
//
//   attach -> loop: runBatch(invoke) -> 0: setImmediate(loop)  (event loop turns:
//                                           promises and I/O of tasks progress)
//                                    -> 1: parked; wake() calls loop again
//                                    -> 2: stop; detach once no task is pending
//
// invoke() runs one task synchronously and must never let an exception
// escape: whatever the task does becomes a result kind in outcome[0].

const { workerData, parentPort } = require('node:worker_threads');
const { load } = require('./addon');
const codec = require('./codec');
const taskErrors = require('./task-errors');
const { compile } = require('./functions');

const MAX_TASKS_PER_BATCH = 256;  // tasks per runBatch call before the loop turns
const BATCH_BUDGET_US = 2000;     // time per runBatch call before the loop turns
const OUTCOME_PENDING = 6;

const { poolId, slot, addonPath } = workerData;
const addon = load(addonPath);
const outcome = new Int32Array(2);   // read by runBatch after each invoke
const asyncOutcome = new Int32Array(1);
const compiled = new Map();           // fnId -> function

let parked = false;
let stopping = false;
let detached = false;
let pendingAsync = 0;

function functionFor(fnId) {
  let fn = compiled.get(fnId);
  if (fn === undefined) {
    fn = compile(addon.functionSource(poolId, fnId));
    compiled.set(fnId, fn);
  }
  return fn;
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}

function invoke(fnId, argKind, args, id, transferred) {
  try {
    const fn = functionFor(fnId);
    let list = args;
    if (transferred !== undefined) list = codec.deserializeTransferred(args, transferred);
    else if (argKind === codec.KIND_SERIALIZED) list = codec.deserialize(args);
    const result = fn(...list);
    if (isThenable(result)) {
      outcome[0] = OUTCOME_PENDING;
      pendingAsync++;
      Promise.resolve(result).then((value) => finishAsync(id, value, false), (err) => finishAsync(id, err, true));
      return undefined;
    }
    return codec.encodeResult(result, outcome, taskErrors.encode);
  } catch (err) {
    outcome[0] = codec.KIND_ERROR;
    return taskErrors.encode(err);
  }
}

function finishAsync(id, value, failed) {
  let kind = codec.KIND_ERROR;
  let payload;
  try {
    if (failed) {
      payload = taskErrors.encode(value);
    } else {
      payload = codec.encodeResult(value, asyncOutcome, taskErrors.encode);
      kind = asyncOutcome[0];
    }
  } catch (err) {
    kind = codec.KIND_ERROR;
    payload = taskErrors.encode(err);
  }
  pendingAsync--;
  addon.finishAsync(id, kind, payload);
  if (stopping && pendingAsync === 0) leave();
}

function loop() {
  parked = false;
  let status;
  try {
    status = addon.runBatch(invoke, MAX_TASKS_PER_BATCH, BATCH_BUDGET_US);
  } catch (err) {
    // Not a task's error (invoke catches those): the addon broke its contract.
    // Let the Worker die with it so the main thread sees an 'error' event.
    process.off('uncaughtException', onStrayException);
    throw err;
  }
  if (status === 0) {
    setImmediate(loop);
  } else if (status === 1) {
    parked = true;
  } else {
    stopping = true;
    if (pendingAsync === 0) leave();
  }
}

// Called by the addon on this thread's event loop when a parked executor has
// work; a wake that finds the loop already running is a no-op.
function wake() {
  if (parked && !stopping) loop();
}

function leave() {
  if (detached) return;
  detached = true;
  addon.detach();
}

// A task's stray failure (a rejection nobody handles, a throwing timer
// callback) must not take the executor, and the other tasks it runs, down
// with it: report it as a warning instead.
function reportStray(kind) {
  return (err) => {
    const text = err && err.stack ? err.stack : String(err);
    process.emitWarning(`${kind} in a tasklets task (executor ${slot}): ${text}`, 'TaskletsWarning');
  };
}
const onStrayException = reportStray('Uncaught exception');

const binding = addon.attach(poolId, slot, wake, outcome);
process.on('unhandledRejection', reportStray('Unhandled promise rejection'));
process.on('uncaughtException', onStrayException);
parentPort.postMessage({ type: 'attached', binding });
loop();
