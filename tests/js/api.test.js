'use strict';
// The public API on a real pool: run, runAll, map, task ids, async tasks
// with I/O, argument validation, stats, shutdown.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('run', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('resolves with the value, with an increasing taskId on the promise', async () => {
    const a = pool.run((x, y) => x + y, { args: [2, 3] });
    const b = pool.run(() => 'no args');
    assert.equal(typeof a.taskId, 'number');
    assert.ok(b.taskId > a.taskId);
    assert.equal(await a, 5);
    assert.equal(await b, 'no args');
  });

  test('method shorthands, generators and static methods run', async () => {
    const tools = { double(x) { return x * 2; } };
    class Maths { static cube(x) { return x ** 3; } }
    assert.equal(await pool.run(tools.double, { args: [4] }), 8);
    assert.equal(await pool.run(Maths.cube, { args: [3] }), 27);
    assert.deepEqual(await pool.run(function* g() { yield 1; }).catch((e) => e.code), 'ERR_TASK_RESULT_NOT_CLONEABLE');
  });

  test('priorities are accepted', async () => {
    const r = await Promise.all(['high', 'normal', 'low'].map((priority) => pool.run((p) => p, { args: [priority], priority })));
    assert.deepEqual(r, ['high', 'normal', 'low']);
  });

  test('a task that returns a promise doing I/O resolves with its value', async () => {
    const file = path.join(os.tmpdir(), `tasklets-io-${process.pid}.txt`);
    fs.writeFileSync(file, 'read by a task');
    try {
      const viaImport = await pool.run(async (p) => {
        const { readFile } = await import('node:fs/promises');
        return readFile(p, 'utf8');
      }, { args: [file] });
      assert.equal(viaImport, 'read by a task');
      const module = path.join(os.tmpdir(), `tasklets-module-${process.pid}.mjs`);
      fs.writeFileSync(module, 'export const shout = (s) => s.toUpperCase();');
      try {
        const viaFile = await pool.run(async (m, s) => (await import(m)).shout(s), { args: [module, 'module'] });
        assert.equal(viaFile, 'MODULE');
      } finally {
        fs.rmSync(module, { force: true });
      }
      const viaBuiltin = await pool.run((p) => process.getBuiltinModule('node:fs').readFileSync(p, 'utf8').length, { args: [file] });
      assert.equal(viaBuiltin, 14);
      const timers = await pool.run(async (ms) => {
        const start = Date.now();
        await new Promise((resolve) => setTimeout(resolve, ms));
        return Date.now() - start;
      }, { args: [30] });
      assert.ok(timers >= 25, `slept ${timers} ms`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  test('many async tasks in flight on two executors all complete', async () => {
    const r = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      pool.run(async (n) => { await new Promise((resolve) => setTimeout(resolve, 5)); return n; }, { args: [i] })));
    assert.deepEqual(r, Array.from({ length: 200 }, (_, i) => i));
  });

  test('arguments are validated; the promise rejects', async () => {
    await assert.rejects(pool.run(42), {
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "fn" argument must be a function or a module task { module, export }. Received type number (42)',
    });
    await assert.rejects(pool.run('() => 1'), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(pool.run(() => 1, { args: 5 }), {
      name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: 'The "options.args" option must be an array. Received type number (5)',
    });
    await assert.rejects(pool.run(() => 1, { priority: 'urgent' }), {
      name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /^The "options.priority" option must be one of 'high', 'normal', 'low'/,
    });
    await assert.rejects(pool.run(() => 1, { retries: 3 }), {
      name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE',
      message: 'The "options.retries" option is not supported (supported: args, priority, transfer, timeout, signal, onProgress, dependsOn).',
    });
    await assert.rejects(pool.run(class Job {}), { code: 'ERR_INVALID_ARG_VALUE', message: /not a class/ });
    await assert.rejects(pool.run(Math.max), { code: 'ERR_INVALID_ARG_VALUE', message: /native functions/ });
  });

  test('arguments are copied at the call: mutating them afterwards changes nothing', async () => {
    const args = [1, 2];
    const p = pool.run((a, b) => a + b, { args });
    args[0] = 100;
    assert.equal(await p, 3);
  });

  // Up to 16 bytes of packed primitives stay inside the task object
  // (addon/js_task.h, kArgsInline); one byte more is allocated.
  test('small arguments, on both sides of the inline size, arrive exactly', async () => {
    const cases = [
      [], [7], [-1, 2], [1.5], [2 ** 31], [-0], [NaN, 1], [true, false, null], [undefined],
      ['ab'], ['abc'], ['\u{1F600}'], [1, 2, 3], [1n], [-(2n ** 70n)], ['a', 'b'], [1, 'xy'],
    ];
    const echoed = await pool.runAll(cases.map((args) => ({ task: (...a) => a, args })));
    assert.deepEqual(echoed, cases);
    const singles = await Promise.all(cases.map((args) => pool.run((...a) => a, { args })));
    assert.deepEqual(singles, cases);
  });

  test('an argument that is a getter and changes between the check and the packing rejects its task only', async () => {
    const fickle = () => {
      const args = [];
      let reads = 0;
      Object.defineProperty(args, 0, { enumerable: true, get: () => (reads++ === 0 ? 1 : Symbol('late')) });
      return args;
    };
    const before = pool.run((x) => x * 2, { args: [4] });
    const bad = pool.run((x) => x, { args: fickle() });
    const after = pool.run((x) => x * 3, { args: [5] });
    await assert.rejects(bad, { name: 'TypeError', code: 'ERR_TASK_ARG_NOT_CLONEABLE', message: /^args could not be cloned: it holds a symbol/ });
    assert.equal(await before, 8);
    assert.equal(await after, 15);
    await assert.rejects(pool.runAll([{ task: (x) => x, args: fickle() }]), { code: 'ERR_TASK_ARG_NOT_CLONEABLE' });
    assert.equal(pool.getStats().pending, 0);
  });

  test('tasks with small arguments cancelled before they run release everything', async () => {
    const one = new Tasklets({ workers: 1 });
    try {
      const { key, gate } = (() => {
        const k = `inline-cancel-${process.pid}`;
        const sab = new SharedArrayBuffer(4);
        require('node:worker_threads').setEnvironmentData(k, sab);
        return { key: k, gate: new Int32Array(sab) };
      })();
      const blocker = one.run((k) => {
        const { getEnvironmentData } = process.getBuiltinModule('node:worker_threads');
        Atomics.wait(new Int32Array(getEnvironmentData(k)), 0, 0, 30000);
        return 'opened';
      }, { args: [key] });
      const queued = Array.from({ length: 50 }, (_, i) => one.run((a, b) => a + b, { args: [i, 1] }));
      const kept = one.run((a) => a * 2, { args: [21] });
      for (const p of queued) assert.equal(one.cancel(p), true);
      for (const p of queued) await assert.rejects(p, { name: 'AbortError' });
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      assert.equal(await blocker, 'opened');
      assert.equal(await kept, 42);
      assert.equal(one.getStats().argumentBytes, 0);
    } finally {
      await one.shutdown();
    }
  });
});

describe('runAll and map', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('runAll: functions and { task, args } in, results in order', async () => {
    assert.deepEqual(await pool.runAll([() => 1, { task: (x) => x * 2, args: [21] }]), [1, 42]);
    assert.deepEqual(await pool.runAll([]), []);
  });

  test('runAll keeps the order when tasks finish out of order', async () => {
    const tasks = Array.from({ length: 20 }, (_, i) => ({
      task: async (n) => { await new Promise((resolve) => setTimeout(resolve, (20 - n) * 2)); return n; },
      args: [i],
    }));
    assert.deepEqual(await pool.runAll(tasks), Array.from({ length: 20 }, (_, i) => i));
  });

  test('runAll rejects with the first failure', async () => {
    await assert.rejects(pool.runAll([() => 1, () => { throw new RangeError('second task'); }, () => 3]),
      { name: 'RangeError', message: 'second task' });
  });

  test('runAll validates every task before submitting any', async () => {
    await assert.rejects(pool.runAll('nope'), { code: 'ERR_INVALID_ARG_TYPE', message: /"tasks" argument must be an array/ });
    await assert.rejects(pool.runAll([() => 1, 5]), { code: 'ERR_INVALID_ARG_TYPE', message: /"tasks\[1\]" argument must be a function or an object/ });
    await assert.rejects(pool.runAll([{ task: 'x' }]), { code: 'ERR_INVALID_ARG_TYPE', message: /"tasks\[0\].task" argument must be a function/ });
    await assert.rejects(pool.runAll([{ task: () => 1, retries: 2 }]), { code: 'ERR_INVALID_ARG_VALUE', message: /"tasks\[0\].retries" option is not supported/ });
    await assert.rejects(pool.runAll([{ task: (f) => f, args: [1, () => 2] }]), {
      code: 'ERR_TASK_ARG_NOT_CLONEABLE', message: /^tasks\[0\]\.args\[1\] could not be cloned/,
    });
  });

  test('map: chunks, order, indexes, iterables, async functions', async () => {
    assert.deepEqual(await pool.map((x) => x * x, [1, 2, 3], { chunkSize: 2 }), [1, 4, 9]);
    assert.deepEqual(await pool.map((x, i) => `${x}${i}`, ['a', 'b', 'c'], { chunkSize: 1 }), ['a0', 'b1', 'c2']);
    assert.deepEqual(await pool.map((x) => x + 1, new Set([1, 2])), [2, 3]);
    assert.deepEqual(await pool.map(async (x) => x * 2, [1, 2, 3]), [2, 4, 6]);
    assert.deepEqual(await pool.map((x) => x, []), []);
    const items = Array.from({ length: 10000 }, (_, i) => i);
    assert.deepEqual(await pool.map((x) => x * 3, items), items.map((x) => x * 3));
    assert.deepEqual(await pool.map((o) => o.v, [{ v: new Date(5) }], { chunkSize: 7 }), [new Date(5)]);
  });

  test('map rejects with a failing item and validates its input', async () => {
    await assert.rejects(pool.map((x) => { if (x === 3) throw new TypeError('three'); return x; }, [1, 2, 3, 4], { chunkSize: 1 }),
      { name: 'TypeError', message: 'three' });
    await assert.rejects(pool.map((x) => x, 5), { code: 'ERR_INVALID_ARG_TYPE', message: /"items" argument must be an array or an iterable/ });
    await assert.rejects(pool.map((x) => x, [1], { chunkSize: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"options.chunkSize"/ });
    await assert.rejects(pool.map((x) => x, [1], { concurrency: 0 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /"options.concurrency"/ });
    await assert.rejects(pool.map((x) => x, [1], { workers: 2 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"options.workers" option is not supported/ });
    await assert.rejects(pool.map((x) => x, [1, Symbol('s')]), { code: 'ERR_TASK_ARG_NOT_CLONEABLE', message: /^items\[1\] could not be cloned/ });
  });
});

describe('stats and shutdown', { skip }, () => {
  test('getStats: native figures plus pending', async () => {
    const pool = new Tasklets({ workers: 2, placement: 'none' });
    try {
      const p = pool.run(() => 1);
      const stats = pool.getStats();
      assert.equal(stats.pending, 1);
      await p;
      const after = pool.getStats();
      assert.equal(after.pending, 0);
      for (const key of ['placement', 'scaling', 'minWorkers', 'maxWorkers', 'activeWorkers', 'sleepingWorkers',
        'scaleUps', 'scaleDowns', 'queued', 'executed', 'failed', 'cancelled', 'timedOut', 'workers']) {
        assert.ok(key in after, `stats.${key}`);
      }
      assert.equal(after.placement, 'none');
      assert.equal(after.minWorkers, 2);
      assert.equal(after.maxWorkers, 2);
      assert.ok(after.executed >= 1);
      assert.equal(after.workers.length, 2);
      for (const key of ['executed', 'failed', 'stolen', 'parked', 'woken', 'cancelled', 'timedOut']) {
        assert.equal(typeof after.workers[0][key], 'number', `stats.workers[0].${key}`);
      }
      assert.equal(after.workers.reduce((n, w) => n + w.executed, 0), after.executed);
      for (const arena of after.arenas) assert.equal(typeof arena.bindFailures, 'number');
    } finally {
      await pool.shutdown();
    }
  });

  test('drain: queued tasks finish, then new tasks reject with ERR_POOL_SHUTDOWN', async () => {
    const pool = new Tasklets({ workers: 2 });
    const tasks = Array.from({ length: 40 }, (_, i) => pool.run(async (n) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      return n;
    }, { args: [i] }));
    const report = await pool.shutdown();
    assert.deepEqual(report, { timedOut: false, cancelled: 0 });
    assert.deepEqual(await Promise.all(tasks), Array.from({ length: 40 }, (_, i) => i));
    await assert.rejects(pool.run(() => 1), { code: 'ERR_POOL_SHUTDOWN' });
    await assert.rejects(pool.runAll([() => 1]), { code: 'ERR_POOL_SHUTDOWN' });
    assert.equal(await pool.shutdown(), await pool.shutdown(), 'shutdown is idempotent');
  });

  test('cancel: queued tasks reject with ERR_POOL_SHUTDOWN and are counted', async () => {
    const pool = new Tasklets({ workers: 2 });
    const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms; };
    await pool.runAll([() => 0, () => 0]);   // executors booted
    const tasks = Array.from({ length: 60 }, () => pool.run(busy, { args: [10] }));
    const outcomes = Promise.allSettled(tasks);
    await sleep(25);
    const report = await pool.shutdown({ mode: 'cancel' });
    const settled = await outcomes;
    const cancelled = settled.filter((s) => s.status === 'rejected');
    assert.ok(cancelled.length > 0, 'some tasks were cancelled');
    assert.ok(settled.some((s) => s.status === 'fulfilled'), 'the running tasks finished');
    for (const s of cancelled) assert.equal(s.reason.code, 'ERR_POOL_SHUTDOWN');
    assert.equal(report.cancelled, cancelled.length);
  });

  test('a shutdown timeout stops a task that never ends, and cancels the queue', async () => {
    const pool = new Tasklets({ workers: 1 });
    await pool.run(() => 0);
    const stuck = pool.run(() => { for (;;); });
    const queued = pool.run(() => 'never runs');
    const outcomes = Promise.allSettled([stuck, queued]);
    await sleep(30);
    const started = Date.now();
    const report = await pool.shutdown({ timeout: 200 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 3000, `shutdown took ${elapsed} ms`);
    assert.equal(report.cancelled, 1);
    const [s, q] = await outcomes;
    assert.equal(s.reason.code, 'ERR_POOL_SHUTDOWN');
    assert.match(s.reason.message, /still running when the shutdown timeout expired/);
    assert.equal(s.reason.taskId, stuck.taskId);
    assert.equal(q.reason.code, 'ERR_POOL_SHUTDOWN');
    assert.match(q.reason.message, /cancelled because the pool shut down/);
  });

  test('shutdown options are validated', async () => {
    const pool = new Tasklets({ workers: 1 });
    await assert.rejects(pool.shutdown({ mode: 'now' }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(pool.shutdown({ timeout: -5 }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(await pool.run(() => 'still open'), 'still open');
    await pool.shutdown({ timeout: 1000 });
  });
});
