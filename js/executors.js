'use strict';
// The main thread's view of a pool's executors: the worker_threads Workers
// it starts when the native runtime asks for a slot to be served
// (addon/protocol.md, startExecutor), and the channels into them that are
// not the runtime's queues:
//
// - abort requests for running tasks (cooperative cancellation): written into
//   the ring of the executor running the task (a SharedArrayBuffer per
//   executor), which it reads synchronously whenever a task looks at
//   `tasklet.signal` (a task in a synchronous loop never lets its event loop
//   turn), and posted as a message for tasks that wait on the signal
//   asynchronously;
// - progress reports (`tasklet.progress`) from tasks, routed to a callback,
//   on a MessageChannel of their own per executor: an executor sends a
//   task's last report before it finishes the task, so when the completion
//   arrives the report is already in that port's queue, and drainProgress()
//   delivers it first (receiveMessageOnPort) — a report never arrives after
//   its task settled;
// - why an executor died, so a task it took down rejects with the right code
//   (ERR_WORKER_OUT_OF_MEMORY or ERR_WORKER_CRASHED).
//
// Abort ring (AbortRing in js/protocol.js): count = number of requests ever
// written; ids[k % AbortRing.SLOTS] = the task id of request k. Only this
// thread writes. A request goes to the ring of the executor the
// runtime says runs the task (to every ring when it cannot say), so a task
// polling synchronously misses its request only if AbortRing.SLOTS requests for
// other tasks of the same executor pass before it polls; each request is
// also posted as a message.

