'use strict';
// Trace files: pool.startTrace() / stopTrace() record every task of a pool
// in the Chrome Trace Event format (docs/observability.md, "Trace files").
//
// Built on the tracing channel tasklets:task (js/tracing.js): `start` marks
// a task's submission, `asyncEnd` its settlement with the executor that ran
// it and its outcome. When the task ran, the executor's record
// (js/trace-file-executor.js) gives when it started and returned and which
// function it was. Per task, at settlement:
//
//   'b'/'e' queued   async slice from submission to the start of its run
//                    (to its settlement if it never ran), id = the task
//   'X' run slice    on its executor's track: name = its function, args =
//                    task id, priority, status (and error code)
//   'b'/'e' promise  async slice from its start until the promise it
//                    returned settled (the 'X' slice is its synchronous part)
//   'i' instants     'cancelled', 'timed out'; and, as executors come and
//                    go, 'executor started', 'executor stopped' (with its
//                    exit code and error) and 'executor replaced'
//
// The tasks are kept as numbers (js/trace-file-store.js) and become events
// when the recording stops. Every timestamp is on one clock
// (js/trace-file-clock.js), in µs. A task
// the runtime interrupted (a timeout, a forced cancel) never returns: its
// end is its start plus the run time the runtime measured, cut at the start
// of the next task of its executor. A task whose record was overwritten
// before its settlement was read (its executor ran RECORDS_PER_EXECUTOR
// tasks further meanwhile) is placed from its settlement and measured run
// time, after the slices before it on its track, and marked
// args.estimated; metadata.estimatedTasks counts them.

const { channel: taskChannel } = require('./tracing');
const { monotonicMs, monotonicFromEpoch } = require('./trace-file-clock');
const { createRing, sendRing, TraceReader } = require('./trace-file-executor');
const { FunctionNames } = require('./trace-file-names');
const { TaskStore, STATUS_CODE, us } = require('./trace-file-store');
const { executorTid, trackNames, writeTrace } = require('./trace-file-document');

const RECORDS_PER_EXECUTOR = 1 << 16;   // 2.6 MB per executor while recording, 0.75 MB more for its index

function statusOf(err) {
  if (err === undefined) return STATUS_CODE.succeeded;
  const code = err !== null && typeof err === 'object' ? err.code : undefined;
  switch (code) {
    case 'ABORT_ERR': return STATUS_CODE.cancelled;
    case 'ERR_TASK_TIMEOUT': return STATUS_CODE.timed_out;
    case 'ERR_DEPENDENCY_FAILED': return STATUS_CODE.dependency_failed;
    case 'ERR_POOL_SHUTDOWN': return STATUS_CODE.shut_down;
    case 'ERR_WORKER_CRASHED': case 'ERR_WORKER_OUT_OF_MEMORY': return STATUS_CODE.crashed;
    default: return STATUS_CODE.failed;
  }
}

function errorCode(err) {
  if (err === null || typeof err !== 'object') return 'unknown';
  return typeof err.code === 'string' && err.code !== '' ? err.code : String(err.name || 'Error');
}

class TraceRecorder {
  // port: { poolId, label, executors (js/executors.js), describe(fnId) }
  constructor(port, options) {
    this.port = port;
    this.poolId = port.poolId;
    this.options = options;
    this.pid = process.pid;
    this.functions = new FunctionNames(port.describe);
    this.nameIndex = new Map();   // fnId -> index in names
    this.names = [];
    this.store = new TaskStore(options.capacity);
    this.instants = [];           // executors starting and stopping (kept whatever the capacity)
    this.readers = [];
    this.slots = new Set();
    this.last = new Map();        // slot -> { seq, trimmable } of its latest run slice
    this.crashed = new Set();     // slots whose executor stopped abnormally
    this.open = 0;                // tasks submitted and not settled yet
    this.recorded = 0;
    this.estimated = 0;
    this.startedAt = 0;
    this.startEpoch = 0;
    this.subscribers = {
      start: (ctx) => {
        if (ctx.poolId === this.poolId) this.open++;
      },
      asyncEnd: (ctx) => this.settled(ctx),
    };
  }

  start() {
    this.startedAt = Date.now();
    this.startEpoch = performance.timeOrigin + performance.now();
    this.startedMono = monotonicMs();
    taskChannel.subscribe(this.subscribers);
    const { executors } = this.port;
    for (const record of executors.records) this.attach(record);
    executors.watcher = this;
  }

  // The document; written to options.path too when one was given.
  stop() {
    taskChannel.unsubscribe(this.subscribers);
    const { executors } = this.port;
    executors.watcher = null;
    for (const record of executors.records) sendRing(record.trace, null);
    const doc = this.document();
    if (this.options.path !== null) writeTrace(this.options.path, doc);
    return doc;
  }

  attach(record) {
    const ring = createRing(RECORDS_PER_EXECUTOR);
    sendRing(record.trace, ring);
    const reader = new TraceReader(ring, record.slot);
    reader.record = record;
    reader.exitedAt = Infinity;
    this.readers.push(reader);
    this.slots.add(record.slot);
  }

