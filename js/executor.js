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
//
// The `tasklet` global (id, signal, progress) is backed by a TaskContext per
// task. Only functions whose source mentions `tasklet` get one (and run
// inside an AsyncLocalStorage so the context survives their awaits); the
// others cost nothing extra. A context lives in `active` until its task
// settles. Abort requests for running tasks arrive two ways (js/executors.js):
// a message (for tasks waiting asynchronously) and a shared ring read
// synchronously whenever a task reads `tasklet.signal` (for tasks in a
// synchronous loop, whose event loop never turns).

const { workerData, parentPort, MessagePort } = require('node:worker_threads');
const { AsyncLocalStorage } = require('node:async_hooks');
const { load } = require('./addon');
const codec = require('./codec');
const taskErrors = require('./task-errors');
const { compile, CompiledCache } = require('./functions');
const { loadExport, loadedExport } = require('./module-loader');
const { ArgKind, ResultKind, RunBatch, AbortRing, MODULE_MARKER } = require('./protocol');

taskErrors.recordLongStacks();
const { FigureWriter } = require('./metrics/executor-figures');
const { checkAllowedNow, parseModuleTaskSource } = require('./module-allow');
const { TraceWriter } = require('./trace-file-executor');

const MAX_TASKS_PER_BATCH = 256;  // tasks per runBatch call before the loop turns
const BATCH_BUDGET_US = 2000;     // time per runBatch call before the loop turns
const PROGRESS_INTERVAL_MS = 50;  // at most one progress message per task per interval
const CONTEXT_USE = /\btasklet\b/;

const { poolId, slot, addonPath, abortSab, progressPort, figuresSab, functionCache } = workerData;
const figures = new FigureWriter(figuresSab);
// Task code runs on this thread: it must not find the progress port (to
// report for another task), the abort ring (to abort another task's
// signal) or the figures buffer (to forge this executor's figures) where
// the executor got them, nor redirect the executor's postMessage by
// patching MessagePort.prototype later.
delete workerData.progressPort;
delete workerData.abortSab;
delete workerData.figuresSab;
const postProgress = Function.prototype.call.bind(MessagePort.prototype.postMessage, progressPort);
const addon = load(addonPath);
const outcome = new Int32Array(2);   // read by runBatch after each invoke
const asyncOutcome = new Int32Array(1);
const compiled = new CompiledCache(functionCache);  // fnId -> { fn, file, exportName, withContext }
const pendingIds = new Set();         // tasks whose promise has not settled
const active = new Map();             // task id -> TaskContext
const abortCount = new Int32Array(abortSab, AbortRing.COUNTS, 2);
const invoking = new Float64Array(abortSab, AbortRing.INVOKING, 2);  // [id being invoked, id to abort]
const abortIds = new Float64Array(abortSab, AbortRing.IDS, AbortRing.SLOTS);
let abortsSeen = Atomics.load(abortCount, 0);
let runningAbortsSeen = Atomics.load(abortCount, 1);
let store = null;                     // AsyncLocalStorage, made for the first task that needs it
let current = null;                   // context of the task invoke() is running

let parked = false;
let stopping = false;
let detached = false;

function compiledFor(fnId) {
  let entry = compiled.get(fnId);
  if (entry === undefined) {
    const source = addon.functionSource(poolId, fnId);
    const moduleTask = parseModuleTaskSource(source);
    if (moduleTask !== null) {
      // A module task: loaded on first use; its code may use `tasklet`.
      // The allowlist again, on the file's real path now.
      const { file, exportName, allow } = moduleTask;
      checkAllowedNow(file, allow);
      entry = { fn: null, file, exportName, withContext: true };
    } else {
      entry = { fn: compile(source), file: null, exportName: null, withContext: CONTEXT_USE.test(source) };
    }
    compiled.set(fnId, entry);
  }
  return entry;
}

function abortError(message) {
  return new DOMException(message, 'AbortError');
}

class TaskContext {
  constructor(id) {
    this.id = id;
    this.controller = null;
    this.lastSent = -Infinity;
    this.queued = null;   // { percent, detail } not sent yet (throttled)
    this.timer = null;
  }

  // The task's signal was aborted: however it ends, it ends cancelled.
  get aborted() {
    return this.controller !== null && this.controller.signal.aborted;
  }

  get signal() {
    pollAborts();
    if (this.controller === null) this.controller = new AbortController();
    return this.controller.signal;
  }