const path = require('node:path');
const { Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads');

const addonLoader = require('./addon');
const { AbortRing } = require('./protocol');
const { createFiguresBuffer, readFigures } = require('./metrics/executor-figures');
const { createTraceControl } = require('./trace-file-executor');

const EXECUTOR_PATH = path.join(__dirname, 'executor.js');
const EXIT_GRACE_MS = 2000;

class Executors {
  // hooks: { slotFailed(slot, err), progress(id, percent, detail, slot), warn(text, fields), debug(text, fields) }
  constructor(poolId, memoryLimit, hooks) {
    this.poolId = poolId;
    this.label = String(poolId);   // the pool's metrics label, in executor names
    this.hooks = hooks;
    // A trace recording (js/trace-file.js), told of executors that start and
    // stop while it records: { started(record), exited(record, code, err) }.
    this.watcher = null;
    this.records = new Set();
    this.bySlot = new Map();       // slot -> the record now serving it
    this.lastDeath = new Map();    // slot -> { code, message } of its last executor that died
    this.closed = false;
    this.functionCache = Infinity;  // compiled functions each executor keeps (functions.cacheSize)
    this.resourceLimits = Number.isFinite(memoryLimit)
      ? { maxOldGenerationSizeMb: Math.max(8, Math.floor(memoryLimit / (1024 * 1024)) - 8), maxYoungGenerationSizeMb: 8 }
      : undefined;
    this.onMessage = this.onMessage.bind(this);
  }

  get size() {
    return this.records.size;
  }

  // Called (on this thread) when the runtime wants a thread for `slot`.
  start(slot) {
    let worker;
    const { port1: progress, port2: progressPort } = new MessageChannel();
    const abortSab = new SharedArrayBuffer(AbortRing.BYTES);
    const figuresSab = createFiguresBuffer();
    const trace = createTraceControl();
    try {
      worker = new Worker(EXECUTOR_PATH, {
        workerData: {
          poolId: this.poolId, slot, addonPath: addonLoader.addonPath(), abortSab, progressPort, figuresSab,
          functionCache: this.functionCache, ...trace.workerData,
        },
        transferList: [progressPort, trace.transfer],
        resourceLimits: this.resourceLimits,
        // What DevTools, inspector targets and profiles call the thread.
        name: executorName(slot, this.label),
      });
    } catch (err) {
      progress.close();
      trace.port.close();
      this.hooks.slotFailed(slot, err);
      return;
    }
    const record = {
      worker, slot, attached: false, binding: null, exited: null, error: null, death: null, progress,
      abortCount: new Int32Array(abortSab, AbortRing.COUNTS, 2), abortIds: new Float64Array(abortSab, AbortRing.IDS, AbortRing.SLOTS),
      invoking: new Float64Array(abortSab, AbortRing.INVOKING, 2), figures: new Float64Array(figuresSab), trace,
    };
    progress.on('message', (message) => this.onProgress(message, slot));
    progress.unref();
    record.exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.drainRecord(record);
        progress.close();
        trace.port.close();
        if (this.watcher !== null) this.watcher.exited(record, code, record.error);
        this.records.delete(record);
        if (this.bySlot.get(slot) === record) this.bySlot.delete(slot);
        if (!record.attached) {
          this.hooks.slotFailed(slot, record.error || new Error(`exited with code ${code}`));
        } else if (record.error !== null || code !== 0) {
          record.death = deathOf(record.error, code);
          this.lastDeath.set(slot, record.death);
          const fields = { pool: this.poolId, worker: slot, exitCode: code };
          if (record.error !== null) fields.err = record.error;
          this.hooks.warn('executor stopped', fields);
        } else {
          this.hooks.debug('executor exited', { pool: this.poolId, worker: slot });
        }
        resolve();
      });
    });
    worker.on('message', (message) => this.onMessage(record, message));
    worker.on('error', (err) => {
      record.error = err;
      record.death = deathOf(err, 1);
      this.lastDeath.set(slot, record.death);
    });
    this.records.add(record);
    this.bySlot.set(slot, record);
    if (this.watcher !== null) this.watcher.started(record);
    // An idle pool must not keep the process alive. After the listeners:
    // adding a 'message' listener refs the Worker's port again. A shutting
    // down pool keeps its executors referenced (see refAll).
    if (!this.closed) worker.unref();
  }

  // `slot`: the executor whose port it came from; the pool delivers a
  // report only if that executor runs (or just ran) the task it names.
  onProgress(message, slot) {
    if (message === null || typeof message !== 'object' || typeof message.id !== 'number') return;
    this.hooks.progress(message.id, message.percent, message.detail, slot);
  }

  // Delivers the progress reports the executor of `slot` sent so far.
  drainProgress(slot) {
    const record = this.bySlot.get(slot);
    if (record !== undefined) this.drainRecord(record);
  }

  drainRecord(record) {
    for (let m = receiveMessageOnPort(record.progress); m !== undefined; m = receiveMessageOnPort(record.progress)) {
      this.onProgress(m.message, record.slot);
    }
  }

  onMessage(record, message) {
    if (message === null || typeof message !== 'object') return;
    // Once: a task on that thread could post a second 'attached' of its own.
    if (message.type === 'attached' && !record.attached) {
      record.attached = true;
      record.binding = message.binding;
      this.hooks.debug('executor attached', { pool: this.poolId, worker: record.slot, ...message.binding });
    }
  }

  // Asks the executor of `slot` (every executor if slot < 0) to abort the
  // signal of task `id`.
  abort(id, reason, slot) {
    const target = slot >= 0 ? this.bySlot.get(slot) : undefined;
    for (const record of target !== undefined ? [target] : this.records) {
      // The task it is invoking right now (a synchronous task, the only one
      // that cannot read messages) gets a cell of its own: no ring to
      // overflow. Written before the generation is bumped.
      if (record.invoking[0] === id) {
        record.invoking[1] = id;
        Atomics.add(record.abortCount, 1, 1);
      }
      const k = Atomics.load(record.abortCount, 0);
      record.abortIds[k % AbortRing.SLOTS] = id;
      Atomics.store(record.abortCount, 0, k + 1);
      try {
        record.worker.postMessage({ type: 'abort', id, reason });
      } catch {
        // A reason that cannot be cloned: the executor aborts with a generic one.
        record.worker.postMessage({ type: 'abort', id });
      }
    }
  }

  // Resolves with why the executor serving `slot` died ({ code, message }),
  // once it exited (a task it took down can settle before its Worker's
  // 'exit' event arrives), or after EXIT_GRACE_MS with ERR_WORKER_CRASHED.
  whyDead(slot) {
    let oldest;
    for (const record of this.records) {
      if (record.slot === slot) {
        oldest = record;
        break;
      }
    }
    // The oldest executor of the slot still known is the one whose tasks
    // are settling: its own cause, not that of a replacement that died since.
    const verdict = () => (oldest !== undefined && oldest.death) || this.lastDeath.get(slot)
      || { code: 'ERR_WORKER_CRASHED', message: 'the executor stopped' };
    if (oldest === undefined) return Promise.resolve(verdict());
    let timer;
    const grace = new Promise((resolve) => {
      timer = setTimeout(resolve, EXIT_GRACE_MS);
    });
    return Promise.race([oldest.exited, grace]).then(() => {
      clearTimeout(timer);
      return verdict();
    });
  }

  // slot -> what its executor published (js/metrics/executor-figures.js).
  figures() {
    const now = performance.timeOrigin + performance.now();
    const out = new Map();
    for (const [slot, record] of this.bySlot) if (record.attached) out.set(slot, readFigures(record.figures, now));
    return out;
  }

  // Each executor releases what memory it can (memory.cleanup).
  trim() {
    for (const record of this.records) record.worker.postMessage({ type: 'trim' });
  }

  setFunctionCache(size) {
    if (size === this.functionCache) return;
    this.functionCache = size;
    for (const record of this.records) record.worker.postMessage({ type: 'functionCache', size });
  }

  refAll() {
    this.closed = true;
    for (const record of this.records) record.worker.ref();
  }

  terminateAll() {
    for (const record of this.records) record.worker.terminate();
  }

  exited() {
    return Promise.all([...this.records].map((r) => r.exited));
  }
}

// What DevTools, trace files and profiles call the executor of `slot`.
function executorName(slot, label) {
  return `tasklets executor ${slot} (pool ${label})`;
}

function isOutOfMemory(err) {
  return Boolean(err && err.code === 'ERR_WORKER_OUT_OF_MEMORY');
}

function deathOf(err, code) {
  if (isOutOfMemory(err)) return { code: 'ERR_WORKER_OUT_OF_MEMORY', message: String(err.message) };
  if (err) return { code: 'ERR_WORKER_CRASHED', message: String(err && err.message) };
  return { code: 'ERR_WORKER_CRASHED', message: `the executor exited with code ${code}` };
}

module.exports = { Executors, executorName };
