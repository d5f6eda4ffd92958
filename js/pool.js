'use strict';
// Tasklets: the main-thread owner of one native pool. It validates what the
// caller gives, turns tasks into submissions (functions by id, arguments by
// payload kind), starts the executors the runtime asks for, and settles the
// promises when completions arrive. Policy (how many executors, where they
// run, which task runs next) is the native runtime's.

const os = require('node:os');
const { EventEmitter } = require('node:events');

const addonLoader = require('./addon');
const { ArgKind, ResultKind, Cancel, MODULE_MARKER } = require('./protocol');
const codec = require('./codec');
const errors = require('./errors');
const { FunctionRegistry } = require('./functions');
const { PendingTable, Single, Watched } = require('./completions');
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
const { isPlainObject } = require('./validate');
const groups = require('./groups');
const { argsOnly, positionalArgs, readRunOptions, readCancel, PRIORITIES, EMPTY } = require('./task-options');
const { TaskTracer, poolChannel } = require('./tracing');
const { TraceRecorder } = require('./trace-file');
const { resolveTraceOptions } = require('./trace-file-document');
const { profileExecutors, resolveProfileOptions } = require('./profile');
const { Settlements } = require('./metrics/settlements');
const { Timeline, Sampler } = require('./metrics/timeline');
const { collect } = require('./metrics/collect');
const { format } = require('./metrics/prometheus');
const metricsRegistry = require('./metrics/registry');

