'use strict';
// What an executor tells a trace recording (js/trace-file.js): when each
// task it ran started and returned, on the trace's clock
// (js/trace-file-clock.js). The runtime reports a task's run time and
// executor at settlement, not when it started; a start derived from the
// settlement would put consecutive tasks of a completion batch on top of
// each other.
//
// Per executor, made when it starts (js/executors.js):
//   control  a SharedArrayBuffer holding one Int32, the generation, which
//            the main thread bumps after each change of ring;
//   port     a MessageChannel port that carries the ring (or null: stop).
// The executor compares the generation before each task (one load) and,
// when it moved, takes the newest ring from the port synchronously
// (receiveMessageOnPort): the main thread bumps it before it submits
// anything more, so every task submitted after startTrace() is recorded.
// Once per runBatch call would not do: a batch goes on taking tasks
// (spinning for them while the queue is empty) for up to its budget.
//
// Ring: Int32 written-count at byte 0, then records of FIELDS Float64:
// task id, function id, start, end (NaN until the task returns: a task the
// runtime interrupted never does), how it returned (0 not yet, RETURNED,
// PENDING_PROMISE). Only the executor writes; the main thread reads a
// record when its task settles, by then the executor wrote its end.

const { receiveMessageOnPort, MessageChannel } = require('node:worker_threads');
const { ResultKind } = require('./protocol');
const { monotonicMs } = require('./trace-file-clock');

const FIELDS = 5;
const HEADER_BYTES = 8;
// The main thread finds a task's record through a table indexed by
// `id & INDEX_MASK`: a record whose task is still unsettled when a task
// INDEX_SIZE ids later lands on its cell is lost (and placed by estimate).
const INDEX_SIZE = 1 << 16;
const INDEX_MASK = INDEX_SIZE - 1;
const RETURNED = 1;
const PENDING_PROMISE = 2;

// Main thread: the control of a new executor, and what its workerData and
// transferList get.
function createTraceControl() {
  const sab = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  return { flag: new Int32Array(sab), port: port1, workerData: { traceSab: sab, tracePort: port2 }, transfer: port2 };
}

// Main thread: gives the executor `ring` (a SharedArrayBuffer from
// createRing) to record into, or null to stop.
function sendRing(control, ring) {
  control.port.postMessage({ ring });
  Atomics.add(control.flag, 0, 1);
}

function createRing(records) {
  return new SharedArrayBuffer(HEADER_BYTES + records * FIELDS * 8);
}

// Executor side. `invoke` is the executor's task function (invoke's
// signature in addon/protocol.md), `outcome` the Int32Array it writes.
class TraceWriter {
  constructor(workerData, invoke, outcome) {
    this.flag = new Int32Array(workerData.traceSab);
    this.port = workerData.tracePort;
    // Task code runs on this thread: it must not find them there.
    delete workerData.traceSab;
    delete workerData.tracePort;
    this.seen = 0;
    this.invoke = invoke;
    this.count = null;
    this.records = null;
    this.capacity = 0;
    this.written = 0;
    this.outcome = outcome;
    // What runBatch calls instead of invoke.
    this.run = (fnId, argKind, args, id, transferred) => {
      if (Atomics.load(this.flag, 0) !== this.seen) this.sync();
      if (this.records === null) return invoke(fnId, argKind, args, id, transferred);
      return this.record(fnId, argKind, args, id, transferred);
    };
  }

  sync() {
    this.seen = Atomics.load(this.flag, 0);
    let last;
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) last = m.message;
    if (last === undefined) return;
    const { ring } = last;
    this.count = ring === null ? null : new Int32Array(ring, 0, 1);
    this.records = ring === null ? null : new Float64Array(ring, HEADER_BYTES);
    this.capacity = ring === null ? 0 : this.records.length / FIELDS;
    this.written = 0;
  }

  record(fnId, argKind, args, id, transferred) {
    const r = this.records;
    const at = (this.written % this.capacity) * FIELDS;
    r[at] = id;
    r[at + 1] = fnId;
    r[at + 3] = NaN;
    r[at + 4] = 0;
    r[at + 2] = monotonicMs();
    Atomics.store(this.count, 0, ++this.written);
    const result = this.invoke(fnId, argKind, args, id, transferred);
    r[at + 3] = monotonicMs();
    r[at + 4] = this.outcome[0] === ResultKind.PENDING ? PENDING_PROMISE : RETURNED;
    return result;
  }
}

// Main thread: reads one executor's ring.
class TraceReader {
  constructor(ring, slot) {
    this.slot = slot;
    this.count = new Int32Array(ring, 0, 1);
    this.records = new Float64Array(ring, HEADER_BYTES);
    this.capacity = this.records.length / FIELDS;
    this.read = 0;
    this.ids = new Float64Array(INDEX_SIZE).fill(-1);   // id & INDEX_MASK -> task id ...
    this.numbers = new Int32Array(INDEX_SIZE);          // ... and its record number
    this.lost = 0;              // records overwritten before they were read
    this.found = { fnId: 0, start: 0, end: 0, async: false, next: 0, reader: this };
  }

  drain() {
    const n = Atomics.load(this.count, 0);
    let k = this.read;
    if (n - k > this.capacity) {
      this.lost += n - this.capacity - k;
      k = n - this.capacity;
    }
    const r = this.records;
    for (; k < n; k++) {
      const id = r[(k % this.capacity) * FIELDS];
      const i = id & INDEX_MASK;
      this.ids[i] = id;
      this.numbers[i] = k;
    }
    this.read = n;
  }

  // Task `id`'s record, or undefined if this ring has none (any more): an
  // object of the reader's, overwritten by the next call: { fnId, start,
  // end, async, next, reader } (end NaN: it never returned; next: when the
  // executor's next task started, Infinity if none did yet).
  take(id) {
    const i = id & INDEX_MASK;
    if (this.ids[i] !== id) return undefined;
    this.ids[i] = -1;
    const k = this.numbers[i];
    const at = (k % this.capacity) * FIELDS;
    const r = this.records;
    const written = Atomics.load(this.count, 0);
    if (r[at] !== id || written - k > this.capacity) {
      this.lost++;
      return undefined;
    }
    const how = r[at + 4];
    const found = this.found;
    found.fnId = r[at + 1];
    found.start = r[at + 2];
    found.end = how === 0 ? NaN : r[at + 3];
    found.async = how === PENDING_PROMISE;
    found.next = written > k + 1 ? r[((k + 1) % this.capacity) * FIELDS + 2] : Infinity;
    return found;
  }
}

module.exports = { createTraceControl, sendRing, createRing, TraceWriter, TraceReader };
