'use strict';
// Backpressure on a real pool: maxQueue bounds the backlog (tasks submitted
// and not settled); past it run/runAll/map reject with ERR_QUEUE_FULL and
// submit nothing, `needsDrain` turns true, and a 'drain' event says when the
// backlog fell below the limit again.

const { describe, test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { once } = require('node:events');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { unsupported, sharedCells, waitFor, blocker, counted } = require('./fixtures/control/shared');

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`) || unsupported;

const shared = skip ? null : sharedCells('tasklets-test:backpressure');

const isQueueFull = (max) => (err) => {
  assert.equal(err.code, 'ERR_QUEUE_FULL');
  assert.ok(err instanceof Error);
  assert.match(err.message, new RegExp(`maxQueue \\(${max}\\)`));
  return true;
};

// Resolves when `emitter` emits 'drain', rejects after `ms`.
function drainWithin(emitter, ms = 10000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no 'drain' within ${ms} ms`)), ms);
  return once(emitter, 'drain', { signal: ac.signal }).finally(() => clearTimeout(timer));
}

describe('maxQueue', { skip }, () => {
  let pool;
  let drains = 0;
  before(() => {
    pool = new Tasklets({ workers: 1, maxQueue: 5 });
    pool.on('drain', () => drains++);
  });
  after(() => pool.shutdown());
  beforeEach(() => {
    shared.reset();
    drains = 0;
  });

  // A blocker and `n - 1` counted tasks: `n` pending, none of the counted run.
  async function fill(n) {
    const gate = pool.run(blocker, { args: [shared.key] });
    await waitFor(() => shared.started === 1, 'the blocker to start');
    const queued = Array.from({ length: n - 1 }, (_, i) => pool.run(counted, { args: [shared.key, i] }));
    return { gate, queued };
  }

  test('the options: maxQueue as given, needsDrain false on a fresh pool', () => {
    assert.equal(pool.options.maxQueue, 5);
    assert.equal(pool.needsDrain, false);
    const stats = pool.getStats();
    assert.equal(stats.maxQueue, 5);
    assert.equal(stats.needsDrain, false);
  });

  test('with 5 pending the 6th task is rejected with ERR_QUEUE_FULL; drain comes once the backlog falls below 5', async () => {
    const { gate, queued } = await fill(5);
    assert.equal(pool.getStats().pending, 5);
    assert.equal(pool.needsDrain, true);
    assert.equal(pool.getStats().needsDrain, true);

    await assert.rejects(pool.run(counted, { args: [shared.key, 'sixth'] }), isQueueFull(5));
    await assert.rejects(pool.runAll([{ task: counted, args: [shared.key, 'group'] }]), isQueueFull(5));
    await assert.rejects(pool.map((x) => x, [1, 2]), isQueueFull(5));
    assert.equal(pool.getStats().pending, 5, 'nothing was submitted');
    assert.equal(drains, 0);

    const drained = drainWithin(pool);
    shared.open();
    await drained;
    assert.equal(pool.needsDrain, false);
    assert.ok(pool.getStats().pending < 5);

    assert.equal(await gate, 'released');
    assert.deepEqual(await Promise.all(queued), [0, 1, 2, 3]);
    assert.equal(await pool.run(counted, { args: [shared.key, 'after'] }), 'after');
    assert.equal(shared.ran, 5, 'the 4 queued tasks and the one after: none of the rejected ones');
    assert.equal(drains, 1, 'one drain per time the limit was reached');
  });

  test('cancelling a queued task makes room at once', async () => {
    const { gate, queued } = await fill(5);
    assert.equal(pool.needsDrain, true);
    const drained = drainWithin(pool);
    assert.equal(pool.cancel(queued[3]), true);
    await drained;
    assert.equal(drains, 1);
    assert.equal(pool.needsDrain, false);
    await assert.rejects(queued[3], { name: 'AbortError' });
    // Room for one more while the blocker still runs.
    const extra = pool.run(counted, { args: [shared.key, 'extra'] });
    assert.equal(pool.needsDrain, true);
    await assert.rejects(pool.run(() => 'one too many'), isQueueFull(5));
    shared.open();
    assert.equal(await gate, 'released');
    assert.deepEqual(await Promise.all([...queued.slice(0, 3), extra]), [0, 1, 2, 'extra']);
    assert.equal(shared.ran, 4);
  });

  test('a runAll larger than the room left rejects and submits none of its tasks', async () => {
    const { gate, queued } = await fill(3);
    const tasks = [0, 1, 2].map((i) => ({ task: counted, args: [shared.key, `group ${i}`] }));
    await assert.rejects(pool.runAll(tasks), isQueueFull(5));
    assert.equal(pool.getStats().pending, 3);
    // Exactly the room left fits.
    const group = pool.runAll(tasks.slice(0, 2));
    assert.equal(pool.getStats().pending, 5);
    shared.open();
    assert.equal(await gate, 'released');
    assert.deepEqual(await Promise.all(queued), [0, 1]);
    assert.deepEqual(await group, ['group 0', 'group 1']);
    assert.equal(shared.ran, 4, 'two queued tasks and the group of two');
  });

  test('getHealth says unhealthy while the queue is full, healthy after the drain', async () => {
    const { gate, queued } = await fill(5);
    const health = pool.getHealth();
    assert.equal(health.status, 'unhealthy');
    assert.equal(health.queue.needsDrain, true);
    assert.equal(health.queue.pending, 5);
    assert.equal(health.queue.maxQueue, 5);
    shared.open();
    await Promise.all([gate, ...queued]);
    assert.equal(pool.getHealth().status, 'healthy');
  });

  test('a submission that can never fit does not leave the pool waiting for a drain that never comes', async () => {
    const idle = new Tasklets({ workers: 1, maxQueue: 5 });
    try {
      const six = Array.from({ length: 6 }, (_, i) => ({ task: (x) => x, args: [i] }));
      await assert.rejects(idle.runAll(six), isQueueFull(5));
      await assert.rejects(idle.map((x) => x, [1, 2, 3, 4, 5, 6], { chunkSize: 1 }), isQueueFull(5));
      assert.equal(idle.getStats().pending, 0);
      // Nothing is pending, so nothing will settle: needsDrain must not be
      // set, or a 'drain' must still come.
      if (idle.needsDrain) await drainWithin(idle, 2000);
      assert.equal(idle.needsDrain, false);
      assert.equal(idle.getHealth().status, 'healthy');
    } finally {
      await idle.shutdown();
    }
  });

  test('a run rejected for a bad argument does not count toward the backlog', async () => {
    const small = new Tasklets({ workers: 1, maxQueue: 2 });
    try {
      const gate = small.run(blocker, { args: [shared.key] });
      await waitFor(() => shared.started === 1, 'the blocker to start');
      await assert.rejects(small.run((x) => x, { args: [Symbol('not cloneable')] }), { code: 'ERR_TASK_ARG_NOT_CLONEABLE' });
      assert.equal(small.getStats().pending, 1);
      assert.equal(small.needsDrain, false, 'only 1 of 2 pending');
      assert.equal(small.getHealth().status, 'healthy');
    } finally {
      shared.open();
      await small.shutdown();
    }
  });
});

