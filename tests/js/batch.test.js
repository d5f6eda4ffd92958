'use strict';
// batch (js/batch.js): named tasks on a real pool, outcomes in input order,
// the concurrency limit (counted on the caller side by wrapping run),
// progress reports, and input validation before anything runs.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/pool');
const { batch } = require('../../js/batch');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

// Sleeps `ms` then returns `value`, or throws when value is 'fail'.
async function sleepy(ms, value) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (value === 'fail') throw new Error(`failed after ${ms} ms`);
  return value;
}

// pool.run wrapped to count the tasks in flight and record the options.
function tracking(pool) {
  const t = {
    inFlight: 0,
    maxInFlight: 0,
    calls: [],
    run(fn, options) {
      t.calls.push(options);
      t.inFlight++;
      t.maxInFlight = Math.max(t.maxInFlight, t.inFlight);
      const p = pool.run(fn, options);
      p.then(() => t.inFlight--, () => t.inFlight--);
      return p;
    },
  };
  return t;
}

describe('batch on a real pool', { skip, timeout: 60000 }, () => {
  let pool;
  let run;
  before(() => {
    pool = new Tasklets({ workers: 2 });
    run = (fn, options) => pool.run(fn, options);
  });
  after(() => pool.shutdown());

  test('mixed successes and failures, in input order, default names', async () => {
    const results = await batch(run, [
      { name: 'slow', task: sleepy, args: [60, 'a'] },
      { task: sleepy, args: [0, 'fail'] },
      { name: 'fast', task: (x) => x * 2, args: [21], priority: 'high' },
      { task: () => { throw new TypeError('bad input'); } },
    ]);
    assert.equal(results.length, 4);
    assert.deepEqual(results[0], { name: 'slow', success: true, result: 'a' });
    assert.equal(results[1].name, 'task-1');
    assert.equal(results[1].success, false);
    assert.equal(results[1].error.message, 'failed after 0 ms');
    assert.equal('result' in results[1], false);
    assert.deepEqual(results[2], { name: 'fast', success: true, result: 42 });
    assert.equal(results[3].name, 'task-3');
    assert.equal(results[3].success, false);
    assert.ok(results[3].error instanceof TypeError);
  });

  test('order is the input order when later tasks finish first', async () => {
    const n = 12;
    const configs = Array.from({ length: n }, (_, i) => ({ task: sleepy, args: [(n - i) * 5, i] }));
    const results = await batch(run, configs);
    assert.deepEqual(results.map((r) => r.result), Array.from({ length: n }, (_, i) => i));
    assert.deepEqual(results.map((r) => r.name), Array.from({ length: n }, (_, i) => `task-${i}`));
  });

  test('concurrency: never more than the limit in flight, and the limit is reached', async () => {
    for (const limit of [1, 3]) {
      const t = tracking(pool);
      const configs = Array.from({ length: 9 }, (_, i) => ({ task: sleepy, args: [10, i] }));
      const results = await batch(t.run, configs, { concurrency: limit });
      assert.deepEqual(results.map((r) => r.result), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(t.maxInFlight, limit, `limit ${limit}`);
      assert.equal(t.calls.length, 9);
    }
  });

  test('the default concurrency starts every task at once', async () => {
    const t = tracking(pool);
    const configs = Array.from({ length: 10 }, (_, i) => ({ task: sleepy, args: [10, i] }));
    const promise = batch(t.run, configs);
    assert.equal(t.inFlight, 10, 'all handed to run() before batch returned');
    await promise;
    assert.equal(t.maxInFlight, 10);
  });

  test('only the fields a config gives are passed to run', async () => {
    const t = tracking(pool);
    await batch(t.run, [{ task: () => 1 }, { task: (a) => a, args: [1], priority: 'low' }]);
    assert.deepEqual(t.calls, [{}, { args: [1], priority: 'low' }]);
    const seen = [];
    await batch((fn, o) => { seen.push(o); return Promise.resolve(); }, [{ task: () => 1, timeout: 250 }]);
    assert.deepEqual(seen, [{ timeout: 250 }]);
  });

  test('onProgress: after each task, completed 1..n, failed so far, 100 at the end', async () => {
    const reports = [];
    const configs = [
      { task: sleepy, args: [0, 'ok'] },
      { task: sleepy, args: [20, 'fail'] },
      { task: sleepy, args: [40, 'ok'] },
    ];
    const results = await batch(run, configs, { concurrency: 1, onProgress: (p) => reports.push(p) });
    assert.equal(results.filter((r) => !r.success).length, 1);
    assert.deepEqual(reports, [
      { completed: 1, total: 3, percentage: 33.33, failed: 0 },
      { completed: 2, total: 3, percentage: 66.67, failed: 1 },
      { completed: 3, total: 3, percentage: 100, failed: 1 },
    ]);
  });

  test('onProgress that throws does not break the batch; it is reported as a warning', async () => {
    const warned = new Promise((resolve) => {
      const listener = (warning) => {
        if (!/onProgress threw/.test(warning.message)) return;
        process.off('warning', listener);
        resolve(warning);
      };
      process.on('warning', listener);
    });
    let calls = 0;
    const results = await batch(run, [{ task: () => 1 }, { task: () => 2 }], {
      onProgress: () => {
        calls++;
        throw new Error('progress bar broke');
      },
    });
    assert.deepEqual(results.map((r) => r.result), [1, 2]);
    assert.equal(calls, 2);
    const warning = await warned;
    assert.equal(warning.name, 'TaskletsWarning');
    assert.match(warning.message, /onProgress threw.*progress bar broke/s);
  });

  test('a run that throws synchronously is that task failing', async () => {
    const boom = new Error('sync');
    const results = await batch((fn, o) => (o.args && o.args[0] === 'throw' ? (() => { throw boom; })() : run(fn, o)), [
      { task: (x) => x, args: ['ok'] },
      { task: (x) => x, args: ['throw'] },
    ]);
    assert.deepEqual(results, [{ name: 'task-0', success: true, result: 'ok' }, { name: 'task-1', success: false, error: boom }]);
  });
});

describe('batch validation', () => {
  function never() {
    const calls = [];
    return { calls, run: (...a) => { calls.push(a); return Promise.resolve(); } };
  }

  async function rejectsBad(promise, Class, code, pattern) {
    await assert.rejects(promise, (err) => {
      assert.equal(err.constructor, Class, err.message);
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      return true;
    });
  }

  test('an empty array resolves with [] and reports no progress', async () => {
    const r = never();
    let reports = 0;
    assert.deepEqual(await batch(r.run, [], { onProgress: () => reports++ }), []);
    assert.equal(reports, 0);
    assert.equal(r.calls.length, 0);
  });

  test('bad input rejects (never throws), naming the culprit, before anything runs', async () => {
    const ok = { task: () => 1 };
    const cases = [
      [null, [ok], undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /"run"/],
      ['r', 'not an array', undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /"taskConfigs"/],
      ['r', [ok, ok, ok, { task: 'x' }], undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /"taskConfigs\[3\]\.task"/],
      ['r', [ok, () => 1], undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /"taskConfigs\[1\]"/],
      ['r', [ok, null], undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /"taskConfigs\[1\]"/],
      ['r', [{ task: () => 1, nmae: 'x' }], undefined, TypeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.nmae"/],
      ['r', [{ task: () => 1, name: 5 }], undefined, TypeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.name"/],
      ['r', [{ task: () => 1, args: 5 }], undefined, TypeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.args"/],
      ['r', [{ task: () => 1, priority: 'urgent' }], undefined, RangeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.priority"/],
      ['r', [{ task: () => 1, timeout: 0 }], undefined, RangeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.timeout"/],
      ['r', [{ task: () => 1, timeout: '5' }], undefined, TypeError, 'ERR_INVALID_ARG_VALUE', /"taskConfigs\[0\]\.timeout"/],
      ['r', [ok], 'x', TypeError, 'ERR_INVALID_ARG_TYPE', /"options"/],
      ['r', [ok], { concurrency: 0 }, RangeError, 'ERR_INVALID_ARG_VALUE', /"options\.concurrency"/],
      ['r', [ok], { concurrency: 1.5 }, RangeError, 'ERR_INVALID_ARG_VALUE', /"options\.concurrency"/],
      ['r', [ok], { concurrency: '2' }, TypeError, 'ERR_INVALID_ARG_VALUE', /"options\.concurrency"/],
      ['r', [ok], { onProgress: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', /"options\.onProgress"/],
      ['r', [ok], { parallel: 2 }, TypeError, 'ERR_INVALID_ARG_VALUE', /"options\.parallel"/],
    ];
    for (const [runArg, configs, options, Class, code, pattern] of cases) {
      const r = never();
      let promise;
      assert.doesNotThrow(() => { promise = batch(runArg === 'r' ? r.run : runArg, configs, options); });
      await rejectsBad(promise, Class, code, pattern);
      assert.equal(r.calls.length, 0, `nothing ran for ${pattern}`);
    }
  });

  test('valid edge values are accepted', async () => {
    const r = never();
    const results = await batch(r.run, [{ task: () => 1, name: '', timeout: Infinity }], { concurrency: Infinity, onProgress: undefined });
    assert.deepEqual(results, [{ name: '', success: true, result: undefined }]);
    assert.equal((await batch(r.run, [{ task: () => 1 }], null)).length, 1);
  });
});