const MAX_TIMER_MS = 2 ** 31 - 1;
const IDLE_TRIM_MS = 200;   // memory.cleanup 'aggressive': idle this long before memory is released
const kApplyOptions = Symbol('tasklets.applyOptions');
// Completion kinds (addon/protocol.md) as log records name them.
const OUTCOMES = {
  [ResultKind.PRIMITIVE]: 'succeeded', [ResultKind.SERIALIZED]: 'succeeded', [ResultKind.ERROR]: 'failed',
  [ResultKind.CANCELLED]: 'cancelled', [ResultKind.TIMED_OUT]: 'timed out', [ResultKind.RUNTIME_ERROR]: 'runtime error',
  [ResultKind.DEPENDENCY_FAILED]: 'dependency failed',
};

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
  // [{ at, settled, failed, replaced, byCode }], for getHealth's rates; the
  // pool's start is the first, so that frequent callers (a dashboard) see
  // the failures from before their first call until it is a minute old.
  #healthSamples = [{ at: Date.now(), settled: 0, failed: 0, replaced: 0, byCode: null }];
  #log;                         // js/logging.js logger (config `logging`)
  #trimTimer = null;
  #terminated = false;          // shutdown's timeout expired and executors were terminated
  #progress = new Map();        // task id -> onProgress
  #finishing = null;            // while #deliverProgress runs: task id -> the slot that ran it
  #finalStats = null;           // the native figures once shut down
  #given;                       // the options as given (merged by configure())
  #groupPort;                   // what js/groups.js may do with this pool
  #startedAt = performance.now();  // for getStats().throughput
  #label;                       // the `pool` label of its metrics
  #settlements;                 // js/metrics/settlements.js
  #timeline = null;             // js/metrics/timeline.js, with metrics on
  #sampler = null;
  #unregister;                  // leaves the metrics registry
  #trace = null;                // js/trace-file.js, while a trace records

  constructor(options) {
    super();
    const given = resolveOptions(options, cpuCount());
    const { resolved } = given;
    this.#given = given.options;
    this.#resolved = resolved;
    this.#addon = addonLoader.load();
    this.#log = createLogger(resolved.logging);
    this.#pending = new PendingTable((on) => this.#keepAlive(on), (slot) => this.#executors.whyDead(slot),
                                     (err, taskId) => this.#log.error('a task could not be settled normally', { pool: this.#poolId, taskId, err }));
    this.#pending.defaultTimeout = resolved.timeout.default;
    this.#executors = new Executors(-1, resolved.memory.limit, {
      slotFailed: (slot, err) => this.#slotFailed(slot, err),
      progress: (id, percent, detail, slot) => this.#onProgress(id, percent, detail, slot),
      warn: (text, fields) => this.#log.warn(text, fields),
      debug: (text, fields) => this.#log.debug(text, fields),
    });
    const native = toNativeOptions(resolved, true);
    this.#poolId = this.#addon.createPool(
      native, (slot) => this.#executors.start(slot),
      (count, ids, kinds, values, workers, durations) => this.#onCompletions(count, ids, kinds, values, workers, durations));
    this.#executors.poolId = this.#poolId;
    this.#startMetrics(resolved.metrics);
    this.#executors.functionCache = resolved.functions.cacheSize;
    this.#log.info('pool started', {
      pool: this.#poolId, workers: resolved.workers, placement: resolved.placement, maxQueue: resolved.maxQueue,
    });
    this.#registry = new FunctionRegistry(
      (source) => this.#addon.registerFunction(this.#poolId, source),
      (ids) => this.#releaseFunctions(ids), resolved.functions.cacheSize, () => this.#queue.flush());
    this.#queue = new SubmitQueue((columns) => this.#submit(columns),
                                  (ids, count, err) => this.#pending.abandon(ids, count, () => err),
                                  (id, fnId, priority, timeout, packed) => this.#addon.submitOne(this.#poolId, id, fnId, priority, timeout, packed));
    this.#groupPort = this.#makeGroupPort();
    if (poolChannel.hasSubscribers) poolChannel.publish({ pool: this });
  }

  #makeGroupPort() {
    const pool = this;
    return {
      policy: () => this.#resolved.timeout,
      workersMax: () => this.#resolved.workers.max,
      memoryLimited: () => this.#resolved.memory.limit !== Infinity,
      fnIdOf: (fn, label) => this.#fnIdOf(fn, label),
      idOfMap: (fn) => this.#registry.idOfMap(fn),
      admit: (n) => this.#admit(n),
      flush: () => this.#queue.flush(),
      reserveIds: (n) => {
        const base = this.#nextId;
        this.#nextId += n;
        return base;
      },
      addGroup: (group, priorities) => {
        this.#pending.addGroup(group);
        this.#settlements.submittedRange(group.base, group.size, priorities);
        this.#noteBacklog();
      },
      submit: (columns) => this.#submit(columns),
      abandon: (ids, n, err) => this.#pending.abandon(ids, n, () => err),
      cancelRange: (base, size) => this.#cancelRange(base, size),
      track: (watch, priority) => this.#track(watch, priority),
      push: (id, fnId, kind, args, priority, timeout) => this.#queue.push(id, fnId, kind, args, priority, timeout),
      unlisten: (signal, onAbort, taskId) => this.#unlisten(signal, onAbort, taskId),
      get log() {
        return pool.#log;  // replaced when configure() changes logging
      },
    };
  }

  // Changes the running pool's configuration; only the options given change.
  // `workers` resizes it in place, to any valid size; queued and running
  // tasks are kept. `placement` and `memory.limit` cannot change on a running
  // pool (a RangeError: create a new pool). Throws, changing nothing, on an
  // invalid option. Returns the resolved configuration.
  configure(options) {
    if (this.#closed) throw errors.poolShutdown('The pool is shut down; its configuration cannot change');
    const next = resolveOptions(options, cpuCount(), this.#given);
    if (!this[kApplyOptions](next.resolved)) {
      throw errors.optionConflict('The "placement", "memory.limit" and "metrics" options cannot change on a running pool; create a new pool for them.');
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
    if (change === 'replace') return false;
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

  // run(fn, options) or run(fn, a, b, ...): see positionalArgs.
  run(fn, options) {
    if (arguments.length > 2 || positionalArgs(options)) {
      return this.run(fn, { args: Array.prototype.slice.call(arguments, 1) });
    }
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let fnId;
    let kind = ArgKind.PRIMITIVES;
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
          if (failed !== undefined) throw errors.dependencyFailed(failed, this.#pending.failureOf(failed));
        }
      }
      this.#admit(1);
      if (o !== null && o.transfer !== undefined) {
        kind = ArgKind.SERIALIZED;
        args = codec.serializeTransfer(args, o.transfer, 'options');
      } else if (!codec.allPrimitive(args)) {
        kind = ArgKind.SERIALIZED;
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
      const promise = this.#track(null, priority);
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
  #track(watched, priority = PRIORITIES.normal) {
    const id = this.#nextId++;
    let entry;
    const promise = new Promise((resolve, reject) => {
      entry = watched === null ? new Single(resolve, reject) : new Watched(resolve, reject);
    });
    promise.taskId = id;
    if (watched !== null) watched(entry, id);
    this.#pending.add(id, entry);
    this.#settlements.submitted(id, priority);
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
        if (onAbort !== null) this.#unlisten(signal, onAbort, id);
        if (onProgress !== undefined) this.#progress.delete(id);
      };
    }, priority);
    const id = promise.taskId;
    if (transfer === undefined && dependsOn === undefined) {
      this.#enqueue(id, fnId, kind, args, priority, timeout);
      return promise;
    }
    this.#queue.flush();  // earlier run() calls go first
    try {
      this.#submit({
        count: 1, ids: Float64Array.of(id), fnIds: Uint32Array.of(fnId), argKinds: Uint8Array.of(kind), args: [args],
        priorities: Uint8Array.of(priority),
        timeouts: timeout === Infinity ? undefined : Float64Array.of(timeout),
        transfers: transfer === undefined ? undefined : [transfer],
        dependencies: dependsOn === undefined ? undefined : [dependsOn],
      });
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
    if (outcome === Cancel.CANCELLED) {
      // Settled here and now (its kind-4 completion will find nothing).
      this.#pending.abandon(Float64Array.of(id), 1, () => {
        const err = errors.aborted(reason);
        err.taskId = id;
        return err;
      });
      this.#afterSettling();
      return true;
    }
    if (outcome >= Cancel.RUNNING) {
      this.#pending.abortRequested(id, reason);
      this.#executors.abort(id, reason, outcome - Cancel.RUNNING - 1);
      return true;
    }
    return false;  // settled natively: its completion is on its way
  }

  runAll(tasks, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    return groups.runAll(this.#groupPort, tasks, options);
  }

  // Data-parallel map: `items` in chunks of `chunkSize`, one task per chunk
  // (js/groups.js).
  map(fn, items, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    return groups.map(this.#groupPort, fn, items, options);
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
    if (this.#closed) throw errors.poolShutdown('The pool is shut down and accepts no new tasks');
    return wrapModule((fn, o) => this.run(fn, o), modulePath, options);
  }

  // Native figures (addon stats) plus `pending`: tasks whose promise has not
  // settled yet, as the main thread counts them.
  getStats() {
    const stats = this.#finalStats === null ? this.#addon.stats(this.#poolId) : structuredClone(this.#finalStats);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    stats.throughput = seconds > 0 ? this.#pending.settledTotal / seconds : 0;
    stats.meanTaskTime = stats.runTime.mean;
    stats.pending = this.#pending.size;
    stats.maxQueue = this.#resolved.maxQueue;
    stats.needsDrain = this.#full;
    for (const [slot, figures] of this.#executorFigures()) {
      if (slot < stats.workers.length) Object.assign(stats.workers[slot], figures);
    }
    return stats;
  }

  // slot -> what its executor published, with its utilization over the
  // last timeline interval (null before the second sample, or metrics off).
  #executorFigures() {
    const figures = this.#executors.figures();
    for (const [slot, f] of figures) {
      const u = this.#sampler === null ? undefined : this.#sampler.utilization.get(slot);
      f.utilization = u === undefined ? null : u;
    }
    return figures;
  }

  // The per-second samples of the last minutes (js/metrics/timeline.js);
  // empty columns with metrics off.
  getTimeline() {
    if (this.#timeline === null) return new Timeline(1, this.#resolved.metrics.timelineIntervalMs).read();
    return this.#timeline.read();
  }

  // This pool's metrics in the Prometheus text format (docs/observability.md).
  metrics() {
    return format(collect(this[metricsRegistry.kObserve]()));
  }

  get [metricsRegistry.kLabel]() {
    return this.#label;
  }

  [metricsRegistry.kObserve]() {
    const executors = this.#executorFigures();
    for (const f of executors.values()) if (f.utilization === null) f.utilization = 0;
    return {
      pool: this.#label,
      stats: this.getStats(),
      roundTrip: this.#settlements.roundTrip.snapshot(),
      errors: this.#settlements.errors.snapshot(),
      recentErrors: this.#settlements.recent.list(),
      executors,
    };
  }

  #startMetrics(options) {
    this.#label = options.name === null ? String(this.#poolId) : options.name;
    this.#executors.label = this.#label;
    this.#settlements = new Settlements(options.enabled, new TaskTracer(this.#label, this.#poolId));
    this.#pending.observer = this.#settlements;
    this.#unregister = metricsRegistry.add(this);
    if (!options.enabled) return;
    this.#timeline = new Timeline(options.timelineSamples, options.timelineIntervalMs);
    this.#sampler = new Sampler(this.#timeline, () => {
      const errors = this.#settlements.errors.outcomes;
      return {
        stats: this.getStats(),
        settled: errors.succeeded + errors.failed + errors.cancelled + errors.timed_out,
        failed: errors.failed + errors.timed_out,
        figures: this.#executors.figures(),
      };
    });
    this.#sampler.start();
  }

  // Starts recording every task into a trace file (js/trace-file.js,
  // docs/observability.md "Trace files"); options { capacity, path }.
  startTrace(options) {
    const resolved = resolveTraceOptions(options);
    if (this.#closed) throw errors.poolShutdown('The pool is shut down; there is nothing to trace');
    if (this.#trace !== null) throw errors.invalidState('a trace is already recording on this pool; call stopTrace() first');
    this.#trace = new TraceRecorder({
      poolId: this.#poolId, label: this.#label, executors: this.#executors, describe: (fnId) => this.#registry.describe(fnId),
    }, resolved);
    this.#trace.start();
  }

  // Stops the recording: the trace document (also written to the `path`
  // startTrace was given).
  stopTrace() {
    if (this.#trace === null) throw errors.invalidState('no trace is recording on this pool; call startTrace() first');
    const recording = this.#trace;
    this.#trace = null;
    return recording.stop();
  }

  // startTrace(options), then stopTrace() after options.durationMs.
  async trace(options) {
    if (!isPlainObject(options)) throw errors.optionType('options', 'an object { durationMs, capacity, path }', options);
    const { durationMs, ...rest } = options;
    if (typeof durationMs !== 'number') throw errors.optionType('durationMs', 'a positive integer (milliseconds)', durationMs);
    if (!Number.isInteger(durationMs) || durationMs < 1 || durationMs > MAX_TIMER_MS) {
      throw errors.optionRange('durationMs', `an integer from 1 to ${MAX_TIMER_MS} (milliseconds)`, durationMs);
    }
    this.startTrace(rest);
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    return this.stopTrace();
  }

  // A CPU profile of every executor over options.durationMs (js/profile.js).
  async profile(options) {
    const resolved = resolveProfileOptions(options);
    if (this.#closed) throw errors.poolShutdown('The pool is shut down; there is nothing to profile');
    return profileExecutors(this.#executors, this.#label, resolved);
  }

  // A summary for health checks (readiness probes, dashboards): js/health.js.
  getHealth() {
    const p = this.#pending;
    return health(this.getStats(), this.#healthSamples, {
      closed: this.#closed, full: this.#full, settled: p.settledTotal, failed: p.failedTotal,
      recent: p.recent, heapLimit: this.#resolved.memory.limit,
      byCode: this.#resolved.metrics.enabled ? this.#settlements.errors.snapshot() : null,
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
      try {
        this.emit('shutdown', { mode: resolved.mode, timeout: resolved.timeoutMs });
      } catch (err) {
        this.#log.warn('a shutdown listener threw', { pool: this.#poolId, err });
      }
    }
    return this.#shutdown;
  }

  // Stops now: queued tasks are cancelled, running ones stopped with their
  // executors (shutdown({ mode: 'cancel', timeout: 0 })).
  terminate() {
    return this.shutdown({ mode: 'cancel', timeout: 0 });
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
      if (this.#sampler !== null) this.#sampler.stop();
      this.#unregister();
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
      const ok = kind === ResultKind.PRIMITIVE || kind === ResultKind.SERIALIZED;
      if (ok && !trace) continue;
      const fields = { pool: this.#poolId, taskId: ids[i], worker: workers[i], durationMs: durations[i], outcome: OUTCOMES[kind] || `kind ${kind}` };
      if (ok) this.#log.trace('task settled', fields);
      else this.#log.debug('task settled', fields);
    }
  }

  // The backlog fell below maxQueue after it was reached: 'drain'. Called
  // while completions are delivered: a listener that throws is reported,
  // never thrown into the addon's callback.
  #afterSettling() {
    if (this.#full && this.#pending.size < this.#resolved.maxQueue) {
      this.#full = false;
      try {
        this.emit('drain');
      } catch (err) {
        this.#log.warn('a drain listener threw', { pool: this.#poolId, err });
      }
    }
  }

  // Removes the pool's abort listener from a task's signal when the task
  // settles. The signal is the caller's object: if it throws, the task's
  // outcome stands and the failure is reported.
  #unlisten(signal, onAbort, taskId) {
    try {
      signal.removeEventListener('abort', onAbort);
    } catch (err) {
      this.#log.warn("the signal's removeEventListener threw", { pool: this.#poolId, taskId, err });
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

  // One native call per batch of submission columns (addon/protocol.md,
  // submit): { count, ids, fnIds, argKinds, args, priorities, timeouts?,
  // packed?, offsets?, transfers?, dependencies? }. Primitive arguments
  // travel packed in one buffer: packed here unless the caller (the
  // SubmitQueue) packed them already.
  #submit(c) {
    if (c.packed === undefined) {
      const { packed, offsets } = packBatch(this.#packer, c.count, c.argKinds, c.args);
      c.packed = packed;
      c.offsets = offsets;
    }
    this.#addon.submit(this.#poolId, c);
  }

  // A failed group: its tasks still queued will not be needed.
  #cancelRange(base, size) {
    if (this.#closed && this.#shutdown !== null) return;
    try {
      this.#addon.cancelRange(this.#poolId, base, size);
    } catch {
      // The pool is gone: nothing is queued any more.
    }
  }
}

module.exports = { Tasklets, cpuCount, kApplyOptions };
