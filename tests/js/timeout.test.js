'use strict';
// Task timeouts on a real pool: run(fn, { timeout }) and the pool's
// `timeout` option ({ default, perTask }). A running task is stopped (a
// synchronous loop is interrupted, its executor kept), a queued one settles
// without running, and an async task's `tasklet.signal` aborts.

const { describe, test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { scaled } = require('./fixtures/time-scale');
const { unsupported, sharedCells, waitFor, eventually, blocker, counted, countedSleep } = require('./fixtures/control/shared');

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`) || unsupported;

const shared = skip ? null : sharedCells('tasklets-test:timeout');

function isTimeout(ms, id) {
  return (err) => {
    assert.equal(err.code, 'ERR_TASK_TIMEOUT');
    assert.ok(err instanceof Error);
    if (ms !== undefined) assert.match(err.message, new RegExp(`\\b${ms} ms\\b`));
    if (id !== undefined) assert.equal(err.taskId, id);
    return true;
  };
}

function spin() {
  for (;;);
}

describe('per-task timeouts', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 1 });
  });
  after(() => pool.shutdown());
  beforeEach(() => shared.reset());

  test('a synchronous infinite loop is stopped; the only executor is kept and runs the next tasks', async () => {
    const before = pool.getStats();
    const looping = pool.run(spin, { timeout: 200 });
    await assert.rejects(looping, isTimeout(200, looping.taskId));
    // One executor: a loop still spinning would block these forever.
    const results = await Promise.all([1, 2, 3].map((x) => pool.run((v) => v * 2, { args: [x] })));
    assert.deepEqual(results, [2, 4, 6]);
    await eventually(() => pool.getStats().timedOut - before.timedOut === 1 && pool.getStats().executed - before.executed === 3);
    const after = pool.getStats();
    assert.equal(after.replacedWorkers, 0);
    assert.equal(after.activeWorkers, 1);
    assert.equal(after.timedOut - before.timedOut, 1);
    assert.equal(after.executed - before.executed, 3);
  });

  test('an async task that never settles times out, and its tasklet.signal aborts with a TimeoutError', async () => {
    // Long enough for the task to reach its listener first, even emulated.
    const limit = scaled(100);
    const before = pool.getStats().timedOut;
    const hanging = pool.run((key) => {
      const cells = new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key));
      const { signal } = tasklet;
      Atomics.store(cells, 5, signal.aborted ? 2 : 1);   // 1: not aborted at the start
      signal.addEventListener('abort', () => {
        Atomics.store(cells, 6, signal.aborted ? 1 : 2);
        Atomics.store(cells, 7, signal.reason && signal.reason.name === 'TimeoutError' ? 1 : 2);
      });
      return new Promise(() => {});
    }, { args: [shared.key], timeout: limit });
    await assert.rejects(hanging, isTimeout(limit, hanging.taskId));
    await waitFor(() => shared.get(6) !== 0, 'the task\'s abort listener to run');
    assert.equal(shared.get(5), 1);
    assert.equal(shared.get(6), 1, 'signal.aborted is true in the listener');
    assert.equal(shared.get(7), 1, 'the reason is a TimeoutError');
    await eventually(() => pool.getStats().timedOut - before === 1);
    assert.equal(pool.getStats().timedOut - before, 1);
    assert.equal(await pool.run(() => 'next'), 'next');
  });

  test('a task waiting on a timer that would finish later times out (and clears its timer on abort)', async () => {
    // A timer left behind would keep the executor's event loop, and so the
    // pool's shutdown, waiting: a well-behaved task clears it on abort.
    const late = pool.run(() => new Promise((resolve) => {
      const timer = setTimeout(() => resolve('too late'), 5000);
      tasklet.signal.addEventListener('abort', () => clearTimeout(timer));
    }), { timeout: 100 });
    await assert.rejects(late, isTimeout(100, late.taskId));
  });

  // The executor runs a task that uses `tasklet` inside
  // AsyncLocalStorage.run(); interrupting it skips run()'s restore, so the
  // killed task's context stays entered, and the next task of the same
  // batch (one that does not mention `tasklet`, so runs outside run())
  // inherits it: its async continuations see the dead task's id.
  test('an interrupted task leaves no tasklet context behind for the next task on its executor', async () => {
    const leaks = [];
    for (let round = 0; round < 8; round++) {
      const killed = pool.run(() => {
        tasklet.signal;   // uses tasklet: runs inside AsyncLocalStorage.run()
        for (;;);
      }, { timeout: 50 });
      const probe = pool.run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        try {
          return globalThis[['task', 'let'].join('')].id;
        } catch {
          return 'no context';
        }
      });
      await assert.rejects(killed, isTimeout(50));
      const seen = await probe;
      if (seen !== 'no context') leaks.push(`task ${probe.taskId} saw the context of task ${seen} (killed: ${killed.taskId})`);
    }
    assert.deepEqual(leaks, []);
  });

  test('a queued task whose timeout passes before it starts settles and never runs', async () => {
    const before = pool.getStats().timedOut;
    const gate = pool.run(blocker, { args: [shared.key] });
    await waitFor(() => shared.started === 1, 'the blocker to start');
    const queued = pool.run(counted, { args: [shared.key, 'ran'], timeout: 100 });
    await assert.rejects(queued, isTimeout(100, queued.taskId));
    assert.equal(shared.ran, 0);
    shared.open();
    assert.equal(await gate, 'released');
    assert.equal(await pool.run(counted, { args: [shared.key, 'later'] }), 'later');
    assert.equal(shared.ran, 1, 'only the later task ran');
    await eventually(() => pool.getStats().timedOut - before === 1);
    assert.equal(pool.getStats().timedOut - before, 1);
  });

  test('a task that finishes within its timeout resolves normally', async () => {
    const before = pool.getStats().timedOut;
    assert.equal(await pool.run(countedSleep, { args: [shared.key, 30], timeout: 10000 }), 30);
    assert.equal(await pool.run(async (x) => x, { args: ['async'], timeout: 10000 }), 'async');
    assert.equal(pool.getStats().timedOut, before);
  });

  test('runAll: a task timing out rejects the group with ERR_TASK_TIMEOUT', async () => {
    const group = pool.runAll([
      { task: (x) => x, args: [1] },
      { task: spin, timeout: 150 },
      { task: (x) => x, args: [3] },
    ]);
    await assert.rejects(group, isTimeout());
    await waitFor(() => pool.getStats().pending === 0, 'the group to settle');
    assert.equal(await pool.run(() => 'alive'), 'alive');
    assert.equal(pool.getStats().replacedWorkers, 0);
  });

  test('a huge timeout (beyond ~9.2e12 ms) means "never", not "at once"', async () => {
    for (const ms of [9e12, 1e13, Number.MAX_SAFE_INTEGER, 1e300]) {
      assert.equal(await pool.run(async (x) => x, { args: [ms], timeout: ms }), ms, `timeout: ${ms}`);
    }
  });

  test('a timeout and a signal together: whichever comes first', async () => {
    const controller = new AbortController();
    const watching = () => new Promise((resolve, reject) => {
      const { signal } = tasklet;
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener('abort', () => reject(signal.reason));
    });
    const aborted = pool.run(watching, { timeout: 10000, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort('first');
    await assert.rejects(aborted, { name: 'AbortError', cause: 'first' });
    const timedOut = pool.run(watching, { timeout: 50, signal: new AbortController().signal });
    await assert.rejects(timedOut, isTimeout(50, timedOut.taskId));
  });

  test('invalid per-task timeouts reject with ERR_INVALID_ARG_VALUE', async () => {
    for (const bad of [0, -1, 1.5, NaN, -Infinity]) {
      await assert.rejects(pool.run(() => 1, { timeout: bad }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.timeout/ });
    }
    for (const bad of ['100', null, {}]) {
      await assert.rejects(pool.run(() => 1, { timeout: bad }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.timeout/ });
    }
    await assert.rejects(pool.runAll([{ task: () => 1, timeout: 0 }]), { code: 'ERR_INVALID_ARG_VALUE', message: /tasks\[0\]\.timeout/ });
    assert.equal(await pool.run(() => 'infinite is fine', { timeout: Infinity }), 'infinite is fine');
    assert.equal(pool.getStats().pending, 0);
  });
});

describe('the pool\'s timeout option', { skip }, () => {
  beforeEach(() => shared.reset());

  test('timeout: <ms> applies to every task without its own', async () => {
    const pool = new Tasklets({ workers: 1, timeout: 150 });
    try {
      assert.deepEqual(pool.options.timeout, { default: 150, perTask: true });
      await assert.rejects(pool.run(spin), isTimeout(undefined));
      await assert.rejects(pool.run(spin, { args: [1] }), isTimeout(150));
      await assert.rejects(pool.runAll([spin]), isTimeout());
      await eventually(() => pool.getStats().timedOut === 3);
      assert.equal(pool.getStats().timedOut, 3);
      // A task's own timeout wins, Infinity included.
      assert.equal(await pool.run(countedSleep, { args: [shared.key, 300], timeout: Infinity }), 300);
      assert.equal(await pool.run(countedSleep, { args: [shared.key, 300], timeout: 20000 }), 300);
      await assert.rejects(pool.run(spin, { timeout: 50 }), isTimeout(50));
      assert.equal(await pool.run(() => 'quick'), 'quick');
      await eventually(() => pool.getStats().timedOut === 4);
      const stats = pool.getStats();
      assert.equal(stats.timedOut, 4);
      assert.equal(stats.replacedWorkers, 0);
    } finally {
      await pool.shutdown();
    }
  });

  test('timeout: { default, perTask: false } forbids per-task timeouts', async () => {
    // The default must not stop the healthy task after the spinning one.
    const limit = scaled(150);
    const pool = new Tasklets({ workers: 1, timeout: { default: limit, perTask: false } });
    try {
      assert.deepEqual(pool.options.timeout, { default: limit, perTask: false });
      await assert.rejects(pool.run(() => 1, { timeout: 10 }), {
        name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.timeout.*perTask: false/,
      });
      await assert.rejects(pool.run(() => 1, { timeout: Infinity }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(pool.runAll([{ task: () => 1, timeout: 10 }]), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
      assert.equal(pool.getStats().pending, 0);
      await assert.rejects(pool.run(spin), isTimeout());
      assert.equal(await pool.run((x) => x, { args: ['fine'] }), 'fine');
      await eventually(() => pool.getStats().timedOut === 1);
      assert.equal(pool.getStats().timedOut, 1);
    } finally {
      await pool.shutdown();
    }
  });

  test('timeout: { perTask: true } without a default means no timeout', async () => {
    const pool = new Tasklets({ workers: 1, timeout: { perTask: true } });
    try {
      assert.deepEqual(pool.options.timeout, { default: Infinity, perTask: true });
      assert.equal(await pool.run(countedSleep, { args: [shared.key, 200] }), 200);
      await assert.rejects(pool.run(spin, { timeout: 100 }), isTimeout(100));
    } finally {
      await pool.shutdown();
    }
  });

  test('invalid pool timeouts are rejected by the constructor', () => {
    for (const bad of [0, -1, 1.5, NaN, { default: 0 }, { default: -5 }, { default: 2.5 }]) {
      assert.throws(() => new Tasklets({ workers: 1, timeout: bad }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }, JSON.stringify(bad));
    }
    for (const bad of ['100', null, true, { perTask: 'no' }, { default: '1' }, { unknown: 1 }]) {
      assert.throws(() => new Tasklets({ workers: 1, timeout: bad }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, JSON.stringify(bad));
    }
  });
});