  // Executors (js/executors.js watcher).
  started(record) {
    this.attach(record);
    // Replaced: its slot's last executor stopped abnormally, or has not
    // exited yet (the runtime asks for a replacement as soon as it knows).
    let replaced = this.crashed.delete(record.slot);
    for (const other of this.port.executors.records) if (other !== record && other.slot === record.slot) replaced = true;
    this.instant(replaced ? 'executor replaced' : 'executor started', record.slot, { executor: record.slot });
  }

  exited(record, code, err) {
    for (const reader of this.readers) if (reader.record === record) reader.exitedAt = monotonicMs();
    const args = { executor: record.slot, exitCode: code };
    if (err !== null && err !== undefined) args.error = String(err.message || err);
    if (code !== 0 || args.error !== undefined) this.crashed.add(record.slot);
    this.instant('executor stopped', record.slot, args);
  }

  instant(name, slot, args) {
    this.instants.push({ ph: 'i', s: 't', name, cat: 'tasklets', pid: this.pid, tid: executorTid(this.poolId, slot), ts: us(monotonicMs()), args });
  }

  // The executor record of task `id` (the reader's object), undefined if none.
  locate(id, slot) {
    for (const reader of this.readers) {
      if (slot >= 0 && reader.slot !== slot) continue;
      reader.drain();
      const found = reader.take(id);
      if (found !== undefined) return found;
    }
    return slot >= 0 ? this.locate(id, -1) : undefined;
  }

  settled(ctx) {
    if (ctx.poolId !== this.poolId || ctx.submittedAt < this.startEpoch) return;
    this.open--;
    this.recorded++;
    const settle = monotonicFromEpoch(ctx.settledAt);
    const t = this.store.next;
    t.id = ctx.taskId;
    t.submit = monotonicFromEpoch(ctx.submittedAt);
    t.priority = ctx.priority;
    t.status = statusOf(ctx.error);
    t.errorCode = t.status === STATUS_CODE.succeeded ? null : errorCode(ctx.error);
    t.promiseEnd = NaN;
    t.estimated = false;
    t.name = -1;
    const found = this.locate(t.id, ctx.executor);
    const slot = found !== undefined ? found.reader.slot : ctx.executor;
    t.slot = slot;
    if (slot < 0) {
      t.start = NaN;
      t.end = settle;
      this.store.add();
      return;
    }
    // The runtime reports no executor for a task whose executor died under it.
    const runTimeMs = ctx.executor >= 0 ? Math.max(0, ctx.runTimeMs) : Infinity;
    let trimmable = false;
    if (found !== undefined) {
      t.start = found.start;
      t.name = this.nameOf(found.fnId);
      if (Number.isNaN(found.end)) {
        // It never returned: the runtime interrupted it, or its executor died.
        t.end = Math.max(t.start, Math.min(t.start + runTimeMs, settle, found.next, found.reader.exitedAt));
        trimmable = true;
      } else {
        t.end = found.end;
      }
      if (found.async) t.promiseEnd = Math.min(t.start + runTimeMs, settle);
    } else {
      this.estimated++;
      const before = this.last.get(slot);
      const after = before === undefined ? t.submit : Math.max(t.submit, this.store.endOf(before.seq) || t.submit);
      t.end = Math.max(after, settle);
      t.start = Math.max(after, settle - runTimeMs);
      t.estimated = true;
      trimmable = true;
    }
    this.trimBefore(slot, t.start);
    const seq = this.store.add();
    if (seq < 0) return;
    const last = this.last.get(slot);
    if (last === undefined) {
      this.last.set(slot, { seq, trimmable });
    } else {
      last.seq = seq;
      last.trimmable = trimmable;
    }
  }

  // A run slice whose end was not measured may reach past the start of the
  // next one on its track: cut it there.
  trimBefore(slot, start) {
    const last = this.last.get(slot);
    if (last === undefined || !last.trimmable) return;
    const end = this.store.endOf(last.seq);
    if (end > start && this.store.startOf(last.seq) <= start) this.store.setEnd(last.seq, start);
  }

  nameOf(fnId) {
    let index = this.nameIndex.get(fnId);
    if (index === undefined) {
      index = this.names.push(this.functions.of(fnId)) - 1;
      this.nameIndex.set(fnId, index);
    }
    return index;
  }

  document() {
    const { poolId, label } = this.port;
    let lost = 0;
    for (const reader of this.readers) lost += reader.lost;
    const traceEvents = trackNames(this.pid, poolId, label, this.slots);
    for (const e of this.instants) traceEvents.push(e);
    for (const e of this.store.toEvents(this.pid, poolId, this.names)) traceEvents.push(e);
    const { store } = this;
    return {
      traceEvents,
      displayTimeUnit: 'ms',
      metadata: {
        source: 'tasklets', pool: label, poolId, pid: this.pid,
        clock: 'process.hrtime (CLOCK_MONOTONIC), microseconds',
        startedAt: this.startedAt, startedAtUs: us(this.startedMono), stoppedAt: Date.now(),
        capacity: store.capacity, droppedEvents: store.droppedEvents, droppedTasks: store.droppedTasks,
        recordedTasks: this.recorded, estimatedTasks: this.estimated, lostExecutorRecords: lost,
        unsettledTasks: Math.max(0, this.open),
      },
    };
  }
}

module.exports = { TraceRecorder, statusOf };
