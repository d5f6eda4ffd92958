'use strict';
// An executor that dies inside a task (process.exit in a Worker ends that
// Worker) costs only that task: the runtime asks for a replacement and the
// pool keeps its size.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

describe('executor loss', { skip }, () => {
  test('a task that exits its executor rejects, and the next tasks run on a replacement', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      assert.equal(await pool.run(() => 1), 1);
      const lost = pool.run(() => process.exit(3));
      await assert.rejects(lost, (err) => {
        assert.equal(err.code, 'ERR_WORKER_CRASHED');
        assert.match(err.message, /exited with code 3/);
        assert.equal(err.taskId, lost.taskId);
        assert.equal(err.workerThread, 0);
        return true;
      });
      const results = await Promise.all([pool.run(() => 2), pool.run((x) => x * 2, { args: [21] })]);
      assert.deepEqual(results, [2, 42]);
      const stats = pool.getStats();
      assert.equal(stats.replacedWorkers, 1);
      assert.equal(stats.workers[0].running, true);
    } finally {
      await pool.shutdown();
    }
  });

  test('an executor out of memory rejects its task with ERR_WORKER_OUT_OF_MEMORY and is replaced', async () => {
    const pool = new Tasklets({ workers: 1, memory: { limit: '64MB' }, logging: 'off' });
    try {
      const hog = pool.run(() => {
        const kept = [];
        for (;;) kept.push(new Array(100000).fill(kept.length));
      });
      await assert.rejects(hog, { code: 'ERR_WORKER_OUT_OF_MEMORY', taskId: hog.taskId });
      assert.equal(await pool.run(() => 'alive'), 'alive');
      assert.equal(pool.getStats().replacedWorkers, 1);
      const health = pool.getHealth();
      assert.equal(health.status, 'degraded');
      assert.equal(health.workers.crashed, 1);
      assert.equal(health.errors.recent.at(-1).code, 'ERR_WORKER_OUT_OF_MEMORY');
    } finally {
      await pool.shutdown();
    }
  });

  // qemu-user (scripts/test-arm64.sh) reports an RSS of 0.
  const noRss = process.memoryUsage().rss > 0 ? false : 'this platform reports no resident set size';
  test("memory.cleanup 'aggressive' releases memory once the pool is idle", { skip: noRss }, async () => {
    const rssAfter = async (cleanup) => {
      const pool = new Tasklets({ workers: 2, memory: { cleanup } });
      try {
        const garbage = () => {
          const a = [];
          for (let i = 0; i < 200000; i++) a.push({ i, s: `item ${i}` });
          return a.length;
        };
        for (let r = 0; r < 4; r++) await pool.runAll(Array.from({ length: 10 }, () => garbage));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return process.memoryUsage().rss;
      } finally {
        await pool.shutdown();
      }
    };
    // Same process, same work: with cleanup the executors' heaps are
    // collected and given back; without it they are not.
    const kept = await rssAfter('none');
    const released = await rssAfter('aggressive');
    assert.ok(released < kept, `RSS with cleanup ${released} should be below RSS without it ${kept}`);
  });
});

// The gate task reaches shared memory through process.getBuiltinModule (Node >= 20.16).
const noBuiltinModule = typeof process.getBuiltinModule === 'function' ? false : `needs process.getBuiltinModule (Node >= 20.16; this is ${process.version})`;

describe('memory.limit and native memory', { skip: skip || noBuiltinModule }, () => {
  test('the arguments of tasks not run yet stay within memory.limit: a submission past it is refused, then room comes back', async () => {
    const pool = new Tasklets({ workers: 1, memory: { limit: '16MB' }, logging: 'off' });
    try {
      const cell = new Int32Array(new SharedArrayBuffer(4));
      const { setEnvironmentData } = require('node:worker_threads');
      setEnvironmentData('memory-limit-test-gate', cell.buffer);
      // Blocks the only executor until the test opens the gate.
      const gate = pool.run(() => {
        const { getEnvironmentData } = process.getBuiltinModule('node:worker_threads');
        const c = new Int32Array(getEnvironmentData('memory-limit-test-gate'));
        Atomics.wait(c, 0, 0, 30000);
        return 'opened';
      });
      const mb = new Uint8Array(1024 * 1024).fill(7);
      const accepted = [];
      let refused = null;
      // One task per turn (each turn's run() calls reach the addon together).
      for (let i = 0; i < 40 && refused === null; i++) {
        const p = pool.run((bytes) => bytes.length, { args: [mb] });
        accepted.push(p);
        p.catch((err) => { refused = err; });
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(refused !== null, 'a submission past 16 MB of queued arguments is refused');
      assert.equal(refused.code, 'ERR_QUEUE_FULL');
      assert.match(refused.message, /memory\.limit \(16777216\)/);
      // A refused task with transferred buffers leaves them untouched
      // (moved buffers are not charged; the 2 MB copied argument is).
      const moved = new Uint8Array(4 * 1024 * 1024);
      const copied = new Uint8Array(2 * 1024 * 1024);
      await assert.rejects(pool.run((b) => b.length, { args: [moved, copied], transfer: [moved.buffer] }), { code: 'ERR_QUEUE_FULL' });
      assert.equal(moved.buffer.byteLength, 4 * 1024 * 1024, 'not detached');
      const held = pool.getStats().argumentBytes;
      assert.ok(held > 12 * 1024 * 1024 && held <= 16 * 1024 * 1024, `arguments held: ${held}`);
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
      assert.equal(await gate, 'opened');
      const lengths = await Promise.allSettled(accepted);
      const ran = lengths.filter((o) => o.status === 'fulfilled');
      assert.equal(ran.length, accepted.length - 1);
      for (const o of ran) assert.equal(o.value, 1024 * 1024);
      assert.equal(pool.getStats().argumentBytes, 0, 'every charge released once the tasks ran');
      assert.equal(await pool.run((bytes) => bytes.length, { args: [mb] }), 1024 * 1024);
    } finally {
      await pool.shutdown();
    }
  });
});
