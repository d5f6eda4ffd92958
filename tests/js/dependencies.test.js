'use strict';
// dependsOn: a task waits in the native scheduler until the tasks it names
// succeeded; if one of them fails, is cancelled or times out, it rejects with
// ERR_DEPENDENCY_FAILED (the failed task's id and error attached) without
// running.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dependsOn', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('a dependent starts only after its dependencies succeeded', async () => {
    const order = [];
    const slow = pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return Date.now();
    });
    const quick = pool.run(() => Date.now());
    const dependent = pool.run(() => Date.now(), { dependsOn: [slow, quick.taskId] });
    for (const [name, p] of [['slow', slow], ['quick', quick], ['dependent', dependent]]) p.then((t) => order.push([name, t]));
    const [tSlow, tQuick, tDependent] = await Promise.all([slow, quick, dependent]);
    assert.ok(tDependent >= tSlow && tDependent >= tQuick, `dependent ran at ${tDependent}, before a dependency ended (${tSlow}, ${tQuick})`);
    await sleep(0);
    assert.equal(order.at(-1)[0], 'dependent');
  });

  test('a failed dependency fails its dependents, transitively, with its error as cause; they never run', async () => {
    const before = pool.getStats();
    const failing = pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new RangeError('broken input');
    });
    const child = pool.run(() => 'child', { dependsOn: [failing] });
    const grandchild = pool.run(() => 'grandchild', { dependsOn: [child] });
    await assert.rejects(failing, { name: 'RangeError', message: 'broken input' });
    await assert.rejects(child, (err) => {
      assert.equal(err.code, 'ERR_DEPENDENCY_FAILED');
      assert.equal(err.dependency, failing.taskId);
      assert.equal(err.taskId, child.taskId);
      assert.equal(err.cause.name, 'RangeError');
      assert.equal(err.cause.message, 'broken input');
      return true;
    });
    await assert.rejects(grandchild, (err) => {
      assert.equal(err.code, 'ERR_DEPENDENCY_FAILED');
      assert.equal(err.dependency, child.taskId);
      assert.equal(err.cause.code, 'ERR_DEPENDENCY_FAILED');
      return true;
    });
    const stats = pool.getStats();
    // Neither dependent ran: nothing succeeded, one task failed, two were
    // settled as dependency failures.
    assert.equal(stats.executed - before.executed, 0);
    assert.equal(stats.failed - before.failed, 1);
    assert.equal(stats.dependencyFailed - before.dependencyFailed, 2);
    assert.equal(stats.waiting, 0);
  });

  test('depending on a task that already failed rejects at once; on one that succeeded runs', async () => {
    const failed = pool.run(() => { throw new Error('early'); });
    await assert.rejects(failed, { message: 'early' });
    const ok = pool.run(() => 'ok');
    await ok;
    await assert.rejects(pool.run(() => 1, { dependsOn: [failed] }), (err) => {
      assert.equal(err.code, 'ERR_DEPENDENCY_FAILED');
      assert.equal(err.dependency, failed.taskId);
      assert.equal(err.cause.message, 'early');
      return true;
    });
    assert.equal(await pool.run((x) => x + 1, { args: [41], dependsOn: [ok] }), 42);
  });

  test('a cancelled or timed-out dependency fails its dependents', async () => {
    const waiting = pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }, { timeout: 100 });
    const afterTimeout = pool.run(() => 'x', { dependsOn: [waiting] });
    await assert.rejects(waiting, { code: 'ERR_TASK_TIMEOUT' });
    await assert.rejects(afterTimeout, { code: 'ERR_DEPENDENCY_FAILED', dependency: waiting.taskId });

    const long = pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 'long';
    });
    const child = pool.run(() => 'child', { dependsOn: [long] });
    assert.equal(pool.cancel(child), true, 'a waiting task can be cancelled');
    await assert.rejects(child, { name: 'AbortError', code: 'ABORT_ERR' });
    assert.equal(await long, 'long');
  });

  test('a dependency cancelled while queued keeps its AbortError as the cause of later dependents', async () => {
    const single = new Tasklets({ workers: 1 });
    try {
      const busy = single.run(() => { const end = Date.now() + 200; while (Date.now() < end); });
      const queued = single.run(() => 1);
      assert.equal(single.cancel(queued), true);
      await assert.rejects(queued, { name: 'AbortError' });
      await busy;
      // By now the cancelled task's own completion has arrived as well.
      await single.run(() => 0);
      await assert.rejects(single.run(() => 2, { dependsOn: [queued] }), (err) => {
        assert.equal(err.code, 'ERR_DEPENDENCY_FAILED');
        assert.equal(err.cause.name, 'AbortError');
        return true;
      });
    } finally {
      await single.shutdown();
    }
  });

  test('invalid dependencies are rejected before anything is submitted', async () => {
    const next = pool.run(() => 0);
    await next;
    await assert.rejects(pool.run(() => 1, { dependsOn: [next.taskId + 1000] }), {
      name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"options.dependsOn\[0\]"/,
    });
    await assert.rejects(pool.run(() => 1, { dependsOn: 'x' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(pool.run(() => 1, { dependsOn: [1.5] }), { code: 'ERR_INVALID_ARG_VALUE', message: /dependsOn\[0\]/ });
    await assert.rejects(pool.run(() => 1, { dependsOn: [0] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('a fan-in of many dependencies, and chains, settle every task exactly once', async () => {
    const leaves = Array.from({ length: 200 }, (_, i) => pool.run((x) => x, { args: [i] }));
    const sum = pool.run(() => 'all', { dependsOn: leaves });
    let chain = pool.run(() => 0);
    const links = [chain];
    for (let i = 0; i < 100; i++) {
      chain = pool.run((k) => k, { args: [i + 1], dependsOn: [chain] });
      links.push(chain);
    }
    assert.equal(await sum, 'all');
    const values = await Promise.all(links);
    assert.deepEqual(values, Array.from({ length: 101 }, (_, i) => i));
    assert.equal(pool.getStats().waiting, 0);
    assert.equal(pool.getStats().pending, 0);
  });
});
