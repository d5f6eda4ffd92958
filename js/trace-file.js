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
// Every timestamp is on one clock (js/trace-file-clock.js), in µs. A task
// the runtime interrupted (a timeout, a forced cancel) never returns: its
// end is its start plus the run time the runtime measured, cut at the start
// of the next task of its executor. A task whose record was overwritten
// before its settlement was read (its executor ran RECORDS_PER_EXECUTOR
// tasks further meanwhile) is placed from its settlement and measured run
// time, after the slices before it on its track, and marked
// args.estimated; metadata.estimatedTasks counts them.

const { channel: taskChannel } = require('./tracing');
const { monotonicMs } = require('./trace-file-clock');
const { createRing, sendRing, TraceReader } = require('./trace-file-executor');
const { FunctionNames } = require('./trace-file-names');
const { EventRing, mainTid, executorTid, trackNames, writeTrace } = require('./trace-file-document');

const RECORDS_PER_EXECUTOR = 1 << 16;   // 2.5 MB per executor while recording
const kSubmitted = Symbol('tasklets.traceSubmitted');
const CATEGORY = 'tasklets';

function us(ms) {
  return Math.round(ms * 1e6) / 1e3;
}

function statusOf(err) {
  if (err === undefined) return 'succeeded';
  const code = err !== null && typeof err === 'object' ? err.code : undefined;
  switch (code) {
    case 'ABORT_ERR': return 'cancelled';
    case 'ERR_TASK_TIMEOUT': return 'timed_out';
    case 'ERR_DEPENDENCY_FAILED': return 'dependency_failed';
    case 'ERR_POOL_SHUTDOWN': return 'shut_down';
    case 'ERR_WORKER_CRASHED': case 'ERR_WORKER_OUT_OF_MEMORY': return 'crashed';
    default: return 'failed';
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
    this.options = options;
    this.pid = process.pid;
    this.names = new FunctionNames(port.describe);
    this.ring = new EventRing(options.capacity);
    this.readers = [];
    this.slots = new Set();
    this.lastSlice = new Map();    // slot -> its latest 'X' event
    this.trimmable = new WeakSet(); // 'X' events whose end was not measured
    this.crashed = new Set();      // slots whose executor stopped abnormally
    this.minId = Infinity;         // the first task id recorded
    this.open = 0;                 // tasks submitted and not settled yet
    this.recorded = 0;
    this.estimated = 0;
    this.startedAt = 0;
    this.subscribers = {
      start: (ctx) => this.submitted(ctx),
      asyncEnd: (ctx) => this.settled(ctx),
    };
  }

  start() {
    this.startedAt = Date.now();
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
    this.instant(replaced ? 'executor replaced' : 'executor started', record.slot, monotonicMs(), { executor: record.slot });
  }

  exited(record, code, err) {
    for (const reader of this.readers) if (reader.record === record) reader.exitedAt = monotonicMs();
    const args = { executor: record.slot, exitCode: code };
    if (err !== null && err !== undefined) args.error = String(err.message || err);
    if (code !== 0 || args.error !== undefined) this.crashed.add(record.slot);
    this.instant('executor stopped', record.slot, monotonicMs(), args);
  }

  instant(name, slot, ms, args) {
    const tid = slot >= 0 ? executorTid(this.port.poolId, slot) : mainTid(this.port.poolId);
    this.ring.push([{ ph: 'i', s: 't', name, cat: CATEGORY, pid: this.pid, tid, ts: us(ms), args }]);
  }

  submitted(ctx) {
    if (ctx.poolId !== this.port.poolId) return;
    ctx[kSubmitted] = monotonicMs();
    if (ctx.taskId < this.minId) this.minId = ctx.taskId;
    this.open++;
  }

  // The executor record of task `id`, with its slot; undefined if none.
  locate(id) {
    for (const reader of this.readers) reader.drain(this.minId);
    for (const reader of this.readers) {
      const found = reader.take(id);
      if (found !== undefined) {
        found.slot = reader.slot;
        found.reader = reader;
        return found;
      }
    }
    return undefined;
  }

  settled(ctx) {
    const submit = ctx[kSubmitted];
    if (ctx.poolId !== this.port.poolId || submit === undefined) return;
    this.open--;
    this.recorded++;
    const settle = monotonicMs();
    const { taskId } = ctx;
    const status = statusOf(ctx.error);
    const poolId = this.port.poolId;
    const found = this.locate(taskId);
    const slot = found !== undefined ? found.slot : ctx.executor;
    const events = [];
    const queued = { ph: 'b', cat: `${CATEGORY}.queue`, name: 'queued', id: `${poolId}.${taskId}`, pid: this.pid, tid: mainTid(poolId), ts: us(submit), args: { taskId, priority: ctx.priority } };
    events.push(queued);
    let endOfRun = settle;
    if (slot >= 0) {
      // The runtime reports no executor for a task whose executor died under it.
      const runTimeMs = ctx.executor >= 0 ? ctx.runTimeMs : Infinity;
      const run = found !== undefined ? this.exactRun(found, runTimeMs, settle) : this.estimatedRun(slot, submit, runTimeMs, settle);
      const args = { taskId, priority: ctx.priority, status };
      if (status !== 'succeeded') args.error = errorCode(ctx.error);
      if (run.estimated) args.estimated = true;
      const slice = { ph: 'X', cat: `${CATEGORY}.task`, name: found !== undefined ? this.names.of(found.fnId) : 'task', pid: this.pid, tid: executorTid(poolId, slot), ts: us(run.start), dur: us(run.end - run.start), args };
      if (run.estimated || run.cut) this.trimmable.add(slice);
      this.trimBefore(slot, slice);
      events.push({ ph: 'e', cat: queued.cat, name: 'queued', id: queued.id, pid: this.pid, tid: queued.tid, ts: slice.ts });
      events.push(slice);
      endOfRun = run.end;
      if (found !== undefined && found.async) {
        endOfRun = Math.min(run.start + ctx.runTimeMs, settle);
        const promise = { cat: `${CATEGORY}.promise`, name: slice.name, id: queued.id, pid: this.pid, tid: slice.tid };
        events.push({ ph: 'b', ...promise, ts: slice.ts, args: { taskId } }, { ph: 'e', ...promise, ts: Math.max(slice.ts, us(endOfRun)) });
      }
    } else {
      events.push({ ph: 'e', cat: queued.cat, name: 'queued', id: queued.id, pid: this.pid, tid: queued.tid, ts: us(settle) });
    }
    const tid = slot >= 0 ? executorTid(poolId, slot) : mainTid(poolId);
    if (status === 'cancelled' || status === 'timed_out') {
      events.push({ ph: 'i', s: 't', name: status === 'cancelled' ? 'cancelled' : 'timed out', cat: CATEGORY, pid: this.pid, tid, ts: us(endOfRun), args: { taskId } });
    }
    this.ring.push(events);
  }

  // From the executor's record. A task that never returned ends at its
  // start plus its measured run time, before the next task of its executor.
  exactRun(found, runTimeMs, settle) {
    if (!Number.isNaN(found.end)) return { start: found.start, end: found.end, estimated: false };
    const end = Math.min(found.start + Math.max(0, runTimeMs), settle, found.next, found.reader.exitedAt);
    return { start: found.start, end: Math.max(found.start, end), estimated: false, cut: true };
  }

  // Its record was lost.
  estimatedRun(slot, submit, runTimeMs, settle) {
    this.estimated++;
    const end = settle;
    const last = this.lastSlice.get(slot);
    const after = last === undefined ? submit : Math.max(submit, (last.ts + last.dur) / 1000);
    const start = Math.max(after, end - Math.max(0, runTimeMs));
    return { start, end: Math.max(start, end), estimated: true };
  }

  // A slice whose end was not measured (estimated, or cut from the run
  // time) may reach past the start of the next one on its track: cut it.
  trimBefore(slot, slice) {
    const last = this.lastSlice.get(slot);
    if (last !== undefined && this.trimmable.has(last) && last.ts + last.dur > slice.ts && last.ts <= slice.ts) {
      last.dur = Math.round((slice.ts - last.ts) * 1000) / 1000;
    }
    this.lastSlice.set(slot, slice);
  }

  document() {
    const { poolId, label } = this.port;
    let lost = 0;
    for (const reader of this.readers) lost += reader.lost;
    const traceEvents = trackNames(this.pid, poolId, label, this.slots);
    for (const e of this.ring.events()) traceEvents.push(e);
    return {
      traceEvents,
      displayTimeUnit: 'ms',
      metadata: {
        source: 'tasklets', pool: label, poolId, pid: this.pid,
        clock: 'process.hrtime (CLOCK_MONOTONIC), microseconds',
        startedAt: this.startedAt, startedAtUs: us(this.startedMono), stoppedAt: Date.now(),
        capacity: this.ring.capacity, droppedEvents: this.ring.droppedEvents, droppedTasks: this.ring.droppedGroups,
        recordedTasks: this.recorded, estimatedTasks: this.estimated, lostExecutorRecords: lost, unsettledTasks: this.open,
      },
    };
  }
}

module.exports = { TraceRecorder, statusOf };
