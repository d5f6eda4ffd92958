'use strict';
// The main thread's side of settlement: the table of pending tasks and the
// onCompletions callback that settles many of them per call
// (addon/protocol.md, onCompletions).
//
// A pending entry is either a Single (one run() promise, in a ring keyed by
// id) or a Group (one runAll()/map() promise over tasks with consecutive
// ids, so a task's slot in the group is `id - group.base`; groups are found
// by binary search over their id ranges, with no per-task table entry).
// Each id is settled exactly once: it is taken out of the table before its
// entry is told. A Group settles its
// promise once: on its last success, or on its first failure (as
// Promise.all); later completions of a failed group are dropped.
//
// The table also remembers, per task, what later settlements need: cancel
// requests for running tasks (their completion becomes an AbortError
// whatever the task did), and which tasks failed (a task that depends on
// one rejects with ERR_DEPENDENCY_FAILED and that task's error as cause).

const codec = require('./codec');
const errors = require('./errors');
const taskErrors = require('./task-errors');

const { ResultKind } = require('./protocol');

// Failed task ids whose error is kept for dependents' `cause`; older ones
// keep only their id.
const FAILURES_KEPT = 10000;
const RECENT_ERRORS = 10;
// The code counted for a failure whose error is never built (a task of a
// group that failed already).
const UNBUILT_CODES = {
  [ResultKind.ERROR]: 'unknown', [ResultKind.CANCELLED]: 'ABORT_ERR', [ResultKind.TIMED_OUT]: 'ERR_TASK_TIMEOUT',
  [ResultKind.DEPENDENCY_FAILED]: 'ERR_DEPENDENCY_FAILED',
};

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

// A Single with something to undo when it settles (a signal listener, a
// progress route) and what its dependents need to know.
class Watched extends Single {
  constructor(resolve, reject) {
    super(resolve, reject);
    this.cleanup = null;      // () => void, called once when it settles
    this.dependsOn = null;    // task ids, for ERR_DEPENDENCY_FAILED's cause
    this.timeout = undefined; // ms, for ERR_TASK_TIMEOUT's message
  }

  // Settled first, released after: whatever the clean-up does, the
  // outcome is already the task's.
  succeed(id, value) {
    this.resolve(value);
    this.release();
  }

  fail(id, err) {
    this.reject(err);
    this.release();
  }

  release() {
    const cleanup = this.cleanup;
    this.cleanup = null;
    if (cleanup !== null) cleanup();
  }
}

class Group {
  // flatten: the results are arrays (map chunks) to concatenate in order.
  // onFail(group): told once when the group fails, to cancel what is left.
  constructor(base, count, flatten, resolve, reject, onFail = null) {
    this.base = base;
    this.size = count;
    this.settled = new Uint8Array(count);   // per task: its completion arrived
    this.outstanding = count;               // completions still to arrive
    this.results = new Array(count);
    this.remaining = count;                 // successes still needed
    this.flatten = flatten;
    this.resolve = resolve;
    this.reject = reject;
    this.onFail = onFail;
    this.onSuccess = null;  // (index in the group) => void, after each success
    this.timeouts = null;   // Float64Array of per-task timeouts (ms, 0 none), or null
    // runAll's settle: 'all': each task's outcome is recorded in place as
    // Promise.allSettled does, and the group resolves once all settled.
    this.settleAll = false;
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
    if (this.settleAll) {
      this.record(id, { status: 'fulfilled', value });
      return;
    }
    this.results[id - this.base] = value;
    if (this.onSuccess !== null) this.onSuccess(id - this.base);
    if (--this.remaining === 0) {
      this.done = true;
      this.resolve(this.flatten ? concat(this.results) : this.results);
    }
  }

  fail(id, err) {
    if (this.settleAll) {
      if (!this.done) this.record(id, { status: 'rejected', reason: err });
      return;
    }
    this.abort(err);
  }

  // The group rejects with `err` whatever its mode (its signal aborted, or
  // a task failed when not settling all); its queued tasks are cancelled.
  abort(err) {
    if (this.done) return;
    this.done = true;
    this.results = null;
    this.reject(err);
    if (this.onFail !== null) this.onFail(this);
  }

