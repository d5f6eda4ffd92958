'use strict';
// The package's entry point: the Tasklets class and a default pool behind
// module-level functions. The default pool is created on first use with the
// configuration set by config() (or the defaults).

const { Tasklets, cpuCount, kApplyOptions } = require('./pool');
const { resolveOptions, resolveShutdownOptions } = require('./options');
const errors = require('./errors');
const { readCancel } = require('./task-options');
const { wrapModule } = require('./modules');
const { createLogger } = require('./logging');
const metricsRegistry = require('./metrics/registry');
const { instrumentOpenTelemetry } = require('./otel');
const { CHANNEL } = require('./tracing');
const { dashboard, dashboardHandler } = require('./dashboard');

let configured = resolveOptions({}, cpuCount());  // { options, resolved }
let defaultPool = null;
let closed = false;

function pool() {
  if (closed) throw errors.poolShutdown('The default pool is shut down and accepts no new tasks');
  if (defaultPool === null) defaultPool = new Tasklets(configured.options);
  return defaultPool;
}

// Calls `method` of the default pool, turning a synchronous failure (shut
// down, addon missing) into a rejection like the pool's own errors.
function onDefault(method, args) {
  let target;
  try {
    target = pool();
  } catch (err) {
    return Promise.reject(err);
  }
  return target[method](...args);
}

// Changes the default pool's configuration; only the given options change.
// Throws (and changes nothing) on an invalid option. A running default pool
// takes the new options in place (workers: resized, its tasks kept) unless
// they need another native pool (placement, memory.limit): then it drains its tasks in the background and the
// next task starts a new one.
function config(options) {
  const next = resolveOptions(options, cpuCount(), configured.options);
  if (defaultPool === null || !defaultPool[kApplyOptions](next.resolved)) {
    // The next default pool opens its log when it starts: a destination
    // that cannot be opened fails here (nothing changed yet), not every
    // later run().
    createLogger(next.resolved.logging).close();
    if (defaultPool !== null) {
      const old = defaultPool;
      defaultPool = null;
      old.shutdown().catch((err) => process.emitWarning(`tasklets: replacing the default pool: ${err.message}`, 'TaskletsWarning'));
    }
  }
  configured = next;
  return getConfig();
}

// The default pool's configuration, every 'auto' resolved.
function getConfig() {
  return structuredClone(configured.resolved);
}

function run(fn, ...rest) {
  return onDefault('run', [fn, ...rest]);
}

function runAll(tasks, options) {
  return onDefault('runAll', [tasks, options]);
}

function map(fn, items, options) {
  return onDefault('map', [fn, items, options]);
}

function batch(taskConfigs, options) {
  return onDefault('batch', [taskConfigs, options]);
}

function retry(fn, options) {
  return onDefault('retry', [fn, options]);
}

// Cancels a task of the default pool (see Tasklets#cancel); false when
// there is no default pool yet (nothing to cancel).
function cancel(taskId, options) {
  if (defaultPool === null) {
    readCancel(taskId, options);  // a typo must not pass silently
    return false;
  }
  return defaultPool.cancel(taskId, options);
}

// Bound to the facade's run(), not to one default pool: it keeps working
// when config() replaces the default pool.
function module_(modulePath, options) {
  return wrapModule(run, modulePath, options);
}

function getStats() {
  return pool().getStats();
}

function getHealth() {
  return pool().getHealth();
}

function getTimeline() {
  return pool().getTimeline();
}

// Every live pool's metrics (the default pool's only once it started), in
// the Prometheus text format; each pool's series carry its `pool` label.
function metrics() {
  return metricsRegistry.metricsText();
}

// Shuts the default pool down for good: later tasks reject with
// ERR_POOL_SHUTDOWN.
function shutdown(options) {
  try {
    resolveShutdownOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  closed = true;
  if (defaultPool === null) return Promise.resolve({ timedOut: false, cancelled: 0 });
  return defaultPool.shutdown(options);
}

// shutdown({ mode: 'cancel', timeout: 0 }) of the default pool.
function terminate() {
  return shutdown({ mode: 'cancel', timeout: 0 });
}

module.exports = {
  Tasklets, config, getConfig, run, runAll, map, batch, retry, cancel, module: module_, taskModule: module_,
  getStats, getHealth, getTimeline, shutdown, terminate, AbortError: errors.AbortError,
  metrics, metricsHandler: metricsRegistry.metricsHandler, registerMetrics: metricsRegistry.registerMetrics,
  instrumentOpenTelemetry, tracingChannelName: CHANNEL, dashboard, dashboardHandler,
};