  // Abort listeners run inside the task's context: they may use `tasklet`.
  abort(reason) {
    if (this.controller === null) this.controller = new AbortController();
    if (this.controller.signal.aborted) return;
    const why = reason === undefined ? abortError('The task was cancelled') : reason;
    const previous = current;
    current = this;
    try {
      if (store !== null) store.run(this, () => this.controller.abort(why));
      else this.controller.abort(why);
    } finally {
      current = previous;
    }
  }

  progress(percent, detail) {
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      const err = new RangeError(`tasklet.progress(percent): percent must be a number from 0 to 100. Received ${String(percent)}`);
      err.code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
    const now = performance.now();
    if (now - this.lastSent >= PROGRESS_INTERVAL_MS) {
      // An older throttled report must not follow this newer one.
      this.queued = null;
      if (this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.send(percent, detail, now);
    } else {
      this.queued = { percent, detail };
      if (this.timer === null) {
        this.timer = setTimeout(() => this.flush(), PROGRESS_INTERVAL_MS - (now - this.lastSent));
        this.timer.unref();
      }
    }
  }

  send(percent, detail, now) {
    this.lastSent = now;
    postProgress({ id: this.id, percent, detail });
  }

  flush() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const q = this.queued;
    this.queued = null;
    if (q !== null) {
      try {
        this.send(q.percent, q.detail, performance.now());
      } catch {
        // A detail that cannot be cloned: progress() already threw for it.
      }
    }
  }

  // The task settled: last progress out, context gone.
  close() {
    this.flush();
    active.delete(this.id);
  }
}

function currentContext() {
  const ctx = (store !== null && store.getStore()) || current;
  if (ctx === undefined || ctx === null) {
    throw new Error('`tasklet` is only available inside a tasklets task while it runs');
  }
  return ctx;
}

Object.defineProperty(globalThis, 'tasklet', {
  value: Object.freeze({
    get id() { return currentContext().id; },
    get signal() { return currentContext().signal; },
    progress(percent, detail) { currentContext().progress(percent, detail); },
  }),
  enumerable: false,
});

// Aborts the contexts named by abort requests not seen yet.
function pollAborts() {
  const g = Atomics.load(abortCount, 1);
  if (g !== runningAbortsSeen) {
    runningAbortsSeen = g;
    const ctx = active.get(invoking[1]);
    if (ctx !== undefined) ctx.abort();
  }
  const n = Atomics.load(abortCount, 0);
  if (n === abortsSeen) return;
  for (let k = Math.max(abortsSeen, n - AbortRing.SLOTS); k < n; k++) {
    const ctx = active.get(abortIds[k % AbortRing.SLOTS]);
    if (ctx !== undefined) ctx.abort();
  }
  abortsSeen = n;
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}

function invoke(fnId, argKind, args, id, transferred) {
  // A context still set here belongs to a task the addon interrupted
  // mid-call (its invoke never returned): it is over. Its context stays in
  // `active` until the addon's wake(ids, whys) names it, so the listeners
  // it registered before the interrupt still hear why it stopped.
  if (current !== null) {
    current = null;
    invoking[0] = 0;
    // Its AsyncLocalStorage.run never unwound either: leave its context.
    if (store !== null) store.enterWith(undefined);
  }
  let ctx = null;
  figures.taskStarted(id);
  try {
    const entry = compiledFor(fnId);
    const { withContext } = entry;
    let fn = entry.fn;
    if (entry.file !== null) {
      fn = loadedExport(entry.file, entry.exportName);
      // Not loaded in this executor yet (ESM loads asynchronously): the
      // task waits for it, then runs.
      if (fn === undefined) {
        fn = (...list) => loadExport(entry.file, entry.exportName).then((loaded) => loaded(...list));
      }
    }
    let list = args;
    if (transferred !== undefined) list = codec.deserializeTransferred(args, transferred);
    else if (argKind === ArgKind.SERIALIZED) list = codec.deserialize(args);
    let result;
    if (withContext) {
      ctx = new TaskContext(id);
      active.set(id, ctx);
      current = ctx;
      if (store === null) store = new AsyncLocalStorage();
      invoking[0] = id;
      result = store.run(ctx, fn, ...list);
      invoking[0] = 0;
    } else {
      result = fn(...list);
    }
    current = null;
    if (isThenable(result)) {
      outcome[0] = ResultKind.PENDING;
      pendingIds.add(id);
      Promise.resolve(result).then((value) => finishAsync(id, value, false), (err) => finishAsync(id, err, true));
      return undefined;
    }
    if (ctx !== null) {
      ctx.close();
      if (ctx.aborted) {
        outcome[0] = ResultKind.CANCELLED;
        return undefined;
      }
    }
    return codec.encodeResult(result, outcome, taskErrors.encode);
  } catch (err) {
    current = null;
    invoking[0] = 0;
    if (ctx !== null) {
      ctx.close();
      if (ctx.aborted) {
        outcome[0] = ResultKind.CANCELLED;
        return undefined;
      }
    }
    outcome[0] = ResultKind.ERROR;
    return taskErrors.encode(err);
  }
}

