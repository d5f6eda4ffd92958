'use strict';
// Option validation and resolution (js/options.js): pure, no addon needed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { resolveOptions, toNativeOptions, nativeChange, resolveShutdownOptions } = require('../../js/options');
const { throwsOption } = require('./fixtures/assertions');

const CPUS = 4;
const resolve = (options, base) => resolveOptions(options, CPUS, base).resolved;

test('defaults: one executor per CPU, fixed, numa placement', () => {
  assert.deepEqual(resolve(), {
    workers: { min: 4, max: 4, scaling: 'fixed', idleTimeout: 5000 },
    placement: 'numa',
    timeout: { default: Infinity, perTask: true },
    logging: { level: 'warn', format: 'text', destination: 'stderr' },
    maxQueue: Infinity,
    memory: { limit: Infinity, cleanup: 'none' },
    metrics: { enabled: true, taskCpuTime: false, name: null, timelineIntervalMs: 1000, timelineSamples: 300 },
    functions: { cacheSize: 2048 },
    modules: { allow: null },
  });
});

test('workers forms', () => {
  assert.deepEqual(resolve({ workers: 3 }).workers, { min: 3, max: 3, scaling: 'fixed', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: 'auto' }).workers, { min: 4, max: 4, scaling: 'fixed', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: 'cpu_count * 2' }).workers, { min: 8, max: 8, scaling: 'fixed', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { min: 2, max: 'cpu_count * 2', scaling: 'adaptive' } }).workers,
    { min: 2, max: 8, scaling: 'adaptive', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { max: 'cpu_count*1.5' } }).workers,
    { min: 1, max: 6, scaling: 'adaptive', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { max: 'cpu_count * 0.1' } }).workers.max, 1);
  assert.deepEqual(resolve({ workers: { min: 6 } }).workers, { min: 6, max: 6, scaling: 'adaptive', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { scaling: 'fixed', max: 2 } }).workers, { min: 2, max: 2, scaling: 'fixed', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { scaling: 'fixed' } }).workers, { min: 4, max: 4, scaling: 'fixed', idleTimeout: 5000 });
  assert.deepEqual(resolve({ workers: { min: 1, max: 2, idleTimeout: 50 } }).workers,
    { min: 1, max: 2, scaling: 'adaptive', idleTimeout: 50 });
});

test('the issue example config resolves', () => {
  const r = resolve({ workers: { min: 2, max: 'cpu_count * 2', scaling: 'adaptive' }, timeout: 30000, logging: 'warn', placement: 'numa' });
  assert.deepEqual(r, {
    workers: { min: 2, max: 8, scaling: 'adaptive', idleTimeout: 5000 },
    placement: 'numa',
    timeout: { default: 30000, perTask: true },
    logging: { level: 'warn', format: 'text', destination: 'stderr' },
    maxQueue: Infinity,
    memory: { limit: Infinity, cleanup: 'none' },
    metrics: { enabled: true, taskCpuTime: false, name: null, timelineIntervalMs: 1000, timelineSamples: 300 },
    functions: { cacheSize: 2048 },
    modules: { allow: null },
  });
});

