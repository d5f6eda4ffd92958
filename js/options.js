'use strict';
// Pool options: validation, defaults and resolution into the plain object the
// addon's createPool takes (addon/protocol.md). Pure functions of their
// inputs (the CPU count is a parameter), so they are tested without threads.
//
// Every mistake throws before anything changes: callers resolve first and
// only then replace their running configuration.

const errors = require('./errors');
const { resolveLogging } = require('./logging');
const { resolveMetrics, sameMetrics } = require('./metrics/options');
const { resolveModules } = require('./module-allow');
const {
  isPlainObject, rejectUnknownKeys, checkOneOf, resolveMs, resolvePositiveMs,
} = require('./validate');

const PLACEMENTS = ['compact', 'scatter', 'numa', 'none'];
const SCALINGS = ['fixed', 'adaptive'];
const TOP_LEVEL_KEYS = ['workers', 'placement', 'timeout', 'logging', 'maxQueue', 'memory', 'metrics', 'functions', 'modules'];
const TIMEOUT_KEYS = ['default', 'perTask'];
const MEMORY_KEYS = ['limit', 'cleanup'];
const CLEANUPS = ['none', 'aggressive'];
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
  maxQueue: Infinity,
  memory: Object.freeze({}),
  functions: Object.freeze({}),
  modules: Object.freeze({}),
});
// maxQueue 'auto': this many unsettled tasks per executor (at workers.max):
// enough to keep every executor busy through a burst, small enough that a
// producer told to wait (ERR_QUEUE_FULL / needsDrain) waits milliseconds,
// not minutes. The default is no limit (Infinity).
const AUTO_QUEUE_PER_WORKER = 1024;
// An executor heap below this cannot even load the executor's code.
const MIN_MEMORY_LIMIT = 16 * 1024 * 1024;
// Above this no machine has the memory (x86-64 and arm64 user space is 128
// TiB), and the native side keeps byte counts in 64-bit integers.
const MAX_MEMORY_LIMIT = 2 ** 47;
const SIZE_FORM = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i;
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const DEFAULT_IDLE_TIMEOUT_MS = 5000;
// The longest idle timeout: what a timer can wait (about 24.8 days).
const MAX_IDLE_TIMEOUT_MS = 2 ** 31 - 1;

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
  if (!Number.isInteger(value) || value < 1 || value > MAX_IDLE_TIMEOUT_MS) {
    throw errors.optionRange('workers.idleTimeout', `a positive integer (milliseconds) up to ${MAX_IDLE_TIMEOUT_MS}`, value);
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
  return resolveMs('timeout', value);
}

// timeout: a number (the default for every task, which a task may override)
// or { default, perTask } (perTask false: tasks may not set their own).
function resolveTaskTimeout(value) {
  if (typeof value === 'number') return { default: resolvePositiveMs('timeout', value), perTask: true };
  if (!isPlainObject(value)) {
    throw errors.optionType('timeout', 'a number of milliseconds, Infinity or an object { default, perTask }', value);
  }
  rejectUnknownKeys(value, TIMEOUT_KEYS, 'timeout.');
  const perTask = value.perTask === undefined ? true : value.perTask;
  if (typeof perTask !== 'boolean') throw errors.optionType('timeout.perTask', 'a boolean', perTask);
  return { default: value.default === undefined ? Infinity : resolvePositiveMs('timeout.default', value.default), perTask };
}

function resolveMaxQueue(value, workersMax) {
  if (value === 'auto') return workersMax * AUTO_QUEUE_PER_WORKER;
  const expected = "a positive integer, Infinity or 'auto'";
  if (typeof value !== 'number') throw errors.optionType('maxQueue', expected, value);
  if (value !== Infinity && (!Number.isInteger(value) || value < 1)) throw errors.optionRange('maxQueue', expected, value);
  return value;
}

// Bytes: a number, or a string such as '512MB', '2GB', '1.5 GB' (binary units).
function resolveBytes(name, value) {
  const expected = "a number of bytes or a size such as '512MB' or '2GB'";
  let bytes;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const match = SIZE_FORM.exec(value);
    if (match === null) throw errors.optionRange(name, expected, value);
    bytes = Number(match[1]) * SIZE_UNITS[(match[2] || 'B').toUpperCase()];
  } else {
    throw errors.optionType(name, expected, value);
  }
  if (!Number.isFinite(bytes) || bytes < MIN_MEMORY_LIMIT || bytes > MAX_MEMORY_LIMIT) {
    throw errors.optionRange(name, `${expected}, from 16MB to 128TB`, value);
  }
  return Math.floor(bytes);
}

