'use strict';
// Module tasks on a real pool: run({ module, export }), runAll with module
// tasks, pool.module(path) (relative paths are resolved from this file),
// CommonJS and ES modules, `tasklet` inside module code, one evaluation per
// executor, and the errors (missing file, export not a function, a module
// that throws while loading). Also batch() and retry() on a real pool.

const { describe, test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { unsupported, sharedCells, waitFor } = require('./fixtures/control/shared');

const { Tasklets } = tasklets;

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`) || unsupported;

const shared = skip ? null : sharedCells('tasklets-test:module-tasks');

const CONTROL = path.join(__dirname, 'fixtures', 'control');
const OPS_CJS = path.join(CONTROL, 'ops.cjs');
const OPS_MJS = path.join(CONTROL, 'ops.mjs');
const FLAKY = path.join(CONTROL, 'flaky-load.cjs');
const BROKEN = path.join(__dirname, 'fixtures', 'broken.cjs');

describe('module tasks', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('run({ module, export }) with an absolute path, a file: URL and a relative path', async () => {
    assert.equal(await pool.run({ module: OPS_CJS, export: 'add' }, { args: [1, 2] }), 3);
    assert.equal(await pool.run({ module: pathToFileURL(OPS_CJS).href, export: 'add' }, { args: [2, 2] }), 4);
    assert.equal(await pool.run({ module: pathToFileURL(OPS_MJS), export: 'join' }, { args: ['a', 'b'] }), 'a-b');
    // Relative to this file, not to the working directory.
    assert.equal(await pool.run({ module: './fixtures/control/ops.cjs', export: 'add' }, { args: [5, 6] }), 11);
    assert.equal(await pool.run({ module: './fixtures/control/ops.mjs', export: 'join' }, { args: [1, 2] }), '1-2');
  });

  test('the export defaults to the ES module\'s default export', async () => {
    assert.equal(await pool.run({ module: OPS_MJS }, { args: [5] }), -5);
    assert.equal(await pool.run({ module: OPS_MJS, export: 'default' }, { args: [-2] }), 2);
  });

  test('runAll mixes module tasks and functions, results in order', async () => {
    const results = await pool.runAll([
      { task: { module: OPS_CJS, export: 'add' }, args: [3, 4] },
      { task: { module: './fixtures/control/ops.mjs', export: 'join' }, args: ['x', 'y'] },
      { task: (x) => x * 3, args: [3] },
      { task: { module: OPS_MJS }, args: [7] },
    ]);
    assert.deepEqual(results, [7, 'x-y', 9, -7]);
  });

  test('pool.module(path) returns an object whose methods run the exports', async () => {
    const ops = pool.module('./fixtures/control/ops.mjs');
    assert.equal(await ops.join('p', 'q'), 'p-q');
    assert.equal(await ops.default(9), -9);
    assert.equal(String(ops), `[TaskModule ${OPS_MJS}]`);
    // Awaiting it gives the object itself (it is not a thenable).
    const awaited = await pool.module(OPS_CJS);
    assert.equal(await awaited.add(20, 22), 42);
    const calls = await Promise.all([1, 2, 3].map((x) => awaited.add(x, x)));
    assert.deepEqual(calls, [2, 4, 6]);
  });

  test('pool.module(path, { timeout }) passes the option to every call', async () => {
    const ops = pool.module(OPS_CJS, { timeout: 100 });
    await assert.rejects(ops.waitForAbort(), { code: 'ERR_TASK_TIMEOUT' });
    assert.equal(await ops.add(1, 1), 2);
    assert.throws(() => pool.module(OPS_CJS, { signal: AbortSignal.abort() }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('module code can use tasklet: id, progress and signal', async () => {
    const events = [];
    const promise = pool.run({ module: OPS_CJS, export: 'steps' }, { args: [3], onProgress: (e) => events.push(e) });
    assert.equal(await promise, promise.taskId);
    assert.deepEqual(events.map((e) => [e.taskId, e.percent, e.detail]), [
      [promise.taskId, 100 / 3, 'step 1'],
      [promise.taskId, 200 / 3, 'step 2'],
      [promise.taskId, 100, 'step 3'],
    ]);

    const who = pool.run({ module: OPS_MJS, export: 'whoAmI' });
    assert.deepEqual(await who, { id: who.taskId, aborted: false });

    const waiting = pool.run({ module: OPS_CJS, export: 'waitForAbort' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Cancelled whether it is still loading or already waiting.
    assert.equal(pool.cancel(waiting, { reason: 'stop' }), true);
    await assert.rejects(waiting, { name: 'AbortError', code: 'ABORT_ERR' });
  });

  test('a module is evaluated once per executor', async () => {
    const counts = await Promise.all(Array.from({ length: 40 }, () => pool.run({ module: OPS_CJS, export: 'evaluations' })));
    assert.equal(counts.length, 40);
    assert.ok(counts.every((n) => n === 1), `evaluations seen: ${[...new Set(counts)]}`);
  });

  test('a task\'s own error comes back with its class, code and taskId', async () => {
    const failing = pool.run({ module: OPS_CJS, export: 'fail' }, { args: ['module says no'] });
    await assert.rejects(failing, (err) => {
      assert.ok(err instanceof RangeError);
      assert.equal(err.code, 'E_CONTROL_FIXTURE');
      assert.equal(err.message, 'module says no');
      assert.equal(err.taskId, failing.taskId);
      return true;
    });
  });

  test('a missing module file rejects with a RangeError ERR_INVALID_ARG_VALUE, nothing submitted', async () => {
    const missing = pool.run({ module: path.join(CONTROL, 'nope.cjs'), export: 'add' });
    assert.equal(missing.taskId, undefined);
    await assert.rejects(missing, { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /does not exist: .*nope\.cjs/ });
    await assert.rejects(pool.run({ module: './fixtures/control/nope.mjs' }), {
      name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', message: /does not exist/,
    });
    await assert.rejects(pool.runAll([{ task: { module: path.join(CONTROL, 'nope.cjs') } }]), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => pool.module('./fixtures/control/nope.cjs'), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(pool.getStats().pending, 0);
  });

  test('an export that is not a function rejects with a TypeError from the executor', async () => {
    const notFn = pool.run({ module: OPS_CJS, export: 'limit' });
    await assert.rejects(notFn, (err) => {
      assert.ok(err instanceof TypeError);
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(err.message, /'limit'.*not a function.*number 7/);
      assert.equal(err.taskId, notFn.taskId);
      return true;
    });
    await assert.rejects(pool.run({ module: OPS_MJS, export: 'missing' }), {
      name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /'missing'.*no such export/,
    });
    await assert.rejects(pool.module(OPS_CJS).nothingHere(), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('module specs are validated', async () => {
    await assert.rejects(pool.run({ module: OPS_CJS, export: 5 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(pool.run({ module: OPS_CJS, exports: 'add' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(pool.run({ export: 'add' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(pool.run({ name: 'add' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('module tasks: loading failures', { skip }, () => {
  test('a module that throws while loading rejects the task; a later load that works runs', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const first = pool.run({ module: FLAKY, export: 'loads' });
      await assert.rejects(first, { message: 'flaky-load fixture: first load fails' });
      // A failed load is not remembered: the next task loads it again.
      assert.equal(await pool.run({ module: FLAKY, export: 'loads' }), 2);
      assert.equal(await pool.run({ module: FLAKY, export: 'loads' }), 2, 'loaded once it worked');
      await assert.rejects(pool.run({ module: BROKEN, export: 'anything' }), { message: 'broken module fixture' });
      await assert.rejects(pool.run({ module: BROKEN, export: 'anything' }), { message: 'broken module fixture' });
      assert.equal(await pool.run({ module: OPS_CJS, export: 'add' }, { args: [1, 2] }), 3);
      assert.equal(pool.getStats().replacedWorkers, 0);
    } finally {
      await pool.shutdown();
    }
  });
});

describe('batch and retry on a real pool', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());
  beforeEach(() => shared.reset());

  test('batch: per-task outcomes in input order, progress after each', async () => {
    const progress = [];
    const results = await pool.batch([
      { name: 'sum', task: (a, b) => a + b, args: [2, 3] },
      { name: 'fails', task: () => { throw new RangeError('nope'); } },
      { task: { module: OPS_CJS, export: 'add' }, args: [10, 5] },
      { name: 'slow', task: (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms)), args: [50] },
      { name: 'too slow', task: () => new Promise(() => {}), timeout: 100 },
    ], { concurrency: 2, onProgress: (p) => progress.push(p) });
    assert.equal(results.length, 5);
    assert.deepEqual(results[0], { name: 'sum', success: true, result: 5 });
    assert.equal(results[1].name, 'fails');
    assert.equal(results[1].success, false);
    assert.ok(results[1].error instanceof RangeError);
    assert.equal(results[1].error.message, 'nope');
    assert.deepEqual(results[2], { name: 'task-2', success: true, result: 15 });
    assert.deepEqual(results[3], { name: 'slow', success: true, result: 50 });
    assert.equal(results[4].success, false);
    assert.equal(results[4].error.code, 'ERR_TASK_TIMEOUT');
    assert.deepEqual(progress.map((p) => p.completed), [1, 2, 3, 4, 5]);
    assert.equal(progress.at(-1).failed, 2);
    assert.equal(progress.at(-1).percentage, 100);
  });

  test('retry: a task that fails twice succeeds on its third attempt', async () => {
    const result = await pool.retry((key) => {
      const cells = new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key));
      const attempt = Atomics.add(cells, 2, 1) + 1;
      if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
      return `ok on attempt ${attempt}`;
    }, { args: [shared.key], attempts: 5, delay: 10 });
    assert.equal(result, 'ok on attempt 3');
    assert.equal(shared.ran, 3);
  });

  test('retry: every attempt failing rejects with ERR_TASK_RETRIES_EXHAUSTED and each error', async () => {
    await assert.rejects(pool.retry((key) => {
      const cells = new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key));
      throw new TypeError(`failure ${Atomics.add(cells, 2, 1) + 1}`);
    }, { args: [shared.key], attempts: 3, delay: 5 }), (err) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(err.code, 'ERR_TASK_RETRIES_EXHAUSTED');
      assert.equal(err.attempts, 3);
      assert.deepEqual(err.errors.map((e) => e.message), ['failure 1', 'failure 2', 'failure 3']);
      assert.ok(err.errors.every((e) => e instanceof TypeError && typeof e.taskId === 'number'));
      assert.equal(err.cause, err.errors[2]);
      return true;
    });
    assert.equal(shared.ran, 3);
  });

  test('retry: an attempt that times out is retried', async () => {
    const result = await pool.retry((key) => {
      const cells = new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key));
      const attempt = Atomics.add(cells, 2, 1) + 1;
      return attempt === 1 ? new Promise(() => {}) : `attempt ${attempt}`;
    }, { args: [shared.key], attempts: 3, delay: 5, timeout: 100 });
    assert.equal(result, 'attempt 2');
    assert.equal(shared.ran, 2);
  });

  test('retry: aborting the signal stops it with an AbortError', async () => {
    const controller = new AbortController();
    const retrying = pool.retry((key) => {
      const cells = new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key));
      Atomics.add(cells, 2, 1);
      throw new Error('always');
    }, { args: [shared.key], attempts: 100, delay: 50, signal: controller.signal });
    await waitFor(() => shared.ran >= 1, 'the first attempt');
    controller.abort('enough');
    await assert.rejects(retrying, { name: 'AbortError', code: 'ABORT_ERR' });
    const attempts = shared.ran;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(shared.ran, attempts, 'no attempt after the abort');
    assert.ok(attempts < 100);
  });

  test('the default pool has batch, retry and module', async () => {
    try {
      const [one] = await tasklets.batch([{ name: 'one', task: () => 1 }]);
      assert.deepEqual(one, { name: 'one', success: true, result: 1 });
      assert.equal(await tasklets.retry((x) => x * 2, { args: [21] }), 42);
      assert.equal(await tasklets.module('./fixtures/control/ops.cjs').add(2, 40), 42);
    } finally {
      await tasklets.shutdown();
    }
  });
});
