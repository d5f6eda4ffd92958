'use strict';
// runAll() and map(): many tasks, one promise (a Group in the pending
// table, js/completions.js). This file validates and encodes a group into
// submission columns, hands them to the addon in chunks, and runs map()'s
// bounded-concurrency variant; the pool (js/pool.js) lends it the narrow set
// of operations below (`pool`), nothing else of its state.
//
//   pool.policy()           the pool's resolved timeout { default, perTask }
//   pool.workersMax()       for map()'s default chunk size
//   pool.memoryLimited()    whether memory.limit is set (a group then goes in one call)
//   pool.fnIdOf(fn, label)  / pool.idOfMap(fn): registered function ids
//   pool.admit(n)           throws ERR_QUEUE_FULL if n more tasks do not fit
//   pool.flush()            earlier run() calls reach the addon first
//   pool.reserveIds(n)      n consecutive task ids -> the first
//   pool.addGroup(group, priorities)  the group enters the pending table
//   pool.submit(columns)    one native submit of a columns slice (may throw)
//   pool.abandon(ids, n, err) those tasks never reached the addon: reject them
//   pool.cancelRange(base, size) a failed group's queued tasks are not needed
//   pool.track(watch) / pool.push(...): a single task, as run() makes it
//   pool.log                the pool's logger
//
// Invariants: a group's ids are consecutive and above every id handed out
// before; every task of a group is submitted or abandoned (never both,
// never neither); a group settles its promise once (js/completions.js).

const v8 = require('node:v8');
const codec = require('./codec');
const errors = require('./errors');
const { ArgKind } = require('./protocol');
const { Group } = require('./completions');
const { isPlainObject, rejectUnknownKeys, checkOneOf } = require('./validate');
const { isPlainSpec, readSpec, readPriority, readSignal, readTimeout, PRIORITIES, EMPTY } = require('./task-options');

const MAP_OPTION_KEYS = ['chunkSize', 'priority', 'concurrency', 'onProgress', 'timeout'];
const RUN_ALL_OPTION_KEYS = ['signal', 'settle'];
const SETTLE_MODES = ['fail-fast', 'all'];
const CHUNKS_PER_WORKER = 4;  // default map() chunking: about this many chunks per executor
// A large group reaches the addon this many tasks per native call, so
// executors start on the first tasks while the rest are still encoded.
const SUBMIT_CHUNK = 4096;

// Submission columns of `n` tasks (the shape addon/protocol.md's submit reads).
function newColumns(n) {
  return {
    count: n,
    ids: new Float64Array(n),
    fnIds: new Uint32Array(n),
    argKinds: new Uint8Array(n),
    args: new Array(n),
    priorities: new Uint8Array(n),
    timeouts: undefined,
    timeout: Infinity,
    concurrency: Infinity,
    onProgress: undefined,
  };
}

// runAll's elements -> columns. Arguments are not copied: runAll submits
// them before it returns.
function runAllColumns(pool, tasks) {
  if (!Array.isArray(tasks)) throw errors.argType('tasks', 'an array', tasks);
  const n = tasks.length;
  const columns = newColumns(n);
  const policy = pool.policy();
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
      lastId = pool.fnIdOf(fn, `tasks[${i}].task`);
      lastFn = fn;
    }
    columns.fnIds[i] = lastId;
    if (codec.allPrimitive(args)) {
      columns.argKinds[i] = ArgKind.PRIMITIVES;
      columns.args[i] = args;
    } else {
      columns.argKinds[i] = ArgKind.SERIALIZED;
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

function readMapOptions(pool, options, length) {
  let chunkSize;
  let concurrency;
  let onProgress;
  let priority = PRIORITIES.normal;
  let timeout = pool.policy().default;
  if (options !== undefined) {
    if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
    rejectUnknownKeys(options, MAP_OPTION_KEYS, 'options.');
    ({ chunkSize, concurrency, onProgress } = options);
    priority = readPriority('options.priority', options.priority);
    timeout = readTimeout('options.timeout', options.timeout, pool.policy());
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
    chunkSize = Math.max(1, Math.ceil(length / (pool.workersMax() * CHUNKS_PER_WORKER)));
  } else if (typeof chunkSize !== 'number') {
    throw errors.optionType('options.chunkSize', 'a positive integer', chunkSize);
  } else if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw errors.optionRange('options.chunkSize', 'a positive integer', chunkSize);
  }
  return { chunkSize, priority, concurrency: concurrency === undefined ? Infinity : concurrency, onProgress, timeout };
}

// map's items -> one task per chunk of `chunkSize` items.
function mapColumns(pool, fn, items, options) {
  if (typeof fn !== 'function') throw errors.argType('fn', 'a function', fn);
  if (items === null || typeof items !== 'object' || typeof items[Symbol.iterator] !== 'function') {
    throw errors.argType('items', 'an array or an iterable', items);
  }
  const list = Array.isArray(items) ? items : Array.from(items);
  const { chunkSize, priority, concurrency, onProgress, timeout } = readMapOptions(pool, options, list.length);
  const bad = codec.checkCloneable(list, 'items');
  if (bad !== null) throw errors.argNotCloneable(bad.path, bad.reason);
  const fnId = pool.idOfMap(fn);
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
    columns.argKinds[c] = ArgKind.SERIALIZED;
    columns.args[c] = bytes;
    columns.priorities[c] = priority;
  }
  // Each chunk is a task with the map's timeout (the pool's default
  // unless options.timeout says otherwise).
  if (timeout !== Infinity) columns.timeouts = new Float64Array(n).fill(timeout);
  columns.timeout = timeout;
  columns.concurrency = concurrency;
  columns.onProgress = onProgress;
  columns.totalItems = list.length;
  columns.fn = fn;
  columns.chunkItems = (c) => Math.min(chunkSize, list.length - c * chunkSize);
  return columns;
}