test('invalid workers values', () => {
  throwsOption(() => resolve({ workers: 0 }), RangeError, /^The "workers" option must be an integer from 1 to 1024, 'auto' or 'cpu_count \* N'\. Received type number \(0\)$/);
  throwsOption(() => resolve({ workers: -2 }), RangeError, /"workers" option/);
  throwsOption(() => resolve({ workers: 1.5 }), RangeError, /Received type number \(1\.5\)/);
  throwsOption(() => resolve({ workers: 5000 }), RangeError, /from 1 to 1024/);
  throwsOption(() => resolve({ workers: NaN }), RangeError, /"workers"/);
  throwsOption(() => resolve({ workers: 'many' }), RangeError, /Received type string \('many'\)/);
  throwsOption(() => resolve({ workers: 'cpu_count * 0' }), RangeError, /N > 0/);
  throwsOption(() => resolve({ workers: 'cpu_count * -1' }), RangeError, /"workers"/);
  throwsOption(() => resolve({ workers: true }), TypeError, /^The "workers" option must be a number, 'auto', 'cpu_count \* N' or an object/);
  throwsOption(() => resolve({ workers: [2] }), TypeError, /Received an instance of Array/);
  throwsOption(() => resolve({ workers: { min: 4, max: 2 } }), RangeError,
    /^The "workers.min" option \(4\) must not be greater than "workers.max" \(2\)\.$/);
  throwsOption(() => resolve({ workers: { min: 2, max: 3, scaling: 'fixed' } }), RangeError,
    /"workers.min" option \(2\) must equal "workers.max" \(3\) when "workers.scaling" is 'fixed'/);
  throwsOption(() => resolve({ workers: { min: -1 } }), RangeError, /"workers.min"/);
  throwsOption(() => resolve({ workers: { min: 0 } }), RangeError, /"workers.min"/);
  throwsOption(() => resolve({ workers: { max: 2.5 } }), RangeError, /"workers.max"/);
  throwsOption(() => resolve({ workers: { max: {} } }), TypeError, /"workers.max"/);
  throwsOption(() => resolve({ workers: { scaling: 'elastic' } }), RangeError,
    /^The "workers.scaling" option must be one of 'fixed', 'adaptive'\. Received type string \('elastic'\)$/);
  throwsOption(() => resolve({ workers: { scaling: 1 } }), TypeError, /"workers.scaling"/);
  throwsOption(() => resolve({ workers: { idleTimeout: 0 } }), RangeError, /"workers.idleTimeout" option must be a positive integer/);
  throwsOption(() => resolve({ workers: { idleTimeout: '5s' } }), TypeError, /"workers.idleTimeout"/);
  throwsOption(() => resolve({ workers: { count: 2 } }), TypeError,
    /^The "workers.count" option is not supported \(supported: min, max, scaling, idleTimeout\)\.$/);
});

test('invalid placement, timeout, logging and unknown options', () => {
  throwsOption(() => resolve({ placement: 'spread' }), RangeError,
    /^The "placement" option must be one of 'compact', 'scatter', 'numa', 'none'\. Received type string \('spread'\)$/);
  throwsOption(() => resolve({ placement: null }), TypeError, /"placement".*Received null/);
  throwsOption(() => resolve({ timeout: -1 }), RangeError, /^The "timeout" option must be a non-negative integer \(milliseconds\) or Infinity/);
  throwsOption(() => resolve({ timeout: 0 }), RangeError, /^The "timeout" option must be a positive integer/);
  throwsOption(() => resolve({ timeout: { default: 10, perTask: 'no' } }), TypeError, /^The "timeout.perTask" option must be a boolean/);
  throwsOption(() => resolve({ timeout: { max: 10 } }), TypeError, /^The "timeout.max" option is not supported \(supported: default, perTask\)/);
  throwsOption(() => resolve({ maxQueue: 0 }), RangeError, /^The "maxQueue" option must be a positive integer, Infinity or 'auto'/);
  throwsOption(() => resolve({ maxQueue: '10' }), TypeError, /"maxQueue"/);
  throwsOption(() => resolve({ memory: { limit: 'lots' } }), RangeError, /^The "memory.limit" option must be a number of bytes or a size such as '512MB'/);
  throwsOption(() => resolve({ memory: { limit: 1024 } }), RangeError, /from 16MB to 128TB/);
  throwsOption(() => resolve({ memory: { cleanup: 'sometimes' } }), RangeError, /"memory.cleanup".*'none', 'aggressive'/);
  throwsOption(() => resolve({ memory: 512 }), TypeError, /"memory" option must be an object/);
  throwsOption(() => resolve({ timeout: 1.5 }), RangeError, /"timeout"/);
  throwsOption(() => resolve({ timeout: '30s' }), TypeError, /^The "timeout" option must be a number of milliseconds/);
  throwsOption(() => resolve({ logging: 'verbose' }), RangeError, /'off', 'error', 'warn', 'info', 'debug', 'trace'/);
  throwsOption(() => resolve({ memoryLimit: '2GB' }), TypeError,
    /^The "memoryLimit" option is not supported \(supported: workers, placement, timeout, logging, maxQueue, memory, metrics, functions, modules\)\.$/);
  assert.deepEqual(resolve({ memory: { limit: '512MB', cleanup: 'aggressive' } }).memory, { limit: 512 * 1024 * 1024, cleanup: 'aggressive' });
  assert.equal(resolve({ memory: { limit: '1.5 GB' } }).memory.limit, 1.5 * 1024 ** 3);
  assert.equal(resolve({ maxQueue: 10 }).maxQueue, 10);
  assert.deepEqual(resolve({ functions: { cacheSize: 1 } }).functions, { cacheSize: 1 });
  throwsOption(() => resolve({ functions: { cacheSize: 0 } }), RangeError, /^The "functions.cacheSize" option must be an integer from 1 to 1048576/);
  throwsOption(() => resolve({ functions: { cacheSize: 1.5 } }), RangeError, /"functions.cacheSize"/);
  throwsOption(() => resolve({ functions: { cacheSize: '10' } }), TypeError, /"functions.cacheSize"/);
  throwsOption(() => resolve({ functions: 10 }), TypeError, /"functions" option must be an object/);
  throwsOption(() => resolve({ functions: { size: 10 } }), TypeError, /"functions.size" option is not supported/);
  assert.equal(resolve({ maxQueue: 'auto', workers: 3 }).maxQueue, 3 * 1024);
  assert.deepEqual(resolve({ timeout: { default: 50, perTask: false } }).timeout, { default: 50, perTask: false });
  assert.throws(() => resolve(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"options" argument must be an object/ });
  for (const placement of ['compact', 'scatter', 'numa', 'none']) assert.equal(resolve({ placement }).placement, placement);
  assert.deepEqual(resolve({ timeout: Infinity }).timeout, { default: Infinity, perTask: true });
  assert.equal(resolve({ logging: 'off' }).logging.level, 'off');
  assert.deepEqual(resolve({ logging: { level: 'debug', format: 'json' } }).logging, { level: 'debug', format: 'json', destination: 'stderr' });
});