describe('maxQueue option values', { skip }, () => {
  test('the default is no limit; \'auto\' resolves to a number per executor', async () => {
    const unlimited = new Tasklets({ workers: 1 });
    const auto = new Tasklets({ workers: 2, maxQueue: 'auto' });
    try {
      assert.equal(unlimited.options.maxQueue, Infinity);
      const max = auto.options.maxQueue;
      assert.equal(typeof max, 'number');
      assert.ok(Number.isInteger(max) && max >= 2, String(max));
      assert.equal(max, 2 * 1024);
      assert.equal(auto.getStats().maxQueue, max);
      // Far more tasks than one executor's share of a bounded queue: no limit.
      const results = await unlimited.runAll(Array.from({ length: 3000 }, (_, i) => ({ task: (x) => x, args: [i] })));
      assert.equal(results.length, 3000);
      assert.equal(results[2999], 2999);
      assert.equal(unlimited.needsDrain, false);
    } finally {
      await Promise.all([unlimited.shutdown(), auto.shutdown()]);
    }
  });

  test('invalid values are rejected by the constructor', () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      assert.throws(() => new Tasklets({ workers: 1, maxQueue: bad }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /maxQueue/ });
    }
    for (const bad of ['x', '5', null, {}]) {
      assert.throws(() => new Tasklets({ workers: 1, maxQueue: bad }), { code: 'ERR_INVALID_ARG_VALUE', message: /maxQueue/ });
    }
  });
});
