'use strict';
// What users of other pools type first (docs/migration.md): positional
// arguments, runAll settling every task, the 'shutdown' event, terminate(),
// and throughput / mean task time in getStats().

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

describe('habits from other pools', { skip, timeout: 60000 }, () => {
  test('run(fn, a, b, ...) passes positional arguments; one plain object is options', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      assert.equal(await pool.run((a, b) => a + b, 2, 3), 5);
      assert.equal(await pool.run((x) => x * 2, 21), 42);
      assert.deepEqual(await pool.run((...xs) => xs, 'a', { b: 1 }, [2]), ['a', { b: 1 }, [2]]);
      assert.equal(await pool.run((u) => u.byteLength, new Uint8Array(7)), 7);
      assert.deepEqual(await pool.run((list) => list.length, [1, 2, 3]), 3);
      assert.equal(await pool.run((x) => x, null), null);
      assert.equal(await pool.run((x) => x === undefined, undefined, undefined), true);
      assert.equal(await pool.run((d) => d.getTime(), new Date(5)), 5);
      // One plain object after fn is read as options, never as an argument.
      assert.equal(await pool.run((a, b) => a + b, { args: [1, 2] }), 3);
      await assert.rejects(pool.run((o) => o.x, { x: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"options.x"/ });
      assert.equal(await pool.run((o) => o.x, { args: [{ x: 1 }] }), 1);
      // Positional values are checked as args are.
      await assert.rejects(pool.run((f) => f, 1, () => 2), { code: 'ERR_TASK_ARG_NOT_CLONEABLE' });
      // The default pool takes them too.
      assert.equal(await tasklets.run((a, b, c) => a * b * c, 2, 3, 7), 42);
    } finally {
      await pool.shutdown();
    }
  });

  test("runAll(tasks, { settle: 'all' }) resolves with every outcome in place", async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      const outcomes = await pool.runAll([
        () => 1,
        () => { throw new TypeError('bad input'); },
        { task: (x) => x * 2, args: [21] },
        { task: () => new Promise(() => {}), timeout: 50 },
      ], { settle: 'all' });
      assert.equal(outcomes.length, 4);
      assert.deepEqual(outcomes[0], { status: 'fulfilled', value: 1 });
      assert.equal(outcomes[1].status, 'rejected');
      assert.equal(outcomes[1].reason.name, 'TypeError');
      assert.equal(outcomes[1].reason.message, 'bad input');
      assert.deepEqual(outcomes[2], { status: 'fulfilled', value: 42 });
      assert.equal(outcomes[3].status, 'rejected');
      assert.equal(outcomes[3].reason.code, 'ERR_TASK_TIMEOUT');
      // The default mode still rejects at the first failure.
      await assert.rejects(pool.runAll([() => 1, () => { throw new Error('x'); }], { settle: 'fail-fast' }), { message: 'x' });
      assert.deepEqual(await pool.runAll([], { settle: 'all' }), []);
      await assert.rejects(pool.runAll([() => 1], { settle: 'some' }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"options.settle"/ });
      await assert.rejects(pool.runAll([() => 1], { settle: true }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
      // A signal still rejects the whole group, and cancels what is queued.
      const controller = new AbortController();
      const slow = Array.from({ length: 40 }, () => () => new Promise((resolve) => setTimeout(resolve, 20)));
      const aborted = pool.runAll(slow, { settle: 'all', signal: controller.signal });
      controller.abort();
      await assert.rejects(aborted, { name: 'AbortError' });
      assert.equal(await pool.run(() => 'still serving'), 'still serving');
    } finally {
      await pool.shutdown();
    }
  });

  test("a 'shutdown' event, once, when shutdown() or terminate() is called", async () => {
    const pool = new Tasklets({ workers: 1 });
    const seen = [];
    pool.on('shutdown', (info) => seen.push(info));
    await pool.run(() => 1);
    const first = pool.shutdown({ mode: 'drain', timeout: 5000 });
    const again = pool.shutdown();
    assert.deepEqual(seen, [{ mode: 'drain', timeout: 5000 }]);
    assert.equal(first, again);
    await first;
    assert.equal(seen.length, 1);
    // A listener that throws is reported, not thrown into shutdown().
    const other = new Tasklets({ workers: 1, logging: { level: 'off' } });
    other.on('shutdown', () => { throw new Error('listener'); });
    await other.shutdown();
  });

  test('terminate() cancels queued tasks and stops running ones at once', async () => {
    const pool = new Tasklets({ workers: 1 });
    const events = [];
    pool.on('shutdown', (info) => events.push(info.mode));
    let onStarted;
    const started = new Promise((resolve) => { onStarted = resolve; });
    const loop = () => {
      tasklet.progress(1);
      for (;;);
    };
    const running = assert.rejects(pool.run(loop, { onProgress: () => onStarted() }), { code: 'ERR_POOL_SHUTDOWN', message: /still running/ });
    const queued = assert.rejects(pool.run(() => 'never'), { code: 'ERR_POOL_SHUTDOWN', message: /before it ran/ });
    await started;
    const at = Date.now();
    const report = await pool.terminate();
    assert.ok(Date.now() - at < 5000, 'terminate does not wait for the running task');
    assert.deepEqual(events, ['cancel']);
    assert.equal(report.timedOut, true);
    await running;
    await queued;
    await assert.rejects(pool.run(() => 1), { code: 'ERR_POOL_SHUTDOWN' });
  });

  test('getStats() has throughput (settled per second) and meanTaskTime (us)', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      const before = pool.getStats();
      assert.equal(before.throughput, 0);
      assert.equal(before.meanTaskTime, 0);
      const spin = (ms) => {
        const until = Date.now() + ms;
        while (Date.now() < until);
      };
      const started = performance.now();
      await pool.runAll(Array.from({ length: 20 }, () => ({ task: spin, args: [5] })));
      const stats = pool.getStats();
      const upper = 20 / ((performance.now() - started) / 1000);
      assert.ok(stats.throughput > 0 && stats.throughput <= upper * 1.01, `throughput ${stats.throughput}, at most ${upper}`);
      assert.equal(stats.meanTaskTime, stats.runTime.mean);
      assert.ok(stats.meanTaskTime >= 4000 && stats.meanTaskTime < 200000, `mean ${stats.meanTaskTime} us for 5 ms tasks`);
    } finally {
      await pool.shutdown();
    }
  });
});

test('terminate() of the default pool stops it at once, for good', { skip, timeout: 30000 }, async () => {
  const endless = assert.rejects(tasklets.run(() => { for (;;); }), { code: 'ERR_POOL_SHUTDOWN' });
  const report = await tasklets.terminate();
  assert.equal(typeof report.timedOut, 'boolean');
  await endless;
  await assert.rejects(tasklets.run(() => 1), { code: 'ERR_POOL_SHUTDOWN' });
});
