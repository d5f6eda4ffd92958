'use strict';
// Pool options: validation, defaults and resolution into the plain object the
// addon's createPool takes (addon/protocol.md). Pure functions of their
// inputs (the CPU count is a parameter), so they are tested without threads.
//
// Every mistake throws before anything changes: callers resolve first and
// only then replace their running configuration.

const errors = require('./errors');

const PLACEMENTS = ['compact', 'scatter', 'numa', 'none'];
const SCALINGS = ['fixed', 'adaptive'];
const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'];
const TOP_LEVEL_KEYS = ['workers', 'placement', 'timeout', 'logging'];
const WORKERS_KEYS = ['min', 'max', 'scaling', 'idleTimeout'];
const SHUTDOWN_KEYS = ['mode', 'timeout'];
const SHUTDOWN_MODES = ['drain', 'cancel'];

// Executors are whole V8 isolates; far more than this is a typo, not a plan.
const MAX_WORKERS = 1024;

const DEFAULTS = Object.freeze({
  workers: 'auto',
  placement: 'numa',
  timeout: Infinity,
  logging: 'warn',
});
const DEFAULT_IDLE_TIMEOUT_MS = 5000;

// Scheduler knobs the addon needs but users do not set. The spin and yield
// rounds are shorter than the native runtime's defaults (256 / 16): an
// executor that spins keeps a core from the main thread, which on a small
// machine is what submits and settles the tasks (measured on 2 cores: p50
// round trip 67 us with 256 / 16, 37 us with 64 / 4, same runAll throughput).
const NATIVE_TUNING = Object.freeze({
  tickUs: 2000,
  backlogPerWorker: 2,
  waitThresholdUs: 1000,
  growAfterTicks: 2,
  spinRounds: 64,
  yieldRounds: 4,
});

const CPU_COUNT_FORM = /^\s*cpu_count\s*\*\s*(\d+(?:\.\d+)?|\.\d+)\s*$/;

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function rejectUnknownKeys(object, known, prefix) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw errors.unknownOption(prefix + key, known);
  }
}

