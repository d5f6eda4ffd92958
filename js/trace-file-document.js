'use strict';
// The parts of a trace file that do not depend on the pool: its options,
// the track ids and names, the document in the
// Chrome Trace Event format (the JSON Object Format that Perfetto, Chrome's
// about:tracing and DevTools' Performance panel open), and the merge of
// several pools' documents into one (npx tasklets trace).

const fs = require('node:fs');
const path = require('node:path');
const errors = require('./errors');
const { isPlainObject, rejectUnknownKeys } = require('./validate');
const { executorName } = require('./executors');

const KEYS = ['capacity', 'path'];
const DEFAULT_CAPACITY = 100000;   // events: about 30,000 tasks, some 20 MB of objects
const MAX_CAPACITY = 1e8;
// Track ids (tid): each pool gets a block, its submissions on the first
// track, executor slot s on the next ones.
const TIDS_PER_POOL = 100000;

// startTrace(options) -> { capacity, path } (path null: nothing written).
function resolveTraceOptions(value, label = 'options') {
  if (value === undefined) value = {};
  if (!isPlainObject(value)) throw errors.optionType(label, 'an object { capacity, path }', value);
  rejectUnknownKeys(value, KEYS, label === 'options' ? '' : `${label}.`);
  let capacity = DEFAULT_CAPACITY;
  if (value.capacity !== undefined) {
    capacity = value.capacity;
    if (typeof capacity !== 'number') throw errors.optionType('capacity', `an integer from 1 to ${MAX_CAPACITY}`, capacity);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw errors.optionRange('capacity', `an integer from 1 to ${MAX_CAPACITY}`, capacity);
    }
  }
  let file = null;
  if (value.path !== undefined) {
    if (typeof value.path !== 'string' || value.path.length === 0) throw errors.optionType('path', 'a non-empty string', value.path);
    file = path.resolve(value.path);
    let dir;
    try {
      dir = fs.statSync(path.dirname(file));
    } catch {
      dir = null;
    }
    if (dir === null || !dir.isDirectory()) throw errors.optionRange('path', 'a file in an existing directory', value.path);
  }
  return { capacity, path: file };
}

function mainTid(poolId) {
  return poolId * TIDS_PER_POOL;
}

function executorTid(poolId, slot) {
  return poolId * TIDS_PER_POOL + 1 + slot;
}

// The 'M' events naming the process and a pool's tracks.
function trackNames(pid, poolId, label, slots) {
  const name = (tid, value, sort) => [
    { ph: 'M', name: 'thread_name', pid, tid, args: { name: value } },
    { ph: 'M', name: 'thread_sort_index', pid, tid, args: { sort_index: sort } },
  ];
  const out = [{ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `node ${pid} (tasklets)` } }];
  out.push(...name(mainTid(poolId), `pool ${label} submissions (main thread)`, mainTid(poolId)));
  for (const slot of [...slots].sort((a, b) => a - b)) {
    out.push(...name(executorTid(poolId, slot), executorName(slot, label), executorTid(poolId, slot)));
  }
  return out;
}

// Several pools' documents (of one process) -> one, with every pool's
// metadata under `pools` and the drop counts summed.
function mergeTraces(documents) {
  const seen = new Set();
  const traceEvents = [];
  for (const doc of documents) {
    for (const e of doc.traceEvents) {
      if (e.ph === 'M') {
        const key = `${e.name}/${e.pid}/${e.tid}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      traceEvents.push(e);
    }
  }
  const pools = documents.map((d) => d.metadata);
  const sum = (key) => pools.reduce((n, m) => n + m[key], 0);
  return {
    traceEvents,
    displayTimeUnit: 'ms',
    metadata: {
      source: 'tasklets', clock: pools.length > 0 ? pools[0].clock : 'monotonic', pid: process.pid,
      droppedEvents: sum('droppedEvents'), droppedTasks: sum('droppedTasks'), recordedTasks: sum('recordedTasks'), pools,
    },
  };
}

function writeTrace(file, document) {
  fs.writeFileSync(file, JSON.stringify(document));
}

module.exports = {
  resolveTraceOptions, mainTid, executorTid, trackNames, mergeTraces, writeTrace,
  DEFAULT_CAPACITY,
};