  // settle: 'all': `outcome` of task `id`, recorded once.
  record(id, outcome) {
    const i = id - this.base;
    if (this.results[i] !== undefined) return;
    this.results[i] = outcome;
    if (--this.remaining === 0) {
      this.done = true;
      this.resolve(this.results);
    }
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

// The addon could not run the task (kind 7, `value` its message and native
// trace), or sent a kind this file does not know: either way, an error that
// says so.
function nativeError(id, kind, value) {
  const { message, nativeTrace } = taskErrors.nativeFailure(value);
  const err = new Error(message !== undefined ? message : `tasklets: unknown completion kind ${kind} for task ${id}`);
  err.code = 'ERR_TASKLETS_NATIVE';
  err.taskId = id;
  if (nativeTrace !== undefined) err.nativeTrace = nativeTrace;
  return err;
}

// The error of a completion that is not a success (kinds 3, 4, 5, 8 and
// native errors); `entry` may add what it knows (timeout, dependencies).
function failure(table, entry, id, kind, value, worker, duration) {
  switch (kind) {
    case ResultKind.ERROR:
      return taskErrors.rebuild(codec.deserialize(value), id, worker, duration);
    case ResultKind.CANCELLED:
      return cancelledError(id);
    case ResultKind.TIMED_OUT: {
      const err = errors.taskTimeout(table.timeoutOf(entry, id));
      err.taskId = id;
      return err;
    }
    case ResultKind.DEPENDENCY_FAILED: {
      const dep = table.failedDependency(entry.dependsOn);
      const err = errors.dependencyFailed(dep === undefined ? 'unknown' : dep, dep === undefined ? undefined : table.failureOf(dep));
      err.taskId = id;
      return err;
    }
    default:
      return nativeError(id, kind, value);
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

  has(id) {
    return this.ids[id & MASK] === id || (this.stragglers.size !== 0 && this.stragglers.has(id));
  }

  keys() {
    const out = [...this.stragglers.keys()];
    for (let i = 0; i < RING_SIZE; i++) if (this.ids[i] !== -1) out.push(this.ids[i]);
    return out;
  }
}

class PendingTable {
  // keepAlive(boolean) is told when the table turns non-empty / empty.
  // crashed(slot) -> Promise<{ code, message }>: why the executor of `slot`
  // stopped, for tasks it could not finish (kind 7).
  // broken(err, id) is told when settling task `id` threw (a defect: the
  // task then rejects with that error, and the other tasks of the batch are
  // settled as usual).
  constructor(keepAlive, crashed = null, broken = null) {
    this.singles = new SingleTable();   // id -> Single
    this.groups = [];           // Groups with unsettled tasks, by increasing base
    this.count = 0;             // unsettled tasks
    // Set when the pool stopped its executors: (id) -> the error for tasks
    // the addon reports as not run to completion (kind 7).
    this.stopped = null;
    this.keepAlive = keepAlive;
    this.crashed = crashed;
    this.broken = broken;
    this.aborts = new Map();    // id -> reason: cancel requested while it ran
    this.defaultTimeout = Infinity;  // the pool's, for messages
    this.failures = new Map();  // failed id -> its error (or null), oldest first
    this.forgotten = new Set(); // failed ids whose error is no longer kept
    this.settledTotal = 0;      // completions received (health figures)
    this.failedTotal = 0;       // tasks rejected
    this.recent = [];           // the last RECENT_ERRORS failures: { taskId, code, name, message, at }
    this.observer = null;       // js/metrics/settlements.js: told of every settlement
    this.idleCheck = false;     // a microtask will tell keepAlive(false) if still empty
    this.onCompletions = this.onCompletions.bind(this);
    this.checkIdle = () => {
      this.idleCheck = false;
      if (this.count === 0) this.keepAlive(false);
    };
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

  // Whether `id` is still waiting for its completion.
  has(id) {
    if (this.singles.has(id)) return true;
    const group = this.groupOf(id);
    return group !== undefined && group.settled[id - group.base] === 0;
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

  // Records that `id` failed (for its dependents and the health figures)
  // and tells its entry.
  fail(entry, id, err) {
    this.remember(id, err);
    // Health counts failures, not cancellations the caller asked for.
    if (err === null || typeof err !== 'object' || err.code !== 'ABORT_ERR') this.failedTotal++;
    if (this.observer !== null) this.observer.failed(id, err);
    if (this.recent.length === RECENT_ERRORS) this.recent.shift();
    this.recent.push({
      taskId: id, code: err && err.code, name: err && err.name, message: String(err && err.message), at: Date.now(),
    });
    entry.fail(id, err);
  }

  // Records that `id` failed, with its error (null: not known here). The
  // first record stays: a task settled here at once (cancel) also sends a
  // completion later, which must not erase the error kept for its dependents.
  remember(id, err) {
    if (this.failures.has(id) || this.forgotten.has(id)) return;
    this.failures.set(id, err);
    if (this.failures.size > FAILURES_KEPT) {
      const oldest = this.failures.keys().next().value;
      this.failures.delete(oldest);
      this.forgotten.add(oldest);
    }
  }

  // The timeout (ms) task `id` ran with, for ERR_TASK_TIMEOUT's message
  // (undefined when it is not known: a default changed since).
  timeoutOf(entry, id) {
    if (entry.timeout !== undefined) return entry.timeout;
    if (entry instanceof Group) {
      if (entry.timeouts !== null && entry.timeouts[id - entry.base] > 0) return entry.timeouts[id - entry.base];
    }
    return Number.isFinite(this.defaultTimeout) ? this.defaultTimeout : undefined;
  }

  // The error task `id` failed with, if it is still kept (undefined if not).
  failureOf(id) {
    return this.failures.get(id) || undefined;
  }

  // A cancel was requested while task `id` ran: its completion becomes an
  // AbortError with `reason` (see settleAborted).
  abortRequested(id, reason) {
    this.aborts.set(id, reason);
  }

  // Whether task `id` (already settled) failed.
  hasFailed(id) {
    return this.failures.has(id) || this.forgotten.has(id);
  }

  // The first of `ids` that failed, or undefined.
  failedDependency(ids) {
    if (ids === null || ids === undefined) return undefined;
    for (const id of ids) if (this.hasFailed(id)) return id;
    return undefined;
  }

  // The addon's callback: every task settled since its last call. Nothing
  // thrown while one task settles may leave this loop: the rest of the
  // batch would never settle (the seed's "Uncaught N-API callback
  // exception").
  onCompletions(count, ids, kinds, values, workers, durations) {
    this.settledTotal += count;
    const observer = this.observer;
    if (observer !== null) observer.begin();
    const tracing = observer !== null && observer.tracing;
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      const kind = kinds[i];
      const entry = this.take(id);
      if (entry === undefined) {
        if (kind !== ResultKind.PRIMITIVE && kind !== ResultKind.SERIALIZED) this.remember(id, null);
        continue;
      }
      if (tracing) observer.completion(workers[i], durations[i]);
      try {
        this.dispatch(entry, id, kind, values[i], workers[i], durations[i]);
      } catch (err) {
        this.settleBroken(entry, id, err);
      }
    }
    if (observer !== null) observer.end();
    // Emptied by these completions: keep-alive ends one microtask later,
    // unless a task was added meanwhile. A caller awaiting one task at a
    // time adds the next one in the microtask its await resumes in, which
    // runs first: no native ref/unref pair per round trip.
    if (this.count === 0 && !this.idleCheck) {
      this.idleCheck = true;
      queueMicrotask(this.checkIdle);
    }
  }

  succeeded(entry, id, value) {
    entry.succeed(id, value);
    if (this.observer !== null) this.observer.succeeded(id);
  }

  dispatch(entry, id, kind, value, worker, duration) {
    if (this.aborts.size !== 0 && this.aborts.has(id)) {
      this.settleAborted(entry, id, kind, value, worker, duration);
    } else if (kind === ResultKind.PRIMITIVE) {
      this.succeeded(entry, id, value);
    } else if (kind === ResultKind.RUNTIME_ERROR && this.stopped !== null) {
      this.fail(entry, id, this.stopped(id));
    } else if (kind === ResultKind.RUNTIME_ERROR && worker >= 0 && this.crashed !== null) {
      this.settleCrashed(entry, id, worker, value);
    } else {
      this.settle(entry, id, kind, value, worker, duration);
    }
  }

  // Settling `id` threw: it rejects with that error (a promise already
  // settled ignores it) and the defect is reported.
  settleBroken(entry, id, err) {
    try {
      entry.fail(id, err);
      if (this.broken !== null) this.broken(err, id);
    } catch {
      // Nothing more can be done for this task; the others go on.
    }
  }

  // Turns one completion into the entry's outcome. Never throws.
  settle(entry, id, kind, value, worker, duration) {
    try {
      if (kind === ResultKind.PRIMITIVE) {
        this.succeeded(entry, id, value);
        return;
      }
      if (kind === ResultKind.SERIALIZED) {
        this.succeeded(entry, id, entry.done !== true ? codec.deserialize(value) : undefined);
        return;
      }
      if (entry.done === true) {
        this.remember(id, null);
        if (this.observer !== null) this.observer.failed(id, null, UNBUILT_CODES[kind] || 'ERR_TASKLETS_NATIVE');
        return;
      }
      this.fail(entry, id, failure(this, entry, id, kind, value, worker, duration));
    } catch (err) {
      this.fail(entry, id, err);
    }
  }

  // A task whose cancellation was requested while it ran: whatever it did,
  // it rejects with an AbortError (its own error, if any, as the cause)...
  // unless it finished successfully before it noticed: then it succeeded;
  // or its timeout stopped it before the cancel could: then it timed out,
  // as the runtime counts it (getStats().timedOut).
  settleAborted(entry, id, kind, value, worker, duration) {
    const reason = this.aborts.get(id);
    this.aborts.delete(id);
    if (kind === ResultKind.PRIMITIVE || kind === ResultKind.SERIALIZED || kind === ResultKind.TIMED_OUT) {
      this.settle(entry, id, kind, value, worker, duration);
      return;
    }
    let cause = reason;
    if (kind === ResultKind.ERROR) {
      try {
        cause = taskErrors.rebuild(codec.deserialize(value), id, worker, duration);
      } catch (err) {
        cause = err;
      }
    }
    const err = errors.aborted(cause);
    err.taskId = id;
    this.fail(entry, id, err);
  }

  // The executor that ran the task stopped under it: the error says why,
  // once the Worker's exit tells (an out-of-memory executor is reported as
  // such). The task stays counted until then.
  settleCrashed(entry, id, slot, value) {
    const { message, nativeTrace } = taskErrors.nativeFailure(value);
    this.count++;
    this.crashed(slot).then((death) => {
      this.count--;
      const err = errors.workerCrashed(death.code, `${death.message} (${message})`);
      err.taskId = id;
      err.workerThread = slot;
      if (nativeTrace !== undefined) err.nativeTrace = nativeTrace;
      try {
        this.fail(entry, id, err);
      } catch (thrown) {
        this.settleBroken(entry, id, thrown);
      }
      if (this.count === 0) this.keepAlive(false);
    });
  }

  // Tasks that will never complete through the addon (their submit failed,
  // or the pool is gone): reject them with `makeError(id)`.
  abandon(ids, count, makeError) {
    for (let i = 0; i < count; i++) {
      const entry = this.take(ids[i]);
      if (entry === undefined) continue;
      try {
        this.fail(entry, ids[i], makeError(ids[i]));
      } catch (err) {
        this.settleBroken(entry, ids[i], err);
      }
    }
    if (this.count === 0) this.keepAlive(false);
  }

  abandonAll(makeError) {
    const ids = this.singles.keys();
    for (const g of this.groups) for (let i = 0; i < g.size; i++) if (g.settled[i] === 0) ids.push(g.base + i);
    this.abandon(ids, ids.length, makeError);
  }
}

module.exports = { PendingTable, Single, Watched, Group, concat };
