'use strict';
// The main thread's side of settlement: the table of pending tasks and the
// onCompletions callback that settles many of them per call
// (addon/protocol.md, onCompletions).
//
// A pending entry is either a Single (one run() promise, kept in a Map by
// id) or a Group (one runAll()/map() promise over tasks with consecutive
// ids, so a task's slot in the group is `id - group.base`; groups are found
// by binary search over their id ranges, with no per-task table entry).
// Each id is settled exactly once: it is taken out of the table before its
// entry is told. A Group settles its
// promise once: on its last success, or on its first failure (as
// Promise.all); later completions of a failed group are dropped.

const codec = require('./codec');
const errors = require('./errors');
const taskErrors = require('./task-errors');

const KIND_PRIMITIVES = 1;
const KIND_SERIALIZED = 2;
const KIND_ERROR = 3;
const KIND_CANCELLED = 4;
const KIND_TIMED_OUT = 5;
const KIND_NATIVE_ERROR = 7;

class Single {
  constructor(resolve, reject) {
    this.resolve = resolve;
    this.reject = reject;
  }

  succeed(id, value) {
    this.resolve(value);
  }

  fail(id, err) {
    this.reject(err);
  }
}

class Group {
  // flatten: the results are arrays (map chunks) to concatenate in order.
  constructor(base, count, flatten, resolve, reject) {
    this.base = base;
    this.size = count;
    this.settled = new Uint8Array(count);   // per task: its completion arrived
    this.outstanding = count;               // completions still to arrive
    this.results = new Array(count);
    this.remaining = count;                 // successes still needed
    this.flatten = flatten;
    this.resolve = resolve;
    this.reject = reject;
    this.done = false;
  }

  // Marks `id` settled; false if it already was.
  claim(id) {
    const i = id - this.base;
    if (this.settled[i] !== 0) return false;
    this.settled[i] = 1;
    this.outstanding--;
    return true;
  }

  succeed(id, value) {
    if (this.done) return;
    this.results[id - this.base] = value;
    if (--this.remaining === 0) {
      this.done = true;
      this.resolve(this.flatten ? concat(this.results) : this.results);
    }
  }

  fail(id, err) {
    if (this.done) return;
    this.done = true;
    this.results = null;
    this.reject(err);
  }
}

function concat(chunks) {
  const out = [];
  for (const chunk of chunks) for (let i = 0; i < chunk.length; i++) out.push(chunk[i]);
  return out;
}

function cancelledError(id) {
  const err = errors.poolShutdown('The task was cancelled because the pool shut down before it ran');
  err.taskId = id;
  return err;
}

// The addon could not run the task (kind 7, `value` its message), or sent a
// kind this file does not know: either way, an error that says so.
function nativeError(id, kind, value) {
  const err = new Error(typeof value === 'string' ? value : `tasklets: unknown completion kind ${kind} for task ${id}`);
  err.code = 'ERR_TASKLETS_NATIVE';
  err.taskId = id;
  return err;
}

// Turns one completion into the entry's outcome. Never throws.
function settle(entry, id, kind, value, worker, duration) {
  try {
    switch (kind) {
      case KIND_PRIMITIVES:
        return entry.succeed(id, value);
      case KIND_SERIALIZED:
        if (entry.done) return undefined;
        return entry.succeed(id, codec.deserialize(value));
      case KIND_ERROR:
        if (entry.done) return undefined;
        return entry.fail(id, taskErrors.rebuild(codec.deserialize(value), id, worker, duration));
      case KIND_CANCELLED:
        return entry.fail(id, cancelledError(id));
      case KIND_TIMED_OUT: {
        const err = errors.taskTimeout();
        err.taskId = id;
        return entry.fail(id, err);
      }
      default:
        return entry.fail(id, nativeError(id, kind, value));
    }
  } catch (err) {
    return entry.fail(id, err);
  }
}

// id -> Single, for ids that are integers handed out in increasing order and
// mostly settled in about that order: a ring indexed by `id & MASK` (no
// hashing, no per-entry allocation). An entry still unsettled when a newer
// id lands on its slot (a task that runs for longer than RING_SIZE later
// submissions) moves to a Map, so the ring never grows.
const RING_SIZE = 1 << 16;
const MASK = RING_SIZE - 1;

