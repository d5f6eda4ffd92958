'use strict';
// Every entry point fed what an adversarial user would feed it: odd
// signals, throwing callbacks and listeners, leftovers of tasks, impossible
// sizes, holes, races between cancel and timeout. Whatever happens, each
// submitted task settles exactly once and each bad input is a typed error.
// A case that could hang runs in a child process with a hard timeout, so a
// regression fails here instead of stopping the suite.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { noChildNode } = require('./fixtures/child-node');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { throwsOption } = require('./fixtures/assertions');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;
const ENTRY = JSON.stringify(path.join(__dirname, '..', '..', 'js', 'index.js'));
const CHILD_TIMEOUT_MS = 20000;

// Runs `body` (an async function body, `Tasklets` in scope) in a fresh node;
// what it prints last is JSON. Fails if the child does not exit by itself
// within the timeout (a hang, or a pool that keeps the process alive).
function child(body) {
  const code = `const { Tasklets } = require(${ENTRY}); (async () => { ${body} })().catch((e) => { console.error(e); process.exit(3); });`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
  assert.equal(r.signal, null, `the child hung (killed after ${CHILD_TIMEOUT_MS} ms); stderr: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return { out: JSON.parse(lines[lines.length - 1]), stderr: r.stderr, ms: Date.now() - started };
}

// 200 tasks, the middle one with `signalExpr`; counts how each settled.
const SETTLE_200 = (signalExpr) => `
  const pool = new Tasklets({ workers: 1 });
  const signal = ${signalExpr};
  const seen = new Map();
  const tally = { ok: 0, rejected: 0, codes: {} };
  const all = [];
  for (let i = 0; i < 200; i++) {
    let p;
    try {
      p = pool.run((x) => x, i === 100 ? { args: [i], signal } : { args: [i] });
    } catch (err) {
      p = Promise.reject(err);
    }
    all.push(p.then((v) => { tally.ok++; seen.set(i, (seen.get(i) || 0) + 1); if (v !== i) throw new Error('wrong value'); },
                    (e) => { tally.rejected++; seen.set(i, (seen.get(i) || 0) + 1); tally.codes[e.code] = e.constructor.name; }));
  }
  await Promise.all(all);
  await pool.shutdown();
  tally.once = [...seen.values()].every((n) => n === 1) && seen.size === 200;
  console.log(JSON.stringify(tally));`;

describe('completion delivery survives user callbacks', { skip }, () => {
  test('a signal-like object without removeEventListener is refused; the other 199 tasks settle', { skip: noChildNode }, () => {
    const { out } = child(SETTLE_200('{ aborted: false, addEventListener() {} }'));
    assert.deepEqual(out, { ok: 199, rejected: 1, codes: { ERR_INVALID_ARG_VALUE: 'TypeError' }, once: true });
  });

  test('a real AbortSignal whose removeEventListener throws: every task settles, the failure is reported', { skip: noChildNode }, () => {
    const { out, stderr } = child(SETTLE_200(
      '(() => { const s = new AbortController().signal; s.removeEventListener = () => { throw new Error("boom"); }; return s; })()'));
    assert.deepEqual(out, { ok: 200, rejected: 0, codes: {}, once: true });
    assert.match(stderr, /removeEventListener threw/);
    assert.doesNotMatch(stderr, /DEP0168|N-API callback exception/);
  });

  test('a runAll signal whose removeEventListener throws: the group settles and the process exits', { skip: noChildNode }, () => {
    const { out } = child(`
      const pool = new Tasklets({ workers: 1 });
      const s = new AbortController().signal;
      s.removeEventListener = () => { throw new Error('boom'); };
      const a = await pool.runAll([() => 1, () => 2], { signal: s });
      const b = await pool.run(() => 3);
      await pool.shutdown();
      console.log(JSON.stringify([a, b]));`);
    assert.deepEqual(out, [[1, 2], 3]);
  });

  test("a 'drain' listener that throws costs no task its result", { skip: noChildNode }, () => {
    const { out, stderr } = child(`
      const pool = new Tasklets({ workers: 1, maxQueue: 10, logging: 'warn' });
      let drains = 0;
      pool.on('drain', () => { drains++; throw new Error('listener boom'); });
      const results = [];
      for (let round = 0; round < 3; round++) {
        const batch = [];
        for (let i = 0; i < 10; i++) batch.push(pool.run((x) => x * 2, { args: [i] }));
        await pool.run(() => 0).catch((e) => results.push(e.code));
        results.push((await Promise.all(batch)).reduce((a, b) => a + b, 0));
      }
      await pool.shutdown();
      console.log(JSON.stringify({ results, drains }));`);
    assert.deepEqual(out, { results: ['ERR_QUEUE_FULL', 90, 'ERR_QUEUE_FULL', 90, 'ERR_QUEUE_FULL', 90], drains: 3 });
    assert.match(stderr, /a drain listener threw/);
  });

  test('an onProgress callback that throws does not cost the task its result', async () => {
    const pool = new Tasklets({ workers: 1, logging: 'off' });
    try {
      const value = await pool.run(() => { tasklet.progress(50); return 'done'; }, {
        onProgress() { throw new Error('progress boom'); },
      });
      assert.equal(value, 'done');
    } finally {
      await pool.shutdown();
    }
  });
});

describe('map() and the pool default timeout', { skip }, () => {
  test('map() of a runaway chunk times out under the default timeout, with and without concurrency', { skip: noChildNode }, () => {
    const { out } = child(`
      const pool = new Tasklets({ workers: 1, timeout: 200 });
      const codes = [];
      await pool.map(() => { for (;;); }, [1]).catch((e) => codes.push(e.code, e.message));
      await pool.map(() => { for (;;); }, [1, 2], { concurrency: 1, chunkSize: 1 }).catch((e) => codes.push(e.code));
      await pool.map(() => { for (;;); }, [1], { timeout: 100 }).catch((e) => codes.push(e.message));
      codes.push(await pool.map((x) => x + 1, [1, 2, 3], { concurrency: 2, chunkSize: 1, timeout: 5000 }));
      await pool.shutdown();
      console.log(JSON.stringify(codes));`);
    assert.deepEqual(out, [
      'ERR_TASK_TIMEOUT', 'The task did not finish within its timeout of 200 ms', 'ERR_TASK_TIMEOUT',
      'The task did not finish within its timeout of 100 ms', [2, 3, 4],
    ]);
  });

  test('map() checks its timeout option like run()', async () => {
    const pool = new Tasklets({ workers: 1, timeout: { default: 1000, perTask: false } });
    try {
      await assert.rejects(pool.map((x) => x, [1], { timeout: -1 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      await assert.rejects(pool.map((x) => x, [1], { timeout: 10 }), { code: 'ERR_INVALID_ARG_VALUE', message: /perTask: false/ });
    } finally {
      await pool.shutdown();
    }
  });
});

describe('shutdown ends executors whatever their tasks left behind', { skip }, () => {
  const LEFTOVERS = {
    'an interval': 'setInterval(() => {}, 1000)',
    'a 60 s timer': 'setTimeout(() => {}, 60000)',
    'a listening server': "(await import('node:net')).createServer().listen(0, '127.0.0.1')",
    'a Worker of its own': "new (await import('node:worker_threads')).Worker('setInterval(() => {}, 1000)', { eval: true })",
  };
  for (const [what, expr] of Object.entries(LEFTOVERS)) {
    test(`${what}: shutdown() resolves promptly, not timed out, with and without a timeout`, { skip: noChildNode }, () => {
      const { out } = child(`
        const reports = [];
        for (const options of [undefined, { timeout: 5000 }]) {
          const pool = new Tasklets({ workers: 2 });
          await pool.runAll([async () => { ${expr}; return 1; }, async () => { ${expr}; return 2; }]);
          const started = Date.now();
          const report = await pool.shutdown(options);
          reports.push({ ...report, fast: Date.now() - started < 3000 });
        }
        console.log(JSON.stringify(reports));`);
      assert.deepEqual(out, [{ timedOut: false, cancelled: 0, fast: true }, { timedOut: false, cancelled: 0, fast: true }]);
    });
  }

  test('an executor retired by scaling down ends although its task left an interval', { skip: noChildNode }, () => {
    const { out } = child(`
      const fs = require('node:fs');
      const threads = () => fs.readdirSync('/proc/self/task').length;
      const pool = new Tasklets({ workers: 2 });
      const leave = async () => { setInterval(() => {}, 1000); const end = Date.now() + 50; while (Date.now() < end); return 1; };
      await pool.runAll([leave, leave, leave, leave]);
      const peak = threads();
      pool.configure({ workers: 1 });
      const deadline = Date.now() + 5000;
      while (threads() >= peak && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const dropped = threads() < peak;
      const value = await pool.run(() => 5);
      await pool.shutdown();
      console.log(JSON.stringify({ value, dropped }));`);
    assert.deepEqual(out, { value: 5, dropped: true });
  });
});

describe('sizes and durations past what the machine can hold are refused', () => {
  test('memory.limit beyond 128TB and idleTimeout beyond a timer are RangeErrors with a code', () => {
    for (const memory of [{ limit: 2 ** 63 }, { limit: '9999999999TB' }, { limit: 2 ** 47 + 1 }]) {
      throwsOption(() => new Tasklets({ workers: 1, memory }), RangeError, /memory\.limit.*from 16MB to 128TB/);
    }
    for (const idleTimeout of [1e300, 2 ** 31, Infinity]) {
      throwsOption(() => new Tasklets({ workers: { min: 1, max: 2, idleTimeout } }), RangeError, /workers\.idleTimeout/);
    }
    throwsOption(() => tasklets.config({ workers: { min: 1, max: 2, idleTimeout: 1e300 } }), RangeError, /workers\.idleTimeout/);
  });

  test('the largest accepted values work', { skip }, async () => {
    const pool = new Tasklets({ workers: { min: 1, max: 1, idleTimeout: 2 ** 31 - 1 }, memory: { limit: '128TB' } });
    try {
      assert.equal(await pool.run((x) => x + 1, { args: [1] }), 2);
    } finally {
      await pool.shutdown();
    }
  });
});

describe('the smaller entry points reject like the documentation says', { skip }, () => {
  test('batch() with a hole, runAll() with a hole: ERR_INVALID_ARG_TYPE naming the index', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      // eslint-disable-next-line no-sparse-arrays
      await assert.rejects(pool.batch([, { task: () => 1 }]), { code: 'ERR_INVALID_ARG_TYPE', message: /taskConfigs\[0\]/ });
      // eslint-disable-next-line no-sparse-arrays
      await assert.rejects(pool.runAll([() => 1, , () => 3]), { code: 'ERR_INVALID_ARG_TYPE', message: /tasks\[1\]/ });
    } finally {
      await pool.shutdown();
    }
  });

  test('retry() of something that is not a task: ERR_INVALID_ARG_TYPE, nothing run', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      for (const fn of [5, 'x => x', null, {}]) {
        await assert.rejects(pool.retry(fn), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError', message: /"fn"/ });
      }
      assert.equal(pool.getStats().executed + pool.getStats().failed, 0);
    } finally {
      await pool.shutdown();
    }
  });

  test('module() checks its options when called, and refuses a shut down pool', async () => {
    const file = path.join(__dirname, 'fixtures', 'tasks.cjs');
    const pool = new Tasklets({ workers: 1 });
    throwsOption(() => pool.module(file, { timeout: -1 }), RangeError, /options\.timeout/);
    throwsOption(() => pool.module(file, { timeout: 'soon' }), TypeError, /options\.timeout/);
    throwsOption(() => pool.module(file, { priority: 'urgent' }), RangeError, /options\.priority/);
    await pool.shutdown();
    assert.throws(() => pool.module(file), { code: 'ERR_POOL_SHUTDOWN' });
  });

  test('config() refuses a log destination that cannot be opened, and changes nothing', () => {
    const before = tasklets.getConfig();
    const dest = path.join(os.tmpdir(), `no-such-dir-${process.pid}`, 'x.log');
    throwsOption(() => tasklets.config({ logging: { level: 'info', destination: dest } }), RangeError, /logging\.destination/);
    assert.deepEqual(tasklets.getConfig(), before);
  });
});

describe('outcomes are counted as they are reported', { skip }, () => {
  test('a forced cancel racing a timeout: each rejection matches the stats that count it', async () => {
    const pool = new Tasklets({ workers: 2 });
    try {
      const before = pool.getStats();
      const codes = { ERR_TASK_TIMEOUT: 0, ABORT_ERR: 0 };
      for (let round = 0; round < 150; round++) {
        const pair = [0, 1].map(() => {
          const p = pool.run(() => { for (;;); }, { timeout: 5 });
          setTimeout(() => pool.cancel(p, { force: true }), 5);
          return p.catch((e) => { codes[e.code]++; });
        });
        await Promise.all(pair);
      }
      const after = pool.getStats();
      assert.equal(codes.ERR_TASK_TIMEOUT + codes.ABORT_ERR, 300);
      assert.deepEqual({ timedOut: after.timedOut - before.timedOut, cancelled: after.cancelled - before.cancelled },
        { timedOut: codes.ERR_TASK_TIMEOUT, cancelled: codes.ABORT_ERR });
    } finally {
      await pool.shutdown();
    }
  });

  test('executed and failed are disjoint; health counts failures and timeouts, not cancellations', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const gate = pool.run(() => new Promise((r) => setTimeout(r, 300)));
      const queued = pool.run(() => 1);
      assert.equal(pool.cancel(queued), true);
      await assert.rejects(queued, { code: 'ABORT_ERR' });
      await gate;
      const running = pool.run(() => { for (;;); });
      await new Promise((r) => setTimeout(r, 50));
      pool.cancel(running, { force: true });
      await assert.rejects(running, { code: 'ABORT_ERR' });
      await assert.rejects(pool.run(() => { throw Object.assign(new Error('x'), { code: 'E_X' }); }), { code: 'E_X' });
      await assert.rejects(pool.run(() => { for (;;); }, { timeout: 50 }), { code: 'ERR_TASK_TIMEOUT' });
      await pool.runAll([() => 1, () => 2]);
      const s = pool.getStats();
      assert.deepEqual({ executed: s.executed, failed: s.failed, cancelled: s.cancelled, timedOut: s.timedOut },
        { executed: 3, failed: 1, cancelled: 2, timedOut: 1 });
      const h = pool.getHealth();
      assert.equal(h.errors.failed, 2);  // the throw and the timeout
      assert.deepEqual(h.errors.recent.map((r) => r.code), ['ABORT_ERR', 'ABORT_ERR', 'E_X', 'ERR_TASK_TIMEOUT']);
    } finally {
      await pool.shutdown();
    }
  });
});

describe('odd values at every entry point are typed errors', { skip }, () => {
  test('options objects that throw while read reject run() instead of throwing', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const hostile = new Proxy({}, { ownKeys() { throw new Error('keys boom'); } });
      const p = pool.run(() => 1, hostile);
      assert.ok(p instanceof Promise);
      await assert.rejects(p, /keys boom/);
      const getter = { get args() { throw new Error('getter boom'); } };
      await assert.rejects(pool.run(() => 1, getter), /getter boom/);
      assert.equal(await pool.run(() => 'still fine'), 'still fine');
    } finally {
      await pool.shutdown();
    }
  });

  test('cancel() of nonsense is a typed error; of an unknown id, false', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      for (const bad of [NaN, -1, 1.5, 'x', { taskId: 'x' }, null]) {
        assert.throws(() => pool.cancel(bad), (err) => err instanceof TypeError || err instanceof RangeError);
      }
      assert.equal(pool.cancel(123456), false);
    } finally {
      await pool.shutdown();
    }
  });

  test('a task that throws an object whose every property access throws still rejects', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const err = await pool.run(() => {
        throw new Proxy(new Error('x'), { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } });
      }).catch((e) => e);
      assert.ok(err instanceof Error);
      assert.equal(err.taskId > 0, true);
      assert.equal(await pool.run(() => 'after'), 'after');
    } finally {
      await pool.shutdown();
    }
  });
});
