'use strict';
// pool.getHealth() on a real pool: the shape of the report, 'healthy' ->
// 'degraded' when more than 10% of the recent tasks failed (with the last
// errors), 'unhealthy' while the queue is full, 'shutdown' after shutdown;
// and the default pool's getHealth().

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { unsupported, sharedCells, waitFor, blocker } = require('./fixtures/control/shared');

const { Tasklets } = tasklets;

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`) || unsupported;

const shared = skip ? null : sharedCells('tasklets-test:health');

function boom(i) {
  const err = new TypeError(`boom ${i}`);
  err.code = 'E_BOOM';
  throw err;
}

function checkShape(health) {
  assert.deepEqual(Object.keys(health).sort(), ['errors', 'latency', 'memory', 'queue', 'reason', 'status', 'workers']);
  assert.equal(typeof health.reason, 'string');
  assert.deepEqual(Object.keys(health.workers).sort(), ['active', 'busy', 'crashed', 'idle', 'max', 'min']);
  assert.deepEqual(Object.keys(health.queue).sort(), ['maxQueue', 'needsDrain', 'pending', 'queued']);
  assert.deepEqual(Object.keys(health.memory).sort(), ['executorHeapLimit', 'heapUsed', 'nativeArenas', 'rss']);
  assert.deepEqual(Object.keys(health.latency).sort(), ['p50', 'p90', 'p99', 'queueWaitP99']);
  assert.deepEqual(Object.keys(health.errors).sort(), ['byCode', 'byCodeTotal', 'failed', 'rate', 'recent', 'settled', 'windowMs']);
  for (const group of ['workers', 'memory', 'latency']) {
    for (const [key, value] of Object.entries(health[group])) {
      assert.equal(typeof value, 'number', `${group}.${key}`);
      assert.ok(value >= 0, `${group}.${key} = ${value}`);
    }
  }
  assert.equal(typeof health.errors.rate, 'number');
  assert.ok(health.errors.rate >= 0 && health.errors.rate <= 1);
  assert.ok(Array.isArray(health.errors.recent));
  assert.equal(typeof health.queue.needsDrain, 'boolean');
}

describe('getHealth', { skip }, () => {
  test('a fresh pool is healthy, with every figure present', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      const health = pool.getHealth();
      checkShape(health);
      assert.equal(health.status, 'healthy');
      assert.equal(health.workers.min, 2);
      assert.equal(health.workers.max, 2);
      assert.equal(health.workers.crashed, 0);
      assert.deepEqual(health.queue, { pending: 0, queued: 0, maxQueue: Infinity, needsDrain: false });
      assert.equal(health.memory.executorHeapLimit, Infinity);
      assert.equal(health.errors.rate, 0);
      assert.equal(health.errors.failed, 0);
      assert.deepEqual(health.errors.recent, []);

      assert.deepEqual(await Promise.all([1, 2, 3].map((x) => pool.run((v) => v + 1, { args: [x] }))), [2, 3, 4]);
      await waitFor(() => pool.getStats().activeWorkers === 2, 'both executors to be up');
      const later = pool.getHealth();
      checkShape(later);
      assert.equal(later.status, 'healthy');
      assert.equal(later.workers.active, 2);
      assert.equal(later.errors.settled, 3);
      assert.equal(later.errors.failed, 0);
      assert.equal(later.errors.rate, 0);
    } finally {
      await pool.shutdown();
    }
  });

  test('more than 10% failures: degraded, with the last errors in recent', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      assert.equal(pool.getHealth().status, 'healthy');
      await Promise.all(Array.from({ length: 10 }, (_, i) => pool.run((x) => x, { args: [i] })));
      const failures = Array.from({ length: 12 }, (_, i) => pool.run(boom, { args: [i] }));
      const outcomes = await Promise.allSettled(failures);
      assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason.code === 'E_BOOM'));
      const failedIds = new Set(failures.map((p) => p.taskId));

      const health = pool.getHealth();
      checkShape(health);
      assert.equal(health.status, 'degraded');
      assert.match(health.reason, /^55% of the tasks settled in the last \d+ s failed \(more than 10%\)$/);
      assert.equal(health.errors.settled, 22);
      assert.equal(health.errors.failed, 12);
      assert.equal(health.errors.rate, 12 / 22);
      assert.ok(health.errors.rate > 0.1);
      const { recent } = health.errors;
      assert.equal(recent.length, 10, 'the last 10 errors are kept');
      const seen = new Set();
      for (const entry of recent) {
        assert.ok(failedIds.has(entry.taskId), `task ${entry.taskId} is one of the failed tasks`);
        assert.ok(!seen.has(entry.taskId), 'each failure once');
        seen.add(entry.taskId);
        assert.equal(entry.code, 'E_BOOM');
        assert.equal(entry.name, 'TypeError');
        assert.match(entry.message, /^boom \d+$/);
        assert.equal(typeof entry.at, 'number');
      }
      // The report is a copy: changing it changes nothing in the pool.
      recent.length = 0;
      assert.equal(pool.getHealth().errors.recent.length, 10);
    } finally {
      await pool.shutdown();
    }
  });

  test('a failure rate at or below 10% stays healthy', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      pool.getHealth();
      await Promise.all(Array.from({ length: 18 }, (_, i) => pool.run((x) => x, { args: [i] })));
      await assert.rejects(pool.run(boom, { args: [1] }), { code: 'E_BOOM' });
      await assert.rejects(pool.run(boom, { args: [2] }), { code: 'E_BOOM' });
      const health = pool.getHealth();
      assert.equal(health.errors.rate, 2 / 20);
      assert.equal(health.status, 'healthy');
      assert.equal(health.reason, 'no rule for another status applies');
      assert.equal(health.errors.recent.length, 2);
      await assert.rejects(pool.run(boom, { args: [3] }), { code: 'E_BOOM' });
      assert.equal(pool.getHealth().status, 'degraded');
    } finally {
      await pool.shutdown();
    }
  });

  test('a full queue is unhealthy; shut down is shutdown', async () => {
    shared.reset();
    const pool = new Tasklets({ workers: 1, maxQueue: 2 });
    const gate = pool.run(blocker, { args: [shared.key] });
    await waitFor(() => shared.started === 1, 'the blocker to start');
    assert.equal(pool.getHealth().status, 'healthy');
    const queued = pool.run((x) => x, { args: ['queued'] });
    const full = pool.getHealth();
    assert.equal(full.status, 'unhealthy');
    assert.equal(full.reason, 'the queue is full (maxQueue 2)');
    assert.equal(full.queue.pending, 2);
    assert.equal(full.queue.needsDrain, true);
    shared.open();
    assert.equal(await gate, 'released');
    assert.equal(await queued, 'queued');
    assert.equal(pool.getHealth().status, 'healthy');
    const closing = pool.shutdown();
    assert.equal(pool.getHealth().status, 'shutdown');
    await closing;
    const closed = pool.getHealth();
    checkShape(closed);
    assert.equal(closed.status, 'shutdown');
    assert.equal(closed.reason, 'shutdown() was called');
  });

  test('the default pool has a health report too', async () => {
    try {
      assert.equal(await tasklets.run(() => 'up'), 'up');
      const health = tasklets.getHealth();
      checkShape(health);
      assert.equal(health.status, 'healthy');
      assert.ok(health.errors.settled >= 1);
    } finally {
      await tasklets.shutdown();
    }
    assert.throws(() => tasklets.getHealth(), { code: 'ERR_POOL_SHUTDOWN' });
  });
});

