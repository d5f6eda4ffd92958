'use strict';
// Tasklets: the main-thread owner of one native pool. It validates what the
// caller gives, turns tasks into submissions (functions by id, arguments by
// payload kind), starts the executors the runtime asks for, and settles the
// promises when completions arrive. Policy (how many executors, where they
// run, which task runs next) is the native runtime's.

const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const { Worker } = require('node:worker_threads');

const addonLoader = require('./addon');
const codec = require('./codec');
const errors = require('./errors');
const { FunctionRegistry } = require('./functions');
const { PendingTable, Single, Group } = require('./completions');
const { SubmitQueue } = require('./submit-queue');
const { packBatch } = require('./pack');
const {
  resolveOptions, toNativeOptions, resolveShutdownOptions, isPlainObject, rejectUnknownKeys, checkOneOf,
} = require('./options');

const EXECUTOR_PATH = path.join(__dirname, 'executor.js');
const PRIORITIES = { high: 0, normal: 1, low: 2 };
const PRIORITY_NAMES = Object.keys(PRIORITIES);
const TASK_OPTION_KEYS = ['args', 'priority', 'transfer'];
const TASK_SPEC_KEYS = ['task', 'args', 'priority'];
const MAP_OPTION_KEYS = ['chunkSize', 'priority'];
const CHUNKS_PER_WORKER = 4;  // default map() chunking: about this many chunks per executor
const EMPTY = Object.freeze([]);

function cpuCount() {
  return os.availableParallelism();
}

// { args, priority } of one task, validated; `label` names it in messages.
function readTask(options, label, keys) {
  if (!isPlainObject(options)) throw errors.argType(label, 'an object', options);
  for (const key in options) if (!keys.includes(key)) throw errors.unknownOption(`${label}.${key}`, keys);
  const { args, priority, transfer } = options;
  if (args !== undefined && !Array.isArray(args)) throw errors.optionType(`${label}.args`, 'an array', args);
  return {
    args: args === undefined ? EMPTY : args,
    transfer,
    priority: priority === undefined ? PRIORITIES.normal : PRIORITIES[checkOneOf(`${label}.priority`, priority, PRIORITY_NAMES)],
  };
}

class Tasklets {
  #addon;
  #poolId;
  #resolved;
  #registry;
  #queue;
  #pending;
  #nextId = 1;
  #closed = false;
  #kept = false;
  #shutdown = null;
  #executors = new Set();

  constructor(options) {
    const { resolved } = resolveOptions(options, cpuCount());
    this.#resolved = resolved;
    this.#addon = addonLoader.load();
    this.#pending = new PendingTable((on) => this.#keepAlive(on));
    this.#poolId = this.#addon.createPool(
      toNativeOptions(resolved), (slot) => this.#startExecutor(slot), this.#pending.onCompletions);
    this.#registry = new FunctionRegistry((source) => this.#addon.registerFunction(this.#poolId, source));
    this.#queue = new SubmitQueue(
      (count, ids, fnIds, argKinds, args, priorities) => this.#submit(count, ids, fnIds, argKinds, args, priorities),
      (ids, count, err) => this.#pending.abandon(ids, count, () => err));
  }

  // A copy of the resolved configuration (every 'auto' decided).
  get options() {
    return structuredClone(this.#resolved);
  }

  run(fn, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let fnId;
    let kind = codec.KIND_PRIMITIVES;
    let args = EMPTY;
    let priority = PRIORITIES.normal;
    let transfer;
    try {
      if (typeof fn !== 'function') throw errors.argType('fn', 'a function', fn);
      if (options !== undefined) ({ args, priority, transfer } = readTask(options, 'options', TASK_OPTION_KEYS));
      fnId = this.#registry.idOf(fn);
      if (transfer !== undefined) return this.#runTransferring(fnId, args, priority, transfer);
      if (!codec.allPrimitive(args)) {
        kind = codec.KIND_SERIALIZED;
        args = codec.serializeArgs(args, 'args');
      } else if (args.length !== 0) {
        args = args.slice();   // submitted in a microtask: later changes must not leak in
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const promise = this.#track();
    this.#queue.push(promise.taskId, fnId, kind, args, priority);
    return promise;
  }

  // A new id and its pending promise (with `taskId`).
  #track() {
    const id = this.#nextId++;
    let entry;
    const promise = new Promise((resolve, reject) => {
      entry = new Single(resolve, reject);
    });
    promise.taskId = id;
    this.#pending.add(id, entry);
    return promise;
  }

  // A task with `transfer` is submitted at once (not in the next microtask):
  // like postMessage, the listed ArrayBuffers are detached when run returns.
  #runTransferring(fnId, args, priority, transfer) {
    const bytes = codec.serializeTransfer(args, transfer, 'options');
    this.#queue.flush();  // earlier run() calls go first
    const promise = this.#track();
    const id = promise.taskId;
    try {
      this.#submit(1, Float64Array.of(id), Uint32Array.of(fnId), Uint8Array.of(codec.KIND_SERIALIZED), [bytes],
                   Uint8Array.of(priority), [transfer]);
    } catch (err) {
      this.#pending.abandon(Float64Array.of(id), 1, () => err);
    }
    return promise;
  }