function checkOneOf(name, value, allowed) {
  if (typeof value !== 'string') {
    throw errors.optionType(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  if (!allowed.includes(value)) {
    throw errors.optionRange(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value;
}

// A worker count: an integer 1..MAX_WORKERS, 'auto', or 'cpu_count * N'.
function resolveCount(name, value, cpuCount) {
  const expected = `an integer from 1 to ${MAX_WORKERS}, 'auto' or 'cpu_count * N'`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > MAX_WORKERS) {
      throw errors.optionRange(name, expected, value);
    }
    return value;
  }
  if (typeof value !== 'string') throw errors.optionType(name, expected, value);
  if (value === 'auto') return cpuCount;
  const match = CPU_COUNT_FORM.exec(value);
  if (match === null) throw errors.optionRange(name, expected, value);
  const factor = Number(match[1]);
  if (!(factor > 0)) throw errors.optionRange(name, `${expected} with N > 0`, value);
  return Math.min(MAX_WORKERS, Math.max(1, Math.floor(cpuCount * factor)));
}

function resolveIdleTimeout(value) {
  if (value === undefined) return DEFAULT_IDLE_TIMEOUT_MS;
  if (typeof value !== 'number') throw errors.optionType('workers.idleTimeout', 'a number of milliseconds', value);
  if (!Number.isInteger(value) || value < 1) {
    throw errors.optionRange('workers.idleTimeout', 'a positive integer (milliseconds)', value);
  }
  return value;
}

function resolveWorkersObject(spec, cpuCount) {
  rejectUnknownKeys(spec, WORKERS_KEYS, 'workers.');
  const scaling = spec.scaling === undefined ? 'adaptive' : checkOneOf('workers.scaling', spec.scaling, SCALINGS);
  const idleTimeout = resolveIdleTimeout(spec.idleTimeout);
  const min = spec.min === undefined ? undefined : resolveCount('workers.min', spec.min, cpuCount);
  const max = spec.max === undefined ? undefined : resolveCount('workers.max', spec.max, cpuCount);
  if (scaling === 'fixed') {
    if (min !== undefined && max !== undefined && min !== max) {
      throw errors.optionConflict(
        `The "workers.min" option (${min}) must equal "workers.max" (${max}) when "workers.scaling" is 'fixed'.`);
    }
    const n = min ?? max ?? cpuCount;
    return { min: n, max: n, scaling, idleTimeout };
  }
  const resolvedMin = min ?? 1;
  const resolvedMax = max ?? Math.max(cpuCount, resolvedMin);
  if (resolvedMin > resolvedMax) {
    throw errors.optionConflict(
      `The "workers.min" option (${resolvedMin}) must not be greater than "workers.max" (${resolvedMax}).`);
  }
  return { min: resolvedMin, max: resolvedMax, scaling, idleTimeout };
}

function resolveWorkers(spec, cpuCount) {
  if (typeof spec === 'number' || typeof spec === 'string') {
    const n = resolveCount('workers', spec, cpuCount);
    return { min: n, max: n, scaling: 'fixed', idleTimeout: DEFAULT_IDLE_TIMEOUT_MS };
  }
  if (!isPlainObject(spec)) {
    throw errors.optionType('workers', "a number, 'auto', 'cpu_count * N' or an object { min, max, scaling, idleTimeout }", spec);
  }
  return resolveWorkersObject(spec, cpuCount);
}

function resolveTimeout(value) {
  if (typeof value !== 'number') throw errors.optionType('timeout', 'a number of milliseconds', value);
  if (value !== Infinity && (!Number.isInteger(value) || value < 0)) {
    throw errors.optionRange('timeout', 'a non-negative integer (milliseconds) or Infinity', value);
  }
  return value;
}

// The user's options (merged over `base`, the options given so far) ->
// { options: what to remember, resolved: every figure decided }.
function resolveOptions(user, cpuCount, base = {}) {
  if (user === undefined || user === null) user = {};
  if (!isPlainObject(user)) throw errors.argType('options', 'an object', user);
  rejectUnknownKeys(user, TOP_LEVEL_KEYS, '');
  const options = { ...DEFAULTS, ...base };
  for (const key of TOP_LEVEL_KEYS) if (user[key] !== undefined) options[key] = user[key];
  const resolved = {
    workers: resolveWorkers(options.workers, cpuCount),
    placement: checkOneOf('placement', options.placement, PLACEMENTS),
    timeout: resolveTimeout(options.timeout),
    logging: checkOneOf('logging', options.logging, LOG_LEVELS),
  };
  return { options, resolved };
}

// The object createPool takes (addon/protocol.md).
function toNativeOptions(resolved) {
  const { min, max, scaling, idleTimeout } = resolved.workers;
  return {
    min,
    max,
    scaling,
    placement: resolved.placement,
    topology: '',
    idleTimeoutMs: idleTimeout,
    ...NATIVE_TUNING,
  };
}

// Whether two resolutions need different native pools (timeout and logging
// live only in JS).
function sameNativePool(a, b) {
  const x = toNativeOptions(a);
  const y = toNativeOptions(b);
  return Object.keys(x).every((k) => x[k] === y[k]);
}

function resolveShutdownOptions(user) {
  if (user === undefined || user === null) return { mode: 'drain', timeoutMs: Infinity };
  if (!isPlainObject(user)) throw errors.argType('options', 'an object', user);
  rejectUnknownKeys(user, SHUTDOWN_KEYS, '');
  const mode = user.mode === undefined ? 'drain' : checkOneOf('mode', user.mode, SHUTDOWN_MODES);
  const timeoutMs = user.timeout === undefined ? Infinity : resolveTimeout(user.timeout);
  return { mode, timeoutMs };
}

module.exports = {
  resolveOptions,
  toNativeOptions,
  sameNativePool,
  resolveShutdownOptions,
  isPlainObject,
  rejectUnknownKeys,
  checkOneOf,
  PLACEMENTS,
  SCALINGS,
  LOG_LEVELS,
  MAX_WORKERS,
  DEFAULT_IDLE_TIMEOUT_MS,
};