function resolveMemory(value) {
  if (!isPlainObject(value)) throw errors.optionType('memory', 'an object { limit, cleanup }', value);
  rejectUnknownKeys(value, MEMORY_KEYS, 'memory.');
  return {
    limit: value.limit === undefined ? Infinity : resolveBytes('memory.limit', value.limit),
    cleanup: value.cleanup === undefined ? 'none' : checkOneOf('memory.cleanup', value.cleanup, CLEANUPS),
  };
}

// functions.cacheSize: how many task functions the main thread keeps
// registered and each executor keeps compiled; the least recently used go
// beyond that (js/functions.js). Enough for any fixed set of task functions;
// a service that makes new sources without end (generated code) stays
// bounded by it.
const DEFAULT_FUNCTION_CACHE = 2048;
const MAX_FUNCTION_CACHE = 1 << 20;
const FUNCTIONS_KEYS = ['cacheSize'];

function resolveFunctions(value) {
  if (!isPlainObject(value)) throw errors.optionType('functions', 'an object { cacheSize }', value);
  rejectUnknownKeys(value, FUNCTIONS_KEYS, 'functions.');
  const size = value.cacheSize;
  if (size === undefined) return { cacheSize: DEFAULT_FUNCTION_CACHE };
  const expected = `an integer from 1 to ${MAX_FUNCTION_CACHE}`;
  if (typeof size !== 'number') throw errors.optionType('functions.cacheSize', expected, size);
  if (!Number.isInteger(size) || size < 1 || size > MAX_FUNCTION_CACHE) throw errors.optionRange('functions.cacheSize', expected, size);
  return { cacheSize: size };
}

// The user's options (merged over `base`, the options given so far) ->
// { options: what to remember, resolved: every figure decided }.
function resolveOptions(user, cpuCount, base = {}) {
  if (user === undefined || user === null) user = {};
  if (!isPlainObject(user)) throw errors.argType('options', 'an object', user);
  rejectUnknownKeys(user, TOP_LEVEL_KEYS, '');
  const options = { ...DEFAULTS, ...base };
  // Own properties only: a polluted Object.prototype must not configure
  // pools (docs/security.md); isPlainObject already refuses any other prototype.
  for (const key of TOP_LEVEL_KEYS) if (Object.hasOwn(user, key) && user[key] !== undefined) options[key] = user[key];
  const resolved = {
    workers: resolveWorkers(options.workers, cpuCount),
    placement: checkOneOf('placement', options.placement, PLACEMENTS),
    timeout: resolveTaskTimeout(options.timeout),
    logging: resolveLogging(options.logging),
    maxQueue: 0,
    memory: resolveMemory(options.memory),
    metrics: resolveMetrics(options.metrics),
    functions: resolveFunctions(options.functions),
    modules: resolveModules(options.modules),
  };
  resolved.maxQueue = resolveMaxQueue(options.maxQueue, resolved.workers.max);
  return { options, resolved };
}

// The object createPool (and resize) takes (addon/protocol.md); `creating`
// adds what only createPool reads. No workerSlots: the runtime makes the
// slots a resize needs when it grows.
function toNativeOptions(resolved, creating = false) {
  const { min, max, scaling, idleTimeout } = resolved.workers;
  const native = {
    min,
    max,
    scaling,
    placement: resolved.placement,
    topology: '',
    idleTimeoutMs: idleTimeout,
    ...NATIVE_TUNING,
    latencyMetrics: resolved.metrics.enabled,
    taskCpuTime: resolved.metrics.enabled && resolved.metrics.taskCpuTime,
  };
  // memory.limit also bounds the native memory held by the arguments of
  // tasks not run yet (createPool only).
  if (creating && Number.isFinite(resolved.memory.limit)) native.argumentMemoryLimit = resolved.memory.limit;
  return native;
}

// What moving a running pool from resolution `a` to `b` takes: 'none'
// (timeout, logging, maxQueue and memory.cleanup live only in JS), 'resize'
// (only the workers changed: the native pool is resized in place) or
// 'replace' (placement, or memory.limit, which is each executor's heap
// limit fixed when it starts, or metrics, fixed for a pool's life: a new
// native pool).
function nativeChange(a, b) {
  if (a.placement !== b.placement || a.memory.limit !== b.memory.limit || !sameMetrics(a.metrics, b.metrics)) return 'replace';
  const x = toNativeOptions(a);
  const y = toNativeOptions(b);
  return Object.keys(x).every((k) => x[k] === y[k]) ? 'none' : 'resize';
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
  nativeChange,
  resolveShutdownOptions,
  PLACEMENTS,
  SCALINGS,
  MAX_WORKERS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_FUNCTION_CACHE,
};
