'use strict';
// Per-task options (run(fn, options), the elements of runAll, map's
// options): validation into plain values. Pure: the pool passes what the
// checks need (its timeout policy, the next task id).

const errors = require('./errors');
const { isPlainObject, checkOneOf, resolvePositiveMs } = require('./validate');

const PRIORITIES = { high: 0, normal: 1, low: 2 };
const PRIORITY_NAMES = Object.keys(PRIORITIES);
const EMPTY = Object.freeze([]);
const MAX_DEPENDENCIES = 1024;

const RUN_KEYS = ['args', 'priority', 'transfer', 'timeout', 'signal', 'onProgress', 'dependsOn'];
const SPEC_KEYS = ['task', 'args', 'priority', 'timeout'];

function readPriority(name, value) {
  return value === undefined ? PRIORITIES.normal : PRIORITIES[checkOneOf(name, value, PRIORITY_NAMES)];
}

// A task's timeout in ms (Infinity: none). `policy` is the pool's resolved
// `timeout` option: { default, perTask }.
function readTimeout(name, value, policy) {
  if (value === undefined) return policy.default;
  if (!policy.perTask) {
    throw errors.optionConflict(
      `The "${name}" option cannot be set per task: the pool was configured with timeout: { perTask: false }.`);
  }
  return resolvePositiveMs(name, value);
}

function readSignal(name, value) {
  if (value === undefined) return undefined;
  // Both listener methods are checked here: the one that removes the
  // pool's listener runs when the task settles, where a missing method
  // could only be reported, not refused.
  if (value === null || typeof value !== 'object' || typeof value.aborted !== 'boolean' ||
      typeof value.addEventListener !== 'function' || typeof value.removeEventListener !== 'function') {
    throw errors.optionType(name, 'an AbortSignal', value);
  }
  return value;
}

// dependsOn: task ids (or the promises run() returned, which carry
// `taskId`) of tasks submitted earlier to the same pool.
function readDependencies(name, value, nextId) {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw errors.optionType(name, 'an array of task ids', value);
  if (value.length > MAX_DEPENDENCIES) {
    throw errors.optionRange(name, `an array of at most ${MAX_DEPENDENCIES} task ids`, value);
  }
  if (value.length === 0) return undefined;
  const ids = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) {
    let id = value[i];
    if (id !== null && typeof id === 'object' && 'taskId' in id) id = id.taskId;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) {
      throw errors.optionType(`${name}[${i}]`, 'a task id (or a promise returned by run())', value[i]);
    }
    if (id >= nextId) {
      throw errors.optionRange(`${name}[${i}]`, `the id of a task already submitted to this pool (ids so far: 1..${nextId - 1})`, id);
    }
    ids[i] = id;
  }
  return ids;
}

// The options of most run() calls, { args: [...] } and nothing else: their
// args array, read without building the full record. undefined otherwise
// (then readRunOptions reads and checks them).
function argsOnly(options) {
  if (!isPlainObject(options)) return undefined;
  const { args } = options;
  if (!Array.isArray(args)) return undefined;
  for (const key in options) if (key !== 'args') return undefined;
  return args;
}

// run(fn, x): is x the task's only argument rather than its options? It is
// unless it is undefined or a plain object ({...} or Object.create(null)):
// run(fn, 5), run(fn, buffer), run(fn, [1, 2]) pass one argument; run(fn,
// { args: [5] }) passes options. (With more than one value after fn, every
// value is an argument; the pool checks that count itself.)
function positionalArgs(x) {
  return x !== undefined && !isPlainObject(x);
}

// run(fn, options) -> { args, priority, transfer, timeout, signal, onProgress, dependsOn }
function readRunOptions(options, policy, nextId) {
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  for (const key in options) if (!RUN_KEYS.includes(key)) throw errors.unknownOption(`options.${key}`, RUN_KEYS);
  const { args, onProgress } = options;
  if (args !== undefined && !Array.isArray(args)) throw errors.optionType('options.args', 'an array', args);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw errors.optionType('options.onProgress', 'a function', onProgress);
  }
  return {
    args: args === undefined ? EMPTY : args,
    priority: readPriority('options.priority', options.priority),
    transfer: options.transfer,
    timeout: readTimeout('options.timeout', options.timeout, policy),
    signal: readSignal('options.signal', options.signal),
    onProgress,
    dependsOn: readDependencies('options.dependsOn', options.dependsOn, nextId),
  };
}

// The usual element of runAll's array: a function, or { task: fn } with
// at most an args array besides. The caller then reads task and args
// itself (no record is built); anything else goes through readSpec.
function isPlainSpec(spec) {
  if (typeof spec === 'function') return true;
  if (!isPlainObject(spec) || typeof spec.task !== 'function') return false;
  if (spec.args !== undefined && !Array.isArray(spec.args)) return false;
  for (const key in spec) if (key !== 'task' && key !== 'args') return false;
  return true;
}

// An element of runAll's array: a function or { task, args, priority, timeout }.
function readSpec(spec, i, policy) {
  if (typeof spec === 'function') return { fn: spec, args: EMPTY, priority: PRIORITIES.normal, timeout: policy.default };
  const label = `tasks[${i}]`;
  if (!isPlainObject(spec)) throw errors.argType(label, 'a function or an object { task, args, priority, timeout }', spec);
  for (const key in spec) if (!SPEC_KEYS.includes(key)) throw errors.unknownOption(`${label}.${key}`, SPEC_KEYS);
  if (typeof spec.task !== 'function' && !isPlainObject(spec.task)) {
    throw errors.argType(`${label}.task`, 'a function or a module task { module, export }', spec.task);
  }
  if (spec.args !== undefined && !Array.isArray(spec.args)) throw errors.optionType(`${label}.args`, 'an array', spec.args);
  return {
    fn: spec.task,
    args: spec.args === undefined ? EMPTY : spec.args,
    priority: readPriority(`${label}.priority`, spec.priority),
    timeout: readTimeout(`${label}.timeout`, spec.timeout, policy),
  };
}

const CANCEL_KEYS = ['force', 'reason'];

// cancel(taskId, { force, reason }) -> { id, force, reason }
function readCancel(taskId, options) {
  const id = taskId !== null && typeof taskId === 'object' && 'taskId' in taskId ? taskId.taskId : taskId;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1) {
    throw errors.argType('taskId', 'a task id (or a promise returned by run())', taskId);
  }
  if (options === undefined) return { id, force: false, reason: undefined };
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  for (const key in options) if (!CANCEL_KEYS.includes(key)) throw errors.unknownOption(`options.${key}`, CANCEL_KEYS);
  if (options.force !== undefined && typeof options.force !== 'boolean') {
    throw errors.optionType('options.force', 'a boolean', options.force);
  }
  return { id, force: options.force === true, reason: options.reason };
}

module.exports = {
  argsOnly,
  positionalArgs,
  isPlainSpec,
  readCancel,
  readRunOptions, readSpec, readPriority, readSignal, readTimeout, PRIORITIES, PRIORITY_NAMES, EMPTY, MAX_DEPENDENCIES,
};
