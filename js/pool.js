'use strict';
// Tasklets: the main-thread owner of one native pool. It validates what the
// caller gives, turns tasks into submissions (functions by id, arguments by
// payload kind), starts the executors the runtime asks for, and settles the
// promises when completions arrive. Policy (how many executors, where they
// run, which task runs next) is the native runtime's.

const os = require('node:os');
const v8 = require('node:v8');
const { EventEmitter } = require('node:events');

const addonLoader = require('./addon');
const codec = require('./codec');
const errors = require('./errors');
const { FunctionRegistry } = require('./functions');
const { PendingTable, Single, Watched, Group } = require('./completions');
const { SubmitQueue } = require('./submit-queue');
const { Executors } = require('./executors');
const { Packer, packBatch } = require('./pack');
const { resolveModuleTask, callerFile, wrapModule } = require('./modules');
const { checkAllowed, moduleTaskSource } = require('./module-allow');
const { batch } = require('./batch');
const { retry } = require('./retry');
const { createLogger } = require('./logging');
const { health } = require('./health');
const { resolveOptions, toNativeOptions, resolveShutdownOptions, nativeChange } = require('./options');
const { isPlainObject, rejectUnknownKeys } = require('./validate');
const { argsOnly, isPlainSpec, readRunOptions, readSpec, readPriority, readSignal, readCancel, PRIORITIES, EMPTY } = require('./task-options');

const MAP_OPTION_KEYS = ['chunkSize', 'priority', 'concurrency', 'onProgress'];
const RUN_ALL_OPTION_KEYS = ['signal'];
const CHUNKS_PER_WORKER = 4;  // default map() chunking: about this many chunks per executor
// runAll/map hand a large group to the addon this many tasks per native call,
// so executors start on the first tasks while the rest are still encoded.
const SUBMIT_CHUNK = 4096;
const MAX_TIMER_MS = 2 ** 31 - 1;
const IDLE_TRIM_MS = 200;   // memory.cleanup 'aggressive': idle this long before memory is released
const kApplyOptions = Symbol('tasklets.applyOptions');
// Completion kinds (addon/protocol.md) as log records name them.
const OUTCOMES = ['', 'succeeded', 'succeeded', 'failed', 'cancelled', 'timed out', 'pending', 'executor stopped', 'dependency failed'];
// addon.cancel(): 1 = it was queued and is cancelled; >= 2 = it runs.
const CANCEL_QUEUED = 1;
const CANCEL_RUNNING = 2;

function cpuCount() {
  return os.availableParallelism();
}

class Tasklets extends EventEmitter {
  #addon;
  #poolId;
  #resolved;
  #registry;
  #queue;
  #packer = new Packer();  // for the batches #submit packs (runAll chunks, single submissions)
  #pending;
  #executors;
  #nextId = 1;
  #closed = false;
  #kept = false;
  #shutdown = null;
  #full = false;                // the backlog reached maxQueue; 'drain' is owed
  #healthSamples = [];          // [{ at, settled, failed, replaced }], for getHealth's rates
  #log;                         // js/logging.js logger (config `logging`)
  #trimTimer = null;
  #terminated = false;          // shutdown's timeout expired and executors were terminated
  #progress = new Map();        // task id -> onProgress
  #finishing = null;            // while #deliverProgress runs: task id -> the slot that ran it
  #finalStats = null;           // the native figures once shut down
  #given;                       // the options as given (merged by configure())
  #slots;                       // most executors resize() can reach