function finishAsync(id, value, failed) {
  const ctx = active.get(id);
  if (ctx !== undefined) ctx.close();
  // Settled natively already (interrupted: timed out or force-cancelled).
  if (!pendingIds.delete(id)) return;
  let kind = ResultKind.ERROR;
  let payload;
  try {
    if (ctx !== undefined && ctx.aborted) {
      kind = ResultKind.CANCELLED;
    } else if (failed) {
      payload = taskErrors.encode(value);
    } else {
      payload = codec.encodeResult(value, asyncOutcome, taskErrors.encode);
      kind = asyncOutcome[0];
    }
  } catch (err) {
    kind = ResultKind.ERROR;
    payload = taskErrors.encode(err);
  }
  addon.finishAsync(id, kind, payload);
  if (stopping && pendingIds.size === 0) leave();
}

function loop() {
  parked = false;
  let status;
  const started = figures.batchStarted();
  try {
    status = addon.runBatch(trace.run, MAX_TASKS_PER_BATCH, BATCH_BUDGET_US);
    figures.batchEnded(started, status !== 0);
  } catch (err) {
    // Not a task's error (invoke catches those): the addon broke its contract.
    // Let the Worker die with it so the main thread sees an 'error' event.
    process.off('uncaughtException', onStrayException);
    throw err;
  }
  if (status === RunBatch.AGAIN) {
    setImmediate(loop);
  } else if (status === RunBatch.PARKED) {
    parked = true;
  } else {
    stopping = true;
    if (pendingIds.size === 0) leave();
  }
}

// Called by the addon on this thread's event loop when a parked executor has
// work (a wake that finds the loop already running is a no-op), and with
// `ids` / `whys` when the addon settled pending tasks of this executor itself
// (their timeout passed, or they were cancelled with force): their signals
// abort and their promises, when they settle, are ignored.
function wake(ids, whys) {
  if (ids !== undefined) {
    for (let i = 0; i < ids.length; i++) {
      pendingIds.delete(ids[i]);
      const ctx = active.get(ids[i]);
      if (ctx !== undefined) {
        ctx.abort(whys[i] === ResultKind.TIMED_OUT
          ? new DOMException('The task timed out', 'TimeoutError') : abortError('The task was cancelled'));
        ctx.close();
      }
    }
    if (stopping && pendingIds.size === 0) leave();
  }
  if (parked && !stopping) loop();
}

// Messages from the main thread (js/executors.js): abort a running task's
// signal; release memory (memory.cleanup 'aggressive'); a new
// functions.cacheSize.
function onMessage(message) {
  if (message === null || typeof message !== 'object') return;
  if (message.type === 'abort') {
    const ctx = active.get(message.id);
    if (ctx !== undefined) ctx.abort(message.reason);
  } else if (message.type === 'trim') {
    addon.trimMemory();
  } else if (message.type === 'functionCache') {
    compiled.resize(message.size);
  }
}

// The slot is given back once no task of this executor is pending. What a
// task left behind (an interval, a server, a pending timer, a Worker of its
// own) would keep this thread's event loop alive and the pool's shutdown
// (or a scale-down) waiting on it forever: nothing of ours is left to run,
// so the thread ends here. In a Worker, process.exit() ends the thread,
// not the process; messages already posted (progress) are delivered.
function leave() {
  if (detached) return;
  detached = true;
  addon.detach();
  process.exit(0);
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

// A trace recording (js/trace-file-executor.js) wraps invoke while it runs.
const trace = new TraceWriter(workerData, invoke, outcome);
const binding = addon.attach(poolId, slot, wake, outcome);
process.on('unhandledRejection', reportStray('Unhandled promise rejection'));
process.on('uncaughtException', onStrayException);
parentPort.on('message', onMessage);
parentPort.unref();  // messages must not keep an executor alive
progressPort.unref();
parentPort.postMessage({ type: 'attached', binding });
loop();
