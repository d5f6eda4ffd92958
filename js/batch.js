'use strict';
// batch(run, taskConfigs, options): runs a list of named tasks, at most
// `concurrency` at a time, and reports each one's outcome instead of failing
// as a whole.
//
//   run(task, { args, priority, timeout }) -> Promise   the pool's run (bound);
//                                       only the keys a config gives are passed
//   taskConfigs  [{ name, task, args, priority, timeout }, ...]
//                name: a string, default `task-<index>`; task: a function
//   options      { onProgress({ completed, total, percentage, failed }), concurrency }
//
// Resolves with one entry per config, in input order whatever the order of
// completion: { name, success: true, result } or { name, success: false, error }.
//
// Invariants:
// - The whole input is validated before the first task starts; invalid input
//   is the only way to reject (ERR_INVALID_ARG_TYPE for a config or its task
//   that has the wrong type, ERR_INVALID_ARG_VALUE for a bad option or field,
//   each naming it: `taskConfigs[3].task`, `options.concurrency`). batch
//   never throws synchronously.
// - Never more than `concurrency` run() promises unsettled at once; tasks
//   start in input order. With the default (Infinity) every task is handed to
//   run() in the same turn, which lets the pool submit them as one batch.
// - onProgress is called once after each task settles, before the next one
//   starts and before the batch resolves: completed goes 1..total, failed
//   counts the failures so far, percentage is completed / total * 100
//   rounded to 2 decimals (100 at the end). An exception it throws (or a
//   promise it returns that rejects) does not affect the batch: it is
//   reported once per batch with process.emitWarning. Not called for an
//   empty batch, which resolves with [].
// - A run() that throws synchronously counts as that task failing.

const errors = require('./errors');
const { isPlainObject, checkOneOf, resolvePositiveMs } = require('./validate');
const { PRIORITY_NAMES } = require('./task-options');

const CONFIG_KEYS = ['name', 'task', 'args', 'priority', 'timeout'];
const OPTION_KEYS = ['onProgress', 'concurrency'];

// One config -> { name, task, options } (options: what run() receives).
function readConfig(config, i) {
  const label = `taskConfigs[${i}]`;
  if (!isPlainObject(config)) throw errors.argType(label, 'an object { name, task, args, priority, timeout }', config);
  for (const key of Object.keys(config)) if (!CONFIG_KEYS.includes(key)) throw errors.unknownOption(`${label}.${key}`, CONFIG_KEYS);
  const { name, task, args, priority, timeout } = config;
  if (typeof task !== 'function' && !(isPlainObject(task) && 'module' in task)) {
    throw errors.argType(`${label}.task`, 'a function or a module task { module, export }', task);
  }
  if (name !== undefined && typeof name !== 'string') throw errors.optionType(`${label}.name`, 'a string', name);
  const options = {};
  if (args !== undefined) {
    if (!Array.isArray(args)) throw errors.optionType(`${label}.args`, 'an array', args);
    options.args = args;
  }
  if (priority !== undefined) options.priority = checkOneOf(`${label}.priority`, priority, PRIORITY_NAMES);
  // The form only; whether the pool allows per-task timeouts is run()'s to say.
  if (timeout !== undefined) options.timeout = resolvePositiveMs(`${label}.timeout`, timeout);
  return { name: name === undefined ? `task-${i}` : name, task, options };
}

function readOptions(options) {
  if (options === undefined || options === null) return { onProgress: undefined, concurrency: Infinity };
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  for (const key of Object.keys(options)) if (!OPTION_KEYS.includes(key)) throw errors.unknownOption(`options.${key}`, OPTION_KEYS);
  const { onProgress, concurrency } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw errors.optionType('options.onProgress', 'a function', onProgress);
  }
  if (concurrency === undefined) return { onProgress, concurrency: Infinity };
  const expected = 'an integer >= 1 or Infinity';
  if (typeof concurrency !== 'number') throw errors.optionType('options.concurrency', expected, concurrency);
  if (concurrency !== Infinity && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw errors.optionRange('options.concurrency', expected, concurrency);
  }
  return { onProgress, concurrency };
}

function batch(run, taskConfigs, options) {
  let configs;
  let onProgress;
  let concurrency;
  try {
    if (typeof run !== 'function') throw errors.argType('run', 'a function', run);
    if (!Array.isArray(taskConfigs)) throw errors.argType('taskConfigs', 'an array', taskConfigs);
    ({ onProgress, concurrency } = readOptions(options));
    // Every index, holes too (map() would skip a hole of a sparse array).
    configs = new Array(taskConfigs.length);
    for (let i = 0; i < configs.length; i++) configs[i] = readConfig(taskConfigs[i], i);
  } catch (err) {
    return Promise.reject(err);
  }
  const total = configs.length;
  if (total === 0) return Promise.resolve([]);

  return new Promise((resolve) => {
    const results = new Array(total);
    let next = 0;
    let inFlight = 0;
    let completed = 0;
    let failed = 0;
    let warned = false;

    function warn(err) {
      if (warned) return;
      warned = true;
      const text = err && err.stack ? err.stack : String(err);
      process.emitWarning(`tasklets batch: onProgress threw (the batch goes on): ${text}`, 'TaskletsWarning');
    }

    function report() {
      if (onProgress === undefined) return;
      const percentage = Math.round((completed / total) * 10000) / 100;
      try {
        const returned = onProgress({ completed, total, percentage, failed });
        if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
          Promise.resolve(returned).catch(warn);
        }
      } catch (err) {
        warn(err);
      }
    }

    function settle(i, entry) {
      results[i] = entry;
      inFlight--;
      completed++;
      if (!entry.success) failed++;
      report();
      if (completed === total) resolve(results);
      else launch();
    }

    function start(i) {
      const { name, task, options: taskOptions } = configs[i];
      inFlight++;
      let promise;
      try {
        promise = run(task, { ...taskOptions });
      } catch (err) {
        promise = Promise.reject(err);
      }
      Promise.resolve(promise).then(
        (result) => settle(i, { name, success: true, result }),
        (error) => settle(i, { name, success: false, error }));
    }

    function launch() {
      while (inFlight < concurrency && next < total) start(next++);
    }

    launch();
  });
}

module.exports = { batch };
