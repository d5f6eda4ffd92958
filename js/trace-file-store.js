'use strict';
// The tasks of a trace recording, kept as numbers in typed arrays (a ring,
// oldest first) until stopTrace() turns them into events: a few dozen bytes
// per task and nothing for the collector while the recording runs, where
// event objects would cost more than the no-op tasks they describe.
//
// The bound is in events, as the file counts them: a task makes 2 (its queue
// slice) + 1 (a run slice, if it ran) + 2 (its promise slice, if it returned
// one) + 1 (a cancel or timeout instant). The oldest tasks are dropped whole
// to make room (a 'b' without its 'e' would leave a slice open to the end of
// the trace), and counted.

const { mainTid, executorTid } = require('./trace-file-document');

const STATUS = ['succeeded', 'failed', 'cancelled', 'timed_out', 'dependency_failed', 'shut_down', 'crashed'];
const STATUS_CODE = Object.fromEntries(STATUS.map((s, i) => [s, i]));
const INITIAL_TASKS = 1024;
const CATEGORY = 'tasklets';

function us(ms) {
  return Math.round(ms * 1e6) / 1e3;
}

// Per task, what add() reads from `next`:
//   id, submit, start (NaN: never ran), end (of its run, or its
//   settlement if it never ran), promiseEnd (NaN: not a promise), slot
//   (-1: none), name (index into names, -1: none), status (STATUS),
//   priority (string), estimated, errorCode (string or null).
class TaskStore {
  constructor(capacity) {
    this.capacity = capacity;
    this.maxTasks = Math.max(1, Math.ceil(capacity / 2));
    this.length = 0;
    this.head = 0;         // index of the oldest task
    this.size = 0;
    this.headSeq = 0;      // sequence number of the oldest task
    this.events = 0;
    this.droppedEvents = 0;
    this.droppedTasks = 0;
    this.priorities = ['high', 'normal', 'low'];
    this.errors = new Map();   // sequence number -> error code, for failures
    this.next = {
      id: 0, submit: 0, start: NaN, end: 0, promiseEnd: NaN, slot: -1, name: -1, status: 0, priority: 'normal',
      estimated: false, errorCode: null,
    };
    this.grow(Math.min(this.maxTasks, INITIAL_TASKS));
  }

  grow(length) {
    const times = new Float64Array(length * 5);
    const ints = new Int32Array(length * 2);
    const bytes = new Uint8Array(length * 4);
    if (this.size > 0) {
      // Oldest first: from the head to the end of the arrays, then what wrapped.
      const first = Math.min(this.size, this.length - this.head);
      const copy = (to, from, width) => {
        to.set(from.subarray(this.head * width, (this.head + first) * width), 0);
        to.set(from.subarray(0, (this.size - first) * width), first * width);
      };
      copy(times, this.times, 5);
      copy(ints, this.ints, 2);
      copy(bytes, this.bytes, 4);
    }
    this.times = times;    // id, submit, start, end, promiseEnd
    this.ints = ints;      // slot, name
    this.bytes = bytes;    // status, priority, estimated, events
    this.length = length;
    this.head = 0;
  }

  static eventsOf(ran, promise, status) {
    return 2 + (ran ? 1 : 0) + (promise ? 2 : 0) + (status === STATUS_CODE.cancelled || status === STATUS_CODE.timed_out ? 1 : 0);
  }

