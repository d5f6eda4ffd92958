'use strict';
// Changing a running pool's configuration: workers are resized in place by
// the native runtime (tasks queued and running are kept), JS-only options
// apply at once, and what would need a new native pool is refused with a
// clear error (Tasklets#configure) or handled by a new default pool
// (config()).

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

async function eventually(pred, what, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('configure', { skip }, () => {
  test('workers grow and shrink in place while tasks run; every task settles once with its value', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const spin = (ms, i) => {
        const until = Date.now() + ms;
        while (Date.now() < until);
        return i;
      };
      const inFlight = pool.runAll(Array.from({ length: 60 }, (_, i) => ({ task: spin, args: [5, i] })));
      const resolved = pool.configure({ workers: 2 });
      assert.deepEqual(resolved.workers, { min: 2, max: 2, scaling: 'fixed', idleTimeout: 5000 });
      await eventually(() => pool.getStats().activeWorkers === 2, 'a second executor');
      assert.equal(pool.getStats().maxWorkers, 2);
      const more = pool.runAll(Array.from({ length: 60 }, (_, i) => ({ task: spin, args: [2, i + 60] })));
      pool.configure({ workers: 1 });
      assert.deepEqual(await inFlight, Array.from({ length: 60 }, (_, i) => i));
      assert.deepEqual(await more, Array.from({ length: 60 }, (_, i) => i + 60));
      await eventually(() => pool.getStats().activeWorkers === 1, 'the pool back at one executor');
      const stats = pool.getStats();
      assert.ok(stats.scaleUps >= 1 && stats.scaleDowns >= 1, JSON.stringify({ up: stats.scaleUps, down: stats.scaleDowns }));
      assert.equal(stats.failed, 0);
      assert.equal(stats.replacedWorkers, 0);
      assert.equal(await pool.run(() => 'still serving'), 'still serving');
    } finally {
      await pool.shutdown();
    }
  });

  test('a busy pool grows past the size it was created with, shrinks and grows again; every task settles once', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      const spin = (ms, i) => {
        const until = Date.now() + ms;
        while (Date.now() < until);
        return i;
      };
      const wave = (from, n, ms) => pool.runAll(Array.from({ length: n }, (_, i) => ({ task: spin, args: [ms, from + i] })));
      const first = wave(0, 80, 3);
      assert.equal(pool.configure({ workers: { max: 6 } }).workers.max, 6);
      await eventually(() => pool.getStats().activeWorkers === 6, 'six executors');
      assert.equal(pool.getStats().workers.length, 6);
      const second = wave(80, 80, 2);
      pool.configure({ workers: 1 });
      const third = wave(160, 40, 1);
      pool.configure({ workers: { min: 1, max: 8, scaling: 'adaptive' } });
      pool.configure({ workers: 8 });
      const fourth = wave(200, 80, 1);
      const values = [...await first, ...await second, ...await third, ...await fourth];
      assert.deepEqual(values, Array.from({ length: 280 }, (_, i) => i));
      await eventually(() => pool.getStats().workers.filter((w) => w.running).length === 8, 'eight executors serving');
      const stats = pool.getStats();
      assert.equal(stats.executed, 280);
      assert.equal(stats.failed, 0);
      assert.equal(stats.workers.length, 8);
      assert.equal(stats.replacedWorkers, 0);
    } finally {
      await pool.shutdown();
    }
  });

  test('JS-only options apply at once; impossible changes throw and change nothing', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      pool.configure({ timeout: 100, maxQueue: 5 });
      assert.deepEqual(pool.options.timeout, { default: 100, perTask: true });
      assert.equal(pool.options.maxQueue, 5);
      await assert.rejects(pool.run(() => new Promise(() => {})), { code: 'ERR_TASK_TIMEOUT', message: /100 ms/ });
      const before = pool.options;
      assert.throws(() => pool.configure({ placement: 'none' }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"placement"/ });
      assert.throws(() => pool.configure({ workers: 1025 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"workers"/ });
      assert.throws(() => pool.configure({ workers: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => pool.configure({ tiemout: 5 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"tiemout" option is not supported/ });
      assert.deepEqual(pool.options, before, 'a refused change changes nothing');
      assert.equal(pool.getStats().maxWorkers, 1);
    } finally {
      await pool.shutdown();
    }
    assert.throws(() => pool.configure({ workers: 2 }), { code: 'ERR_POOL_SHUTDOWN' });
  });

  test('config() resizes the running default pool in place (same pool, tasks kept)', async () => {
    tasklets.config({ workers: 1 });
    const first = tasklets.run(() => 1);
    await first;
    const executedBefore = tasklets.getStats().executed;
    tasklets.config({ workers: { min: 1, max: 2, scaling: 'adaptive' } });
    const stats = tasklets.getStats();
    assert.equal(stats.executed, executedBefore, 'the same native pool (its counters kept)');
    assert.equal(stats.scaling, 'adaptive');
    assert.equal(stats.maxWorkers, 2);
    assert.equal(await tasklets.run((x) => x * 2, { args: [21] }), 42);
    tasklets.config({ placement: 'none' });   // needs a new native pool
    assert.equal(await tasklets.run(() => 'new pool'), 'new pool');
    assert.equal(tasklets.getStats().executed, 1, 'a new native pool counts from zero');
    await tasklets.shutdown();
  });
});
