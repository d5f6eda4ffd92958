'use strict';
// The module-level functions over the default pool, in the parts that need
// no executor: configuration and its errors, and the shut-down state.

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const tasklets = require('../../js/index');

test('exports', () => {
  assert.deepEqual(Object.keys(tasklets).sort(),
    ['AbortError', 'Tasklets', 'batch', 'cancel', 'config', 'dashboard', 'dashboardHandler', 'getConfig', 'getHealth', 'getStats', 'getTimeline',
      'instrumentOpenTelemetry', 'map', 'metrics', 'metricsHandler', 'module', 'registerMetrics', 'retry', 'run', 'runAll',
      'shutdown', 'taskModule', 'terminate', 'tracingChannelName']);
});

test('config resolves, merges and returns the configuration', () => {
  const cpus = os.availableParallelism();
  assert.deepEqual(tasklets.getConfig().workers, { min: cpus, max: cpus, scaling: 'fixed', idleTimeout: 5000 });
  const c = tasklets.config({ workers: { min: 1, max: 'cpu_count * 2', scaling: 'adaptive' }, timeout: 30000, logging: 'warn', placement: 'numa' });
  assert.deepEqual(c, {
    workers: { min: 1, max: cpus * 2, scaling: 'adaptive', idleTimeout: 5000 }, placement: 'numa',
    timeout: { default: 30000, perTask: true }, logging: { level: 'warn', format: 'text', destination: 'stderr' }, maxQueue: Infinity,
    memory: { limit: Infinity, cleanup: 'none' },
    metrics: { enabled: true, taskCpuTime: false, name: null, timelineIntervalMs: 1000, timelineSamples: 300 },
    functions: { cacheSize: 2048 },
    modules: { allow: null },
  });
  tasklets.config({ placement: 'compact' });
  assert.equal(tasklets.getConfig().placement, 'compact');
  assert.equal(tasklets.getConfig().workers.max, cpus * 2, 'options not given are kept');
});

test('an invalid config throws and leaves the configuration as it was', () => {
  const before = tasklets.getConfig();
  assert.throws(() => tasklets.config({ placement: 'numa', workers: { min: 5, max: 2 } }),
    { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"workers.min"/ });
  assert.throws(() => tasklets.config({ logging: 'loud' }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"logging"/ });
  assert.throws(() => tasklets.config({ timeout: -1 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"timeout"/ });
  assert.throws(() => tasklets.config({ memory: { limit: 'lots' } }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"memory.limit"/ });
  assert.throws(() => tasklets.config({ limits: {} }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /"limits" option is not supported/ });
  assert.throws(() => tasklets.config('fast'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.deepEqual(tasklets.getConfig(), before);
});

test('after shutdown, the default pool takes no more tasks', async () => {
  await assert.rejects(tasklets.shutdown({ mode: 'later' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.deepEqual(await tasklets.shutdown(), { timedOut: false, cancelled: 0 });
  await assert.rejects(tasklets.run(() => 1), { code: 'ERR_POOL_SHUTDOWN', message: /default pool is shut down/ });
  await assert.rejects(tasklets.runAll([() => 1]), { code: 'ERR_POOL_SHUTDOWN' });
  await assert.rejects(tasklets.map((x) => x, [1]), { code: 'ERR_POOL_SHUTDOWN' });
  assert.throws(() => tasklets.getStats(), { code: 'ERR_POOL_SHUTDOWN' });
});