  // Adds `next`; its sequence number, or -1 if it alone exceeds the capacity.
  add() {
    const t = this.next;
    const count = TaskStore.eventsOf(!Number.isNaN(t.start), !Number.isNaN(t.promiseEnd), t.status);
    if (count > this.capacity) {
      this.droppedEvents += count;
      this.droppedTasks++;
      return -1;
    }
    while (this.size > 0 && (this.events + count > this.capacity || (this.size === this.length && this.length === this.maxTasks))) this.dropOldest();
    if (this.size === this.length) this.grow(Math.min(this.maxTasks, this.length * 2));
    const at = (this.head + this.size) % this.length;
    const seq = this.headSeq + this.size;
    const times = this.times;
    times[at * 5] = t.id;
    times[at * 5 + 1] = t.submit;
    times[at * 5 + 2] = t.start;
    times[at * 5 + 3] = t.end;
    times[at * 5 + 4] = t.promiseEnd;
    this.ints[at * 2] = t.slot;
    this.ints[at * 2 + 1] = t.name;
    let priority = this.priorities.indexOf(t.priority);
    if (priority < 0) priority = this.priorities.push(t.priority) - 1;
    this.bytes[at * 4] = t.status;
    this.bytes[at * 4 + 1] = priority;
    this.bytes[at * 4 + 2] = t.estimated ? 1 : 0;
    this.bytes[at * 4 + 3] = count;
    if (t.errorCode !== null) this.errors.set(seq, t.errorCode);
    this.size++;
    this.events += count;
    return seq;
  }

  dropOldest() {
    const count = this.bytes[this.head * 4 + 3];
    this.errors.delete(this.headSeq);
    this.events -= count;
    this.droppedEvents += count;
    this.droppedTasks++;
    this.head = (this.head + 1) % this.length;
    this.headSeq++;
    this.size--;
  }

  // Task `seq`'s run end and start, if it is still held: for trimming.
  endOf(seq) {
    if (seq < this.headSeq || seq >= this.headSeq + this.size) return NaN;
    return this.times[((this.head + seq - this.headSeq) % this.length) * 5 + 3];
  }

  startOf(seq) {
    if (seq < this.headSeq || seq >= this.headSeq + this.size) return NaN;
    return this.times[((this.head + seq - this.headSeq) % this.length) * 5 + 2];
  }

  setEnd(seq, end) {
    this.times[((this.head + seq - this.headSeq) % this.length) * 5 + 3] = end;
  }

  // The events, oldest task first. names: index -> slice name.
  toEvents(pid, poolId, names) {
    const out = [];
    const queueTid = mainTid(poolId);
    for (let k = 0; k < this.size; k++) {
      const at = (this.head + k) % this.length;
      const [id, submit, start, end, promiseEnd] = this.times.subarray(at * 5, at * 5 + 5);
      const slot = this.ints[at * 2];
      const status = STATUS[this.bytes[at * 4]];
      const priority = this.priorities[this.bytes[at * 4 + 1]];
      const ran = !Number.isNaN(start);
      const asyncId = `${poolId}.${id}`;
      const queued = { cat: `${CATEGORY}.queue`, name: 'queued', id: asyncId, pid, tid: queueTid };
      out.push({ ph: 'b', ...queued, ts: us(submit), args: { taskId: id, priority } });
      out.push({ ph: 'e', ...queued, ts: us(ran ? start : end) });
      const tid = slot >= 0 ? executorTid(poolId, slot) : queueTid;
      if (ran) {
        const args = { taskId: id, priority, status };
        const code = this.errors.get(this.headSeq + k);
        if (code !== undefined) args.error = code;
        if (this.bytes[at * 4 + 2] === 1) args.estimated = true;
        const nameIndex = this.ints[at * 2 + 1];
        const name = nameIndex >= 0 ? names[nameIndex] : 'task';
        out.push({ ph: 'X', cat: `${CATEGORY}.task`, name, pid, tid, ts: us(start), dur: us(end - start), args });
        if (!Number.isNaN(promiseEnd)) {
          const promise = { cat: `${CATEGORY}.promise`, name, id: asyncId, pid, tid };
          out.push({ ph: 'b', ...promise, ts: us(start), args: { taskId: id } }, { ph: 'e', ...promise, ts: us(Math.max(start, promiseEnd)) });
        }
      }
      if (status === 'cancelled' || status === 'timed_out') {
        const at2 = ran && !Number.isNaN(promiseEnd) ? promiseEnd : end;
        out.push({ ph: 'i', s: 't', name: status === 'cancelled' ? 'cancelled' : 'timed out', cat: CATEGORY, pid, tid, ts: us(at2), args: { taskId: id } });
      }
    }
    return out;
  }
}

module.exports = { TaskStore, STATUS_CODE, us };