class SingleTable {
  constructor() {
    this.ids = new Float64Array(RING_SIZE).fill(-1);
    this.entries = new Array(RING_SIZE).fill(undefined);
    this.stragglers = new Map();
  }

  set(id, entry) {
    const i = id & MASK;
    if (this.ids[i] !== -1) this.stragglers.set(this.ids[i], this.entries[i]);
    this.ids[i] = id;
    this.entries[i] = entry;
  }

  // The entry for `id`, removed; undefined if none.
  take(id) {
    const i = id & MASK;
    if (this.ids[i] === id) {
      const entry = this.entries[i];
      this.ids[i] = -1;
      this.entries[i] = undefined;
      return entry;
    }
    if (this.stragglers.size === 0) return undefined;
    const entry = this.stragglers.get(id);
    if (entry !== undefined) this.stragglers.delete(id);
    return entry;
  }

  keys() {
    const out = [...this.stragglers.keys()];
    for (let i = 0; i < RING_SIZE; i++) if (this.ids[i] !== -1) out.push(this.ids[i]);
    return out;
  }
}

class PendingTable {
  // keepAlive(boolean) is told when the table turns non-empty / empty.
  constructor(keepAlive) {
    this.singles = new SingleTable();   // id -> Single
    this.groups = [];           // Groups with unsettled tasks, by increasing base
    this.count = 0;             // unsettled tasks
    // Set when the pool stopped its executors: (id) -> the error for tasks
    // the addon reports as not run to completion (kind 7).
    this.stopped = null;
    this.keepAlive = keepAlive;
    this.onCompletions = this.onCompletions.bind(this);
  }

  get size() {
    return this.count;
  }

  add(id, entry) {
    if (this.count++ === 0) this.keepAlive(true);
    this.singles.set(id, entry);
  }

  // A group's ids must be above every id added before (ids only grow).
  addGroup(group) {
    if (group.outstanding === 0) return;
    if (this.count === 0) this.keepAlive(true);
    this.count += group.outstanding;
    this.groups.push(group);
  }

  // The entry waiting for `id`, which stops waiting; undefined if none.
  take(id) {
    const single = this.singles.take(id);
    if (single !== undefined) {
      this.count--;
      return single;
    }
    const group = this.groupOf(id);
    if (group === undefined || !group.claim(id)) return undefined;
    this.count--;
    if (group.outstanding === 0) this.groups.splice(this.groups.indexOf(group), 1);
    return group;
  }

  groupOf(id) {
    const groups = this.groups;
    let lo = 0;
    let hi = groups.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const g = groups[mid];
      if (id < g.base) hi = mid - 1;
      else if (id >= g.base + g.size) lo = mid + 1;
      else return g;
    }
    return undefined;
  }

  // The addon's callback: every task settled since its last call.
  onCompletions(count, ids, kinds, values, workers, durations) {
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      const entry = this.take(id);
      if (entry === undefined) continue;
      if (kinds[i] === KIND_NATIVE_ERROR && this.stopped !== null) entry.fail(id, this.stopped(id));
      else settle(entry, id, kinds[i], values[i], workers[i], durations[i]);
    }
    if (this.count === 0) this.keepAlive(false);
  }

  // Tasks that will never complete through the addon (their submit failed,
  // or the pool is gone): reject them with `makeError(id)`.
  abandon(ids, count, makeError) {
    for (let i = 0; i < count; i++) {
      const entry = this.take(ids[i]);
      if (entry !== undefined) entry.fail(ids[i], makeError(ids[i]));
    }
    if (this.count === 0) this.keepAlive(false);
  }

  abandonAll(makeError) {
    const ids = this.singles.keys();
    for (const g of this.groups) for (let i = 0; i < g.size; i++) if (g.settled[i] === 0) ids.push(g.base + i);
    this.abandon(ids, ids.length, makeError);
  }
}

module.exports = { PendingTable, Single, Group, settle, concat };