  constructor(options) {
    super();
    const given = resolveOptions(options, cpuCount());
    const { resolved } = given;
    this.#given = given.options;
    this.#resolved = resolved;
    this.#addon = addonLoader.load();
    this.#log = createLogger(resolved.logging);
    this.#pending = new PendingTable((on) => this.#keepAlive(on), (slot) => this.#executors.whyDead(slot));
    this.#pending.defaultTimeout = resolved.timeout.default;
    this.#executors = new Executors(-1, resolved.memory.limit, {
      slotFailed: (slot, err) => this.#slotFailed(slot, err),
      progress: (id, percent, detail, slot) => this.#onProgress(id, percent, detail, slot),
      warn: (text, fields) => this.#log.warn(text, fields),
      debug: (text, fields) => this.#log.debug(text, fields),
    });
    const native = toNativeOptions(resolved, cpuCount());
    this.#slots = native.workerSlots;
    this.#poolId = this.#addon.createPool(
      native, (slot) => this.#executors.start(slot),
      (count, ids, kinds, values, workers, durations) => this.#onCompletions(count, ids, kinds, values, workers, durations));
    this.#executors.poolId = this.#poolId;
    this.#executors.functionCache = resolved.functions.cacheSize;
    this.#log.info('pool started', {
      pool: this.#poolId, workers: resolved.workers, placement: resolved.placement, maxQueue: resolved.maxQueue,
    });
    this.#registry = new FunctionRegistry(
      (source) => this.#addon.registerFunction(this.#poolId, source),
      (ids) => this.#releaseFunctions(ids), resolved.functions.cacheSize, () => this.#queue.flush());
    this.#queue = new SubmitQueue(
      (count, ids, fnIds, argKinds, args, priorities, timeouts, packed, offsets) =>
        this.#addon.submit(this.#poolId, count, ids, fnIds, argKinds, args, priorities, packed, offsets,
                           undefined, timeouts),
      (ids, count, err) => this.#pending.abandon(ids, count, () => err));
  }

  // Changes the running pool's configuration; only the options given change.
  // `workers` resizes it in place (up to its worker slots: its max when
  // created, or one executor per CPU if that is more); queued and running
  // tasks are kept. `placement` and `memory.limit` cannot change on a running
  // pool (a RangeError: create a new pool). Throws, changing nothing, on an
  // invalid option. Returns the resolved configuration.
  configure(options) {
    if (this.#closed) throw errors.poolShutdown('The pool is shut down; its configuration cannot change');
    const next = resolveOptions(options, cpuCount(), this.#given);
    if (!this[kApplyOptions](next.resolved)) {
      throw errors.optionConflict(nativeChange(this.#resolved, next.resolved) === 'replace'
        ? 'The "placement" and "memory.limit" options cannot change on a running pool; create a new pool for them.'
        : `The "workers.max" option (${next.resolved.workers.max}) exceeds what this pool can grow to (${this.#slots} executors); create a new pool for more.`);
    }
    this.#given = next.options;
    return this.options;
  }

  // Applies `resolved` to the running pool if it can (false: it needs a new
  // native pool, nothing changed). JS-only options take effect at once;
  // workers through the runtime's resize (config() of the default pool and
  // configure()).
  [kApplyOptions](resolved) {
    const change = nativeChange(this.#resolved, resolved);
    if (change === 'replace' || resolved.workers.max > this.#slots) return false;
    const logging = resolved.logging;
    const old = this.#resolved.logging;
    let log = null;
    if (logging.level !== old.level || logging.format !== old.format || logging.destination !== old.destination) {
      log = createLogger(logging);  // throws (nothing changed) if its file cannot be opened
    }
    if (change === 'resize') {
      try {
        this.#addon.resize(this.#poolId, toNativeOptions(resolved));
      } catch (err) {
        if (log !== null) log.close();
        throw err;
      }
      this.#log.info('pool resized', { pool: this.#poolId, workers: resolved.workers });
    }
    if (log !== null) {
      this.#log.close();
      this.#log = log;
    }
    this.#resolved = resolved;
    this.#pending.defaultTimeout = resolved.timeout.default;
    this.#registry.resize(resolved.functions.cacheSize);
    this.#executors.setFunctionCache(resolved.functions.cacheSize);
    this.#afterSettling();  // a larger maxQueue may end a full backlog
    return true;
  }

  // A copy of the resolved configuration (every 'auto' decided).
  get options() {
    return structuredClone(this.#resolved);
  }

  // True once the backlog (tasks submitted and not settled) reached
  // `maxQueue`: run() rejects with ERR_QUEUE_FULL until it falls below it
  // again, which the pool announces with a 'drain' event.
  get needsDrain() {
    return this.#full;
  }

  // The id of a task's function: a function (sent as source) or a module
  // task { module, export } (loaded from its file by each executor).
  #fnIdOf(fn, label) {
    if (typeof fn === 'function') return this.#registry.idOf(fn);
    if (isPlainObject(fn) && 'module' in fn) {
      const { path, exportName } = resolveModuleTask(fn, () => callerFile(), label);
      const { allow } = this.#resolved.modules;
      checkAllowed(path, allow);
      return this.#registry.idOfExpression(moduleTaskSource(path, exportName, allow));
    }
    throw errors.argType(label, 'a function or a module task { module, export }', fn);
  }

  run(fn, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let fnId;
    let kind = codec.KIND_PRIMITIVES;
    let args = EMPTY;
    let priority = PRIORITIES.normal;
    let timeout = this.#resolved.timeout.default;
    let o = null;
    try {
      if (options !== undefined) {
        const plain = argsOnly(options);
        if (plain !== undefined) {
          args = plain;
        } else {
          o = readRunOptions(options, this.#resolved.timeout, this.#nextId);
          ({ args, priority, timeout } = o);
        }
      }
      fnId = this.#fnIdOf(fn, 'fn');
      if (o !== null) {
        if (o.signal !== undefined && o.signal.aborted) throw errors.aborted(o.signal.reason);
        if (o.dependsOn !== undefined) {
          const failed = this.#pending.failedDependency(o.dependsOn);
          if (failed !== undefined) throw errors.dependencyFailed(failed, this.#pending.failures.get(failed) || undefined);
        }
      }
      this.#admit(1);
      if (o !== null && o.transfer !== undefined) {
        kind = codec.KIND_SERIALIZED;
        args = codec.serializeTransfer(args, o.transfer, 'options');
      } else if (!codec.allPrimitive(args)) {
        kind = codec.KIND_SERIALIZED;
        args = codec.serializeArgs(args, 'args');
      }
      // Primitive args are packed when queued (js/submit-queue.js), or
      // submitted at once: later changes to the array cannot leak in.
    } catch (err) {
      return Promise.reject(err);
    }
    // The plain path (no per-task record): nothing to watch, and a timeout,
    // if any, is the pool's default (ERR_TASK_TIMEOUT's message reads it
    // from there).
    if (o === null || (o.signal === undefined && o.onProgress === undefined && o.dependsOn === undefined &&
                       o.transfer === undefined && timeout === this.#resolved.timeout.default)) {
      const promise = this.#track(null);
      this.#enqueue(promise.taskId, fnId, kind, args, priority, timeout);
      return promise;
    }
    return this.#runWatched(fnId, kind, args, priority, timeout, o);
  }

  // Queues a tracked task for this turn's batch. Packing its primitive
  // arguments reads the array again: one whose elements are getters may
  // yield something else than what was checked; then the task rejects
  // (it is tracked already) instead of run() throwing.
  #enqueue(id, fnId, kind, args, priority, timeout) {
    try {
      this.#queue.push(id, fnId, kind, args, priority, timeout);
    } catch (err) {
      this.#pending.abandon(Float64Array.of(id), 1, () => err);
    }
  }

  // Fails with ERR_QUEUE_FULL if `n` more tasks would pass maxQueue (checked
  // before anything is submitted; the backlog itself grows in #track).
  #admit(n) {
    const max = this.#resolved.maxQueue;
    if (this.#pending.size + n > max) {
      // 'drain' is owed only if something is pending to settle and bring
      // it (a batch larger than maxQueue into an empty pool never fits).
      if (this.#pending.size > 0) this.#full = true;
      throw errors.queueFull(max, n);
    }
  }

  // After tasks were added to the backlog: has it reached maxQueue?
  #noteBacklog() {
    if (this.#pending.size >= this.#resolved.maxQueue) this.#full = true;
  }

  // A new id and its pending promise (with `taskId`); `watched` is null for
  // a plain Single, or a function that sets up the Watched entry.
  #track(watched) {
    const id = this.#nextId++;
    let entry;
    const promise = new Promise((resolve, reject) => {
      entry = watched === null ? new Single(resolve, reject) : new Watched(resolve, reject);
    });
    promise.taskId = id;
    if (watched !== null) watched(entry, id);
    this.#pending.add(id, entry);
    this.#noteBacklog();
    return promise;
  }

  // A task with a signal, a progress callback, dependencies, a timeout or
  // transferred buffers. Transfers and dependencies are submitted at once
  // (like postMessage, the buffers are detached when run returns; a
  // dependency must reach the runtime before its own dependency settles and
  // is forgotten); the rest goes with the turn's batch.
  #runWatched(fnId, kind, args, priority, timeout, o) {
    const { signal, onProgress, dependsOn, transfer } = o;
    const promise = this.#track((entry, id) => {
      entry.timeout = timeout === Infinity ? undefined : timeout;
      entry.dependsOn = dependsOn === undefined ? null : dependsOn;
      if (onProgress === undefined && signal === undefined) return;
      const onAbort = signal === undefined ? null : () => this.cancel(id, { reason: signal.reason });
      if (onAbort !== null) signal.addEventListener('abort', onAbort, { once: true });
      if (onProgress !== undefined) this.#progress.set(id, onProgress);
      entry.cleanup = () => {
        if (onAbort !== null) signal.removeEventListener('abort', onAbort);
        if (onProgress !== undefined) this.#progress.delete(id);
      };
    });
    const id = promise.taskId;
    if (transfer === undefined && dependsOn === undefined) {
      this.#enqueue(id, fnId, kind, args, priority, timeout);
      return promise;
    }
    this.#queue.flush();  // earlier run() calls go first
    try {
      this.#submit(1, Float64Array.of(id), Uint32Array.of(fnId), Uint8Array.of(kind), [args], Uint8Array.of(priority),
                   transfer === undefined ? undefined : [transfer],
                   timeout === Infinity ? undefined : Float64Array.of(timeout),
                   dependsOn === undefined ? undefined : [dependsOn]);
    } catch (err) {
      this.#pending.abandon(Float64Array.of(id), 1, () => err);
    }
    return promise;
  }

  // Cancels task `taskId` (or the promise run() returned). A task still
  // queued (or waiting for its dependencies) settles at once with an
  // AbortError. A running task's `tasklet.signal` is aborted (cooperative);
  // with `force`, the task is stopped even if it never looks at it (its
  // executor is interrupted, not killed). Returns true if the task was
  // pending, false if it already settled or is unknown.
  cancel(taskId, options) {
    const { id, force, reason } = readCancel(taskId, options);
    if (!this.#pending.has(id)) return false;
    this.#queue.flush();
    const outcome = this.#addon.cancel(this.#poolId, id, force);
    if (outcome === CANCEL_QUEUED) {
      // Settled here and now (its kind-4 completion will find nothing).
      this.#pending.abandon(Float64Array.of(id), 1, () => {
        const err = errors.aborted(reason);
        err.taskId = id;
        return err;
      });
      this.#afterSettling();
      return true;
    }
    if (outcome >= CANCEL_RUNNING) {
      this.#pending.aborts.set(id, reason);
      this.#executors.abort(id, reason, outcome - CANCEL_RUNNING - 1);
      return true;
    }
    return false;  // settled natively: its completion is on its way
  }

  runAll(tasks, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let columns;
    let signal;
    try {
      if (options !== undefined) {
        if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
        rejectUnknownKeys(options, RUN_ALL_OPTION_KEYS, 'options.');
        signal = readSignal('options.signal', options.signal);
        if (signal !== undefined && signal.aborted) throw errors.aborted(signal.reason);
      }
      columns = this.#runAllColumns(tasks);
      this.#admit(columns.count);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#submitGroup(columns, false, signal);
  }

  // Data-parallel map: `items` in chunks of `chunkSize`, one task per chunk.
  // `concurrency` bounds the chunks in flight (default: all submitted at
  // once, as one group); `onProgress({ completed, total, percentage })` is
  // told after each chunk (`completed` and `total` count items).
  map(fn, items, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let columns;
    try {
      columns = this.#mapColumns(fn, items, options);
      this.#admit(Math.min(columns.count, columns.concurrency));
    } catch (err) {
      return Promise.reject(err);
    }
    if (columns.concurrency < columns.count) return this.#mapLimited(columns);
    return this.#submitGroup(columns, true, undefined);
  }

  // map() with at most `concurrency` chunks in flight: each settled chunk
  // submits the next; the first failure rejects the map and submits no more.
  #mapLimited(columns) {
    const { count, concurrency, onProgress, chunkItems, totalItems } = columns;
    const results = new Array(count);
    let next = 0;
    let done = 0;
    let itemsDone = 0;
    let failed = false;
    return new Promise((resolve, reject) => {
      const launch = () => {
        if (failed || next >= count) return;
        const c = next++;
        const promise = this.#track(null);
        // Looked up again: the registry may have evicted it since map() began.
        this.#queue.push(promise.taskId, this.#registry.idOfMap(columns.fn), columns.argKinds[c], columns.args[c], columns.priorities[c], Infinity);
        columns.args[c] = undefined;
        promise.then((value) => {
          if (failed) return;
          results[c] = value;
          done++;
          itemsDone += chunkItems(c);
          if (onProgress !== undefined) reportProgress(onProgress, itemsDone, totalItems, this.#log);
          if (done === count) resolve(results.flat());
          else launch();
        }, (err) => {
          if (failed) return;
          failed = true;
          reject(err);
        });
      };
      for (let k = 0; k < concurrency && k < count; k++) launch();
    });
  }

  // [{ name, task, args, priority, timeout }] -> [{ name, success, result | error }]
  // in order, never rejecting for a task's failure (js/batch.js).
  batch(taskConfigs, options) {
    return batch((fn, o) => this.run(fn, o), taskConfigs, options);
  }

  // Runs `fn` until it succeeds, at most `attempts` times, with exponential
  // backoff between attempts (js/retry.js).
  retry(fn, options) {
    return retry((f, o) => this.run(f, o), fn, options);
  }

  // An object whose methods run the module's exports on this pool:
  // `(await pool.module('./tasks.js')).resize(img)` (js/modules.js).
  module(modulePath, options) {
    return wrapModule((fn, o) => this.run(fn, o), modulePath, options);
  }

  // Native figures (addon stats) plus `pending`: tasks whose promise has not
  // settled yet, as the main thread counts them.
  getStats() {
    const stats = this.#finalStats === null ? this.#addon.stats(this.#poolId) : structuredClone(this.#finalStats);
    stats.pending = this.#pending.size;
    stats.maxQueue = this.#resolved.maxQueue;
    stats.needsDrain = this.#full;
    return stats;
  }

  // A summary for health checks (readiness probes, dashboards): js/health.js.
  getHealth() {
    const p = this.#pending;
    return health(this.getStats(), this.#healthSamples, {
      closed: this.#closed, full: this.#full, settled: p.settledTotal, failed: p.failedTotal,
      recent: p.recent, heapLimit: this.#resolved.memory.limit,
    });
  }

  shutdown(options) {
    let resolved;
    try {
      resolved = resolveShutdownOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#shutdown === null) {
      this.#queue.flush();
      this.#closed = true;
      this.#shutdown = this.#shutDown(resolved.mode, resolved.timeoutMs);
    }
    return this.#shutdown;
  }

  async #shutDown(mode, timeoutMs) {
    // The returned promise keeps the process alive until it resolves: the
    // addon holds the loop until the tasks settled, the executors until
    // they exited.
    this.#executors.refAll();
    // Past the timeout, the runtime cancels what is queued, but a task that
    // is running only stops with its executor: terminate those still there.
    // (setTimeout cannot wait 2^31 ms or more: such a timeout is as good as none.)
    const deadline = timeoutMs >= MAX_TIMER_MS ? null : setTimeout(() => this.#terminateExecutors(), timeoutMs);
    try {
      const report = await this.#addon.shutdown(this.#poolId, mode, timeoutMs);
      // The addon keeps the final figures of the last few pools only.
      this.#finalStats = this.#addon.stats(this.#poolId);
      // The addon settles every task before it resolves; anything left here
      // can never complete, and must not hang its caller.
      this.#pending.abandonAll((id) => {
        const err = errors.poolShutdown('The task was abandoned because the pool shut down');
        err.taskId = id;
        return err;
      });
      await this.#executors.exited();
      // Our timer and the runtime's can expire together: terminated
      // executors then let the native drain end "in time", but it did not.
      const result = {
        timedOut: this.#terminated || Boolean(report && report.timedOut),
        cancelled: Number((report && report.cancelled) || 0),
      };
      this.#log.info('pool shut down', { pool: this.#poolId, mode, ...result });
      return result;
    } finally {
      if (deadline !== null) clearTimeout(deadline);
      this.#log.close();
    }
  }

  #terminateExecutors() {
    this.#terminated = true;
    this.#pending.stopped = (id) => {
      const err = errors.poolShutdown('The task was stopped: it was still running when the shutdown timeout expired');
      err.taskId = id;
      return err;
    };
    this.#executors.terminateAll();
  }

  #keepAlive(on) {
    if (on === this.#kept) return;
    this.#kept = on;
    this.#addon.setKeepAlive(this.#poolId, on);
    if (!on && this.#resolved.memory.cleanup === 'aggressive' && this.#trimTimer === null) {
      this.#trimTimer = setTimeout(() => this.#trimIfIdle(), IDLE_TRIM_MS);
      this.#trimTimer.unref();
    }
  }

  // memory.cleanup 'aggressive': the pool stayed idle for IDLE_TRIM_MS, so
  // native arenas, malloc and the executors' heaps give memory back.
  #trimIfIdle() {
    this.#trimTimer = null;
    if (this.#pending.size !== 0 || this.#shutdown !== null) return;
    this.#addon.trimMemory(true);
    this.#executors.trim();
    this.#log.debug('idle memory released', { pool: this.#poolId });
  }

  #onCompletions(count, ids, kinds, values, workers, durations) {
    if (this.#progress.size !== 0) this.#deliverProgress(count, ids, workers);
    if (this.#log.enabled('debug')) this.#logCompletions(count, ids, kinds, workers, durations);
    this.#pending.onCompletions(count, ids, kinds, values, workers, durations);
    this.#afterSettling();
  }

  // A task's last progress reports reach onProgress before it settles.
  #deliverProgress(count, ids, workers) {
    const finishing = new Map();
    for (let i = 0; i < count; i++) {
      if (workers[i] >= 0 && this.#progress.has(ids[i])) finishing.set(ids[i], workers[i]);
    }
    if (finishing.size === 0) return;
    this.#finishing = finishing;
    try {
      for (const slot of new Set(finishing.values())) this.#executors.drainProgress(slot);
    } finally {
      this.#finishing = null;
    }
  }

  // One line per settled task: trace for successes, debug for the others.
  #logCompletions(count, ids, kinds, workers, durations) {
    const trace = this.#log.enabled('trace');
    for (let i = 0; i < count; i++) {
      const kind = kinds[i];
      const ok = kind === 1 || kind === 2;
      if (ok && !trace) continue;
      const fields = { pool: this.#poolId, taskId: ids[i], worker: workers[i], durationMs: durations[i], outcome: OUTCOMES[kind] || `kind ${kind}` };
      if (ok) this.#log.trace('task settled', fields);
      else this.#log.debug('task settled', fields);
    }
  }

  // The backlog fell below maxQueue after it was reached: 'drain'.
  #afterSettling() {
    if (this.#full && this.#pending.size < this.#resolved.maxQueue) {
      this.#full = false;
      this.emit('drain');
    }
  }

  // A report counts only if the executor it came from runs the task, or ran
  // it and its completion is being delivered: code on one executor cannot
  // report for a task of another (docs/security.md).
  #onProgress(id, percent, detail, slot) {
    const onProgress = this.#progress.get(id);
    if (onProgress === undefined) return;  // settled meanwhile
    const ranBy = this.#finishing !== null && this.#finishing.has(id)
      ? this.#finishing.get(id) : this.#addon.taskSlot(this.#poolId, id);
    if (ranBy !== slot) {
      this.#log.warn('progress report for a task of another executor ignored', { pool: this.#poolId, taskId: id, worker: slot });
      return;
    }
    try {
      onProgress({ taskId: id, percent, detail });
    } catch (err) {
      this.#log.warn('onProgress threw', { pool: this.#poolId, taskId: id, err });
    }
  }

  #releaseFunctions(ids) {
    try {
      this.#addon.releaseFunctions(this.#poolId, ids);
    } catch {
      // The pool is gone, and its functions with it.
    }
  }

  #slotFailed(slot, err) {
    try {
      this.#addon.slotFailed(this.#poolId, slot);
    } catch {
      // The pool is gone: nothing waits for this slot any more.
    }
    if (!this.#closed) this.#log.warn('executor could not start', { pool: this.#poolId, worker: slot, err });
  }

  // Validates every task and encodes it into submission columns. The
  // arguments are not copied: runAll submits them before it returns.
  #runAllColumns(tasks) {
    if (!Array.isArray(tasks)) throw errors.argType('tasks', 'an array', tasks);
    const n = tasks.length;
    const columns = newColumns(n);
    const policy = this.#resolved.timeout;
    let lastFn = null;
    let lastId = 0;
    for (let i = 0; i < n; i++) {
      const spec = tasks[i];
      let fn;
      let args = EMPTY;
      let priority = PRIORITIES.normal;
      let timeout = policy.default;
      if (typeof spec === 'function') {
        fn = spec;
      } else if (isPlainSpec(spec)) {
        fn = spec.task;
        if (spec.args !== undefined) args = spec.args;
      } else {
        ({ fn, args, priority, timeout } = readSpec(spec, i, policy));
      }
      if (fn !== lastFn) {
        lastId = this.#fnIdOf(fn, `tasks[${i}].task`);
        lastFn = fn;
      }
      columns.fnIds[i] = lastId;
      if (codec.allPrimitive(args)) {
        columns.argKinds[i] = codec.KIND_PRIMITIVES;
        columns.args[i] = args;
      } else {
        columns.argKinds[i] = codec.KIND_SERIALIZED;
        columns.args[i] = codec.serializeArgs(args, `tasks[${i}].args`);
      }
      columns.priorities[i] = priority;
      if (timeout !== Infinity) {
        if (columns.timeouts === undefined) columns.timeouts = new Float64Array(n);
        columns.timeouts[i] = timeout;
      }
    }
    return columns;
  }

  #mapColumns(fn, items, options) {
    if (typeof fn !== 'function') throw errors.argType('fn', 'a function', fn);
    if (items === null || typeof items !== 'object' || typeof items[Symbol.iterator] !== 'function') {
      throw errors.argType('items', 'an array or an iterable', items);
    }
    const list = Array.isArray(items) ? items : Array.from(items);
    const { chunkSize, priority, concurrency, onProgress } = this.#readMapOptions(options, list.length);
    const bad = codec.checkCloneable(list, 'items');
    if (bad !== null) throw errors.argNotCloneable(bad.path, bad.reason);
    const fnId = this.#registry.idOfMap(fn);
    const n = Math.ceil(list.length / chunkSize);
    const columns = newColumns(n);
    for (let c = 0; c < n; c++) {
      const start = c * chunkSize;
      let bytes;
      try {
        bytes = v8.serialize([list.slice(start, start + chunkSize), start]);
      } catch (err) {
        throw errors.argNotCloneable(`items[${start}..${start + chunkSize - 1}]`, String(err && err.message));
      }
      columns.fnIds[c] = fnId;
      columns.argKinds[c] = codec.KIND_SERIALIZED;
      columns.args[c] = bytes;
      columns.priorities[c] = priority;
    }
    columns.concurrency = concurrency;
    columns.onProgress = onProgress;
    columns.totalItems = list.length;
    columns.fn = fn;
    columns.chunkItems = (c) => Math.min(chunkSize, list.length - c * chunkSize);
    return columns;
  }

  #readMapOptions(options, length) {
    let chunkSize;
    let concurrency;
    let onProgress;
    let priority = PRIORITIES.normal;
    if (options !== undefined) {
      if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
      rejectUnknownKeys(options, MAP_OPTION_KEYS, 'options.');
      ({ chunkSize, concurrency, onProgress } = options);
      priority = readPriority('options.priority', options.priority);
      if (onProgress !== undefined && typeof onProgress !== 'function') {
        throw errors.optionType('options.onProgress', 'a function', onProgress);
      }
      if (concurrency !== undefined && concurrency !== Infinity &&
          (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1)) {
        throw (typeof concurrency === 'number' ? errors.optionRange : errors.optionType)(
          'options.concurrency', 'a positive integer or Infinity', concurrency);
      }
    }
    if (chunkSize === undefined) {
      chunkSize = Math.max(1, Math.ceil(length / (this.#resolved.workers.max * CHUNKS_PER_WORKER)));
    } else if (typeof chunkSize !== 'number') {
      throw errors.optionType('options.chunkSize', 'a positive integer', chunkSize);
    } else if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw errors.optionRange('options.chunkSize', 'a positive integer', chunkSize);
    }
    return { chunkSize, priority, concurrency: concurrency === undefined ? Infinity : concurrency, onProgress };
  }

  // One native call per batch; primitive arguments travel packed in one buffer.
  #submit(count, ids, fnIds, argKinds, args, priorities, transfers, timeouts, deps) {
    const { packed, offsets } = packBatch(this.#packer, count, argKinds, args);
    this.#addon.submit(this.#poolId, count, ids, fnIds, argKinds, args, priorities, packed, offsets,
                       transfers, timeouts, deps);
  }

  // One submit call for a whole group, one promise for its results. If a
  // task fails (or `signal` aborts), the group rejects and its tasks still
  // queued are cancelled.
  #submitGroup(columns, flatten, signal) {
    const n = columns.count;
    if (n === 0) return Promise.resolve([]);
    this.#queue.flush();  // earlier run() calls go first
    const base = this.#nextId;
    this.#nextId += n;
    for (let i = 0; i < n; i++) columns.ids[i] = base + i;
    let group;
    const promise = new Promise((resolve, reject) => {
      group = new Group(base, n, flatten, resolve, reject, (g) => this.#cancelRest(g));
    });
    group.timeouts = columns.timeouts === undefined ? null : columns.timeouts;
    if (columns.onProgress !== undefined) {
      const { onProgress, chunkItems, totalItems } = columns;
      let itemsDone = 0;
      group.onSuccess = (i) => {
        itemsDone += chunkItems(i);
        reportProgress(onProgress, itemsDone, totalItems, this.#log);
      };
    }
    if (signal !== undefined) {
      const onAbort = () => {
        if (group.done) return;
        const err = errors.aborted(signal.reason);
        group.fail(base, err);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(() => signal.removeEventListener('abort', onAbort), () => signal.removeEventListener('abort', onAbort));
    }
    this.#pending.addGroup(group);
    this.#noteBacklog();
    // With memory.limit a group is refused or accepted whole (one call);
    // otherwise it goes in chunks. A chunk that fails (no memory) fails the
    // group: the rest is never submitted and its queued tasks are cancelled.
    const chunk = this.#resolved.memory.limit === Infinity ? SUBMIT_CHUNK : n;
    let submitted = 0;
    try {
      while (submitted < n) {
        const end = Math.min(n, submitted + chunk);
        this.#submitColumns(columns, submitted, end);
        submitted = end;
      }
    } catch (err) {
      this.#pending.abandon(columns.ids.subarray(submitted), n - submitted, () => err);
    }
    return promise;
  }

  #submitColumns(c, start, end) {
    if (start === 0 && end === c.count) {
      this.#submit(c.count, c.ids, c.fnIds, c.argKinds, c.args, c.priorities, undefined, c.timeouts, undefined);
      return;
    }
    this.#submit(end - start, c.ids.subarray(start, end), c.fnIds.subarray(start, end),
                 c.argKinds.subarray(start, end), c.args.slice(start, end), c.priorities.subarray(start, end),
                 undefined, c.timeouts === undefined ? undefined : c.timeouts.subarray(start, end), undefined);
  }

  // A failed group: its tasks still queued will not be needed.
  #cancelRest(group) {
    if (this.#closed && this.#shutdown !== null) return;
    try {
      this.#addon.cancelRange(this.#poolId, group.base, group.size);
    } catch {
      // The pool is gone: nothing is queued any more.
    }
  }
}

// map()'s onProgress; a throwing callback is logged, the map goes on.
function reportProgress(onProgress, completed, total, log) {
  try {
    onProgress({ completed, total, percentage: total === 0 ? 100 : Math.round((completed / total) * 10000) / 100 });
  } catch (err) {
    log.warn('map onProgress threw', { err });
  }
}

function newColumns(n) {
  return {
    count: n,
    ids: new Float64Array(n),
    fnIds: new Uint32Array(n),
    argKinds: new Uint8Array(n),
    args: new Array(n),
    priorities: new Uint8Array(n),
    timeouts: undefined,
    concurrency: Infinity,
    onProgress: undefined,
  };
}

module.exports = { Tasklets, cpuCount, kApplyOptions };