  runAll(tasks, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let columns;
    try {
      if (options !== undefined) readTask(options, 'options', []);
      columns = this.#runAllColumns(tasks);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#submitGroup(columns, false);
  }

  map(fn, items, options) {
    if (this.#closed) return Promise.reject(errors.poolShutdown('The pool is shut down and accepts no new tasks'));
    let columns;
    try {
      columns = this.#mapColumns(fn, items, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#submitGroup(columns, true);
  }

  // Native figures (addon stats) plus `pending`: tasks whose promise has not
  // settled yet, as the main thread counts them.
  getStats() {
    const stats = this.#addon.stats(this.#poolId);
    stats.pending = this.#pending.size;
    return stats;
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
    for (const e of this.#executors) e.worker.ref();
    // Past the timeout, the runtime cancels what is queued, but a task that
    // is running only stops with its executor: terminate those still there.
    const deadline = timeoutMs === Infinity ? null : setTimeout(() => this.#terminateExecutors(), timeoutMs);
    try {
      const report = await this.#addon.shutdown(this.#poolId, mode, timeoutMs);
      // The addon settles every task before it resolves; anything left here
      // can never complete, and must not hang its caller.
      this.#pending.abandonAll((id) => {
        const err = errors.poolShutdown('The task was abandoned because the pool shut down');
        err.taskId = id;
        return err;
      });
      await Promise.all([...this.#executors].map((e) => e.exited));
      return { timedOut: Boolean(report && report.timedOut), cancelled: Number((report && report.cancelled) || 0) };
    } finally {
      if (deadline !== null) clearTimeout(deadline);
    }
  }

  #terminateExecutors() {
    this.#pending.stopped = (id) => {
      const err = errors.poolShutdown('The task was stopped: it was still running when the shutdown timeout expired');
      err.taskId = id;
      return err;
    };
    for (const e of this.#executors) e.worker.terminate();
  }

  #keepAlive(on) {
    if (on === this.#kept) return;
    this.#kept = on;
    this.#addon.setKeepAlive(this.#poolId, on);
  }

  // Called (on this thread) when the runtime wants a thread for `slot`.
  #startExecutor(slot) {
    let worker;
    try {
      worker = new Worker(EXECUTOR_PATH, {
        workerData: { poolId: this.#poolId, slot, addonPath: addonLoader.addonPath() },
      });
    } catch (err) {
      this.#slotFailed(slot, err);
      return;
    }
    const record = { worker, slot, attached: false, binding: null, exited: null };
    record.exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.#executors.delete(record);
        if (!record.attached) this.#slotFailed(slot, record.error || new Error(`exited with code ${code}`));
        resolve();
      });
    });
    worker.on('message', (message) => {
      if (message && message.type === 'attached') {
        record.attached = true;
        record.binding = message.binding;
      }
    });
    worker.on('error', (err) => {
      record.error = err;
      if (record.attached) process.emitWarning(`tasklets executor ${slot} failed: ${err && err.stack}`, 'TaskletsWarning');
    });
    this.#executors.add(record);
    // An idle pool must not keep the process alive. After the listeners:
    // adding a 'message' listener refs the Worker's port again. A shutting
    // down pool keeps its executors referenced (see #shutDown).
    if (!this.#closed) worker.unref();
  }

  #slotFailed(slot, err) {
    try {
      this.#addon.slotFailed(this.#poolId, slot);
    } catch {
      // The pool is gone: nothing waits for this slot any more.
    }
    if (!this.#closed) process.emitWarning(`tasklets executor ${slot} could not start: ${err && err.message}`, 'TaskletsWarning');
  }

  // Validates every task and encodes it into submission columns. The
  // arguments are not copied: runAll submits them before it returns.
  #runAllColumns(tasks) {
    if (!Array.isArray(tasks)) throw errors.argType('tasks', 'an array', tasks);
    const n = tasks.length;
    const columns = newColumns(n);
    let lastFn = null;
    let lastId = 0;
    for (let i = 0; i < n; i++) {
      const spec = tasks[i];
      let fn = spec;
      let args = EMPTY;
      let priority = PRIORITIES.normal;
      if (typeof spec !== 'function') {
        if (!isPlainObject(spec)) throw errors.argType(`tasks[${i}]`, 'a function or an object { task, args, priority }', spec);
        for (const key in spec) if (!TASK_SPEC_KEYS.includes(key)) throw errors.unknownOption(`tasks[${i}].${key}`, TASK_SPEC_KEYS);
        fn = spec.task;
        if (typeof fn !== 'function') throw errors.argType(`tasks[${i}].task`, 'a function', fn);
        if (spec.args !== undefined) {
          if (!Array.isArray(spec.args)) throw errors.optionType(`tasks[${i}].args`, 'an array', spec.args);
          args = spec.args;
        }
        if (spec.priority !== undefined) priority = PRIORITIES[checkOneOf(`tasks[${i}].priority`, spec.priority, PRIORITY_NAMES)];
      }
      if (fn !== lastFn) {
        lastId = this.#registry.idOf(fn);
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
    }
    return columns;
  }

  #mapColumns(fn, items, options) {
    if (typeof fn !== 'function') throw errors.argType('fn', 'a function', fn);
    if (items === null || typeof items !== 'object' || typeof items[Symbol.iterator] !== 'function') {
      throw errors.argType('items', 'an array or an iterable', items);
    }
    const list = Array.isArray(items) ? items : Array.from(items);
    const { chunkSize, priority } = this.#readMapOptions(options, list.length);
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
    return columns;
  }