function reportProgress(onProgress, completed, total, log) {
  try {
    onProgress({ completed, total, percentage: total === 0 ? 100 : Math.round((completed / total) * 10000) / 100 });
  } catch (err) {
    log.warn('map onProgress threw', { err });
  }
}

// The columns of tasks [start, end).
function slice(c, start, end) {
  if (start === 0 && end === c.count) return c;
  return {
    count: end - start,
    ids: c.ids.subarray(start, end),
    fnIds: c.fnIds.subarray(start, end),
    argKinds: c.argKinds.subarray(start, end),
    args: c.args.slice(start, end),
    priorities: c.priorities.subarray(start, end),
    timeouts: c.timeouts === undefined ? undefined : c.timeouts.subarray(start, end),
  };
}

// One submit call (or one per SUBMIT_CHUNK tasks) for a whole group, one
// promise for its results. If a task fails (unless `settleAll`: then each
// outcome is recorded in place) or `signal` aborts, the group rejects and
// its tasks still queued are cancelled.
function submitGroup(pool, columns, flatten, signal, settleAll = false) {
  const n = columns.count;
  if (n === 0) return Promise.resolve([]);
  pool.flush();
  const base = pool.reserveIds(n);
  for (let i = 0; i < n; i++) columns.ids[i] = base + i;
  let group;
  const promise = new Promise((resolve, reject) => {
    group = new Group(base, n, flatten, resolve, reject, (g) => pool.cancelRange(g.base, g.size));
  });
  group.timeouts = columns.timeouts === undefined ? null : columns.timeouts;
  group.settleAll = settleAll;
  if (columns.onProgress !== undefined) {
    const { onProgress, chunkItems, totalItems } = columns;
    let itemsDone = 0;
    group.onSuccess = (i) => {
      itemsDone += chunkItems(i);
      reportProgress(onProgress, itemsDone, totalItems, pool.log);
    };
  }
  if (signal !== undefined) {
    const onAbort = () => {
      if (!group.done) group.abort(errors.aborted(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const unlisten = () => pool.unlisten(signal, onAbort, base);
    promise.then(unlisten, unlisten);
  }
  pool.addGroup(group, columns.priorities);
  // With memory.limit a group is refused or accepted whole (one call);
  // otherwise it goes in chunks. A chunk that fails (no memory) fails the
  // group: the rest is never submitted and its queued tasks are cancelled.
  const chunk = pool.memoryLimited() ? n : SUBMIT_CHUNK;
  let submitted = 0;
  try {
    while (submitted < n) {
      const end = Math.min(n, submitted + chunk);
      pool.submit(slice(columns, submitted, end));
      submitted = end;
    }
  } catch (err) {
    pool.abandon(columns.ids.subarray(submitted), n - submitted, err);
  }
  return promise;
}

// map() with at most `concurrency` chunks in flight: each settled chunk
// submits the next; the first failure rejects the map and submits no more.
function mapLimited(pool, columns) {
  const { count, concurrency, onProgress, chunkItems, totalItems, timeout } = columns;
  const watch = timeout === pool.policy().default ? null : (entry) => {
    entry.timeout = timeout === Infinity ? undefined : timeout;
  };
  const results = new Array(count);
  let next = 0;
  let done = 0;
  let itemsDone = 0;
  let failed = false;
  return new Promise((resolve, reject) => {
    const launch = () => {
      if (failed || next >= count) return;
      const c = next++;
      const promise = pool.track(watch, columns.priorities[c]);
      // The function id is looked up again: the registry may have evicted
      // it since map() began (a chunk of a bounded map runs turns later).
      pool.push(promise.taskId, pool.idOfMap(columns.fn), columns.argKinds[c], columns.args[c], columns.priorities[c], timeout);
      columns.args[c] = undefined;
      promise.then((value) => {
        if (failed) return;
        results[c] = value;
        done++;
        itemsDone += chunkItems(c);
        if (onProgress !== undefined) reportProgress(onProgress, itemsDone, totalItems, pool.log);
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

function runAll(pool, tasks, options) {
  let columns;
  let signal;
  let settleAll = false;
  try {
    if (options !== undefined) {
      if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
      rejectUnknownKeys(options, RUN_ALL_OPTION_KEYS, 'options.');
      signal = readSignal('options.signal', options.signal);
      settleAll = options.settle !== undefined && checkOneOf('options.settle', options.settle, SETTLE_MODES) === 'all';
      if (signal !== undefined && signal.aborted) throw errors.aborted(signal.reason);
    }
    columns = runAllColumns(pool, tasks);
    pool.admit(columns.count);
  } catch (err) {
    return Promise.reject(err);
  }
  return submitGroup(pool, columns, false, signal, settleAll);
}

function map(pool, fn, items, options) {
  let columns;
  try {
    columns = mapColumns(pool, fn, items, options);
    pool.admit(Math.min(columns.count, columns.concurrency));
  } catch (err) {
    return Promise.reject(err);
  }
  if (columns.concurrency < columns.count) return mapLimited(pool, columns);
  return submitGroup(pool, columns, true, undefined);
}

module.exports = { runAll, map, SUBMIT_CHUNK };