test('options merge over the previous ones; an error resolves nothing', () => {
  const first = resolveOptions({ workers: 3 }, CPUS);
  const second = resolveOptions({ placement: 'compact' }, CPUS, first.options);
  assert.equal(second.resolved.workers.max, 3);
  assert.equal(second.resolved.placement, 'compact');
  assert.throws(() => resolveOptions({ placement: 'x' }, CPUS, second.options));
  assert.equal(second.options.placement, 'compact');
});

test('native options carry every knob of the protocol', () => {
  const native = toNativeOptions(resolve({ workers: { min: 1, max: 2, idleTimeout: 40 }, placement: 'compact' }));
  assert.deepEqual(Object.keys(native).sort(), [
    'backlogPerWorker', 'growAfterTicks', 'idleTimeoutMs', 'latencyMetrics', 'max', 'min', 'placement', 'scaling',
    'spinRounds', 'taskCpuTime', 'tickUs', 'topology', 'waitThresholdUs', 'yieldRounds',
  ]);
  assert.equal(native.latencyMetrics, true);
  assert.equal(native.taskCpuTime, false);
  assert.equal(toNativeOptions(resolve({ metrics: false })).latencyMetrics, false);
  assert.equal(toNativeOptions(resolve({ metrics: { taskCpuTime: true } })).taskCpuTime, true);
  assert.equal(nativeChange(resolve({ workers: 2 }), resolve({ workers: 2, metrics: false })), 'replace');
  assert.equal(native.idleTimeoutMs, 40);
  assert.equal(native.placement, 'compact');
  assert.equal(native.scaling, 'adaptive');
  assert.equal(nativeChange(resolve({ workers: 2 }), resolve({ workers: 2, timeout: 5 })), 'none');
  assert.equal(nativeChange(resolve({ workers: 2 }), resolve({ workers: 3 })), 'resize');
  assert.equal(nativeChange(resolve({ workers: 2 }), resolve({ workers: 2, placement: 'none' })), 'replace');
});

test('shutdown options', () => {
  assert.deepEqual(resolveShutdownOptions(), { mode: 'drain', timeoutMs: Infinity });
  assert.deepEqual(resolveShutdownOptions({ mode: 'cancel', timeout: 100 }), { mode: 'cancel', timeoutMs: 100 });
  throwsOption(() => resolveShutdownOptions({ mode: 'now' }), RangeError, /"mode" option must be one of 'drain', 'cancel'/);
  throwsOption(() => resolveShutdownOptions({ force: true }), TypeError, /"force" option is not supported/);
});