  #readMapOptions(options, length) {
    let chunkSize;
    let priority = PRIORITIES.normal;
    if (options !== undefined) {
      if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
      rejectUnknownKeys(options, MAP_OPTION_KEYS, 'options.');
      ({ chunkSize } = options);
      if (options.priority !== undefined) priority = PRIORITIES[checkOneOf('options.priority', options.priority, PRIORITY_NAMES)];
    }
    if (chunkSize === undefined) {
      chunkSize = Math.max(1, Math.ceil(length / (this.#resolved.workers.max * CHUNKS_PER_WORKER)));
    } else if (typeof chunkSize !== 'number') {
      throw errors.optionType('options.chunkSize', 'a positive integer', chunkSize);
    } else if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw errors.optionRange('options.chunkSize', 'a positive integer', chunkSize);
    }
    return { chunkSize, priority };
  }

  // One submit call for a whole group, one promise for its results.
  // One native call per batch; primitive arguments travel packed in one buffer.
  #submit(count, ids, fnIds, argKinds, args, priorities, transfers) {
    const { packed, offsets } = packBatch(count, argKinds, args);
    this.#addon.submit(this.#poolId, count, ids, fnIds, argKinds, args, priorities, packed, offsets, transfers);
  }

  #submitGroup(columns, flatten) {
    const n = columns.count;
    if (n === 0) return Promise.resolve([]);
    this.#queue.flush();  // earlier run() calls go first
    const base = this.#nextId;
    this.#nextId += n;
    for (let i = 0; i < n; i++) columns.ids[i] = base + i;
    let group;
    const promise = new Promise((resolve, reject) => {
      group = new Group(base, n, flatten, resolve, reject);
    });
    this.#pending.addGroup(group);
    try {
      this.#submit(n, columns.ids, columns.fnIds, columns.argKinds, columns.args, columns.priorities);
    } catch (err) {
      this.#pending.abandon(columns.ids, n, () => err);
    }
    return promise;
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
  };
}

module.exports = { Tasklets, cpuCount };
