'use strict';
// What the native runtime decides, seen from JS: tasks overlap in time,
// executors are pinned where the placement says, adaptive scaling grows and
// shrinks the pool.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { scaled } = require('./fixtures/time-scale');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;
const cpus = os.availableParallelism();
const needTwo = skip || (cpus < 2 ? `needs 2 PUs, this process may use ${cpus}` : false);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, ms, what) {
  const end = Date.now() + scaled(ms);
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// Executors that attached to their slot (a slot reports `running` as soon
// as it was asked for; its binding is known once the executor attached).
function attached(pool) {
  return pool.getStats().workers.filter((w) => w.running && w.bindError !== 'not started').length;
}

// Busy-waits `ms` and reports when it ran, in the process-wide clock.
function busy(ms) {
  const start = performance.timeOrigin + performance.now();
  while (performance.timeOrigin + performance.now() - start < ms);
  return [start, performance.timeOrigin + performance.now()];
}

describe('parallelism', { skip: needTwo }, () => {
  test('two 200 ms busy tasks overlap in time', async () => {
    const pool = new Tasklets({ workers: 2, placement: 'compact' });
    try {
      await until(() => attached(pool) === 2, 5000, 'two executors');
      await pool.runAll([() => 0, () => 0, () => 0, () => 0]);   // warm
      const [[s1, e1], [s2, e2]] = await Promise.all([pool.run(busy, { args: [200] }), pool.run(busy, { args: [200] })]);
      const overlap = Math.min(e1, e2) - Math.max(s1, s2);
      const span = Math.max(e1, e2) - Math.min(s1, s2);
      assert.ok(overlap > 150, `the tasks overlapped ${overlap.toFixed(1)} ms`);
      assert.ok(span < 320, `both ran within ${span.toFixed(1)} ms (sequential would be 400)`);
    } finally {
      await pool.shutdown();
    }
  });

  test("placement 'compact' pins each executor to its own PU, read back from inside the task", async () => {
    const pool = new Tasklets({ workers: 2, placement: 'compact' });
    try {
      await until(() => attached(pool) === 2, 5000, 'two executors');
      const { workers } = pool.getStats();
      for (const w of workers) {
        assert.equal(w.pinned, true, `worker ${w.id} pinned (${w.bindError})`);
        assert.equal(w.pus.length, 1, `worker ${w.id} on one PU`);
      }
      assert.notEqual(workers[0].pus[0], workers[1].pus[0]);
      // The kernel's view of each executor thread's CPU set.
      const readBack = () => {
        const status = process.getBuiltinModule('node:fs').readFileSync('/proc/thread-self/status', 'utf8');
        return status.match(/^Cpus_allowed_list:\s*(.*)$/m)[1];
      };
      const seen = new Set(await pool.runAll(Array.from({ length: 20 }, () => readBack)));
      const pinnedTo = new Set(workers.map((w) => String(w.pus[0])));
      for (const list of seen) assert.ok(pinnedTo.has(list), `a task ran on CPUs ${list}, not on ${[...pinnedTo]}`);
    } finally {
      await pool.shutdown();
    }
  });

  test("placement 'none' leaves executors unpinned", async () => {
    const pool = new Tasklets({ workers: 2, placement: 'none' });
    try {
      await until(() => attached(pool) === 2, 5000, 'two executors');
      for (const w of pool.getStats().workers) assert.equal(w.pinned, false);
    } finally {
      await pool.shutdown();
    }
  });
});

describe('adaptive scaling', { skip }, () => {
  test('grows under a backlog and shrinks after idleTimeout', { timeout: 20000 }, async () => {
    const pool = new Tasklets({ workers: { min: 1, max: 2, scaling: 'adaptive', idleTimeout: 200 } });
    try {
      const before = pool.getStats();
      assert.equal(before.minWorkers, 1);
      assert.equal(before.maxWorkers, 2);
      assert.equal(before.scaling, 'adaptive');
      const work = pool.runAll(Array.from({ length: 60 }, () => ({ task: busy, args: [10] })));
      const grown = await until(() => {
        const s = pool.getStats();
        return s.scaleUps >= 1 && s.activeWorkers === 2 ? s : null;
      }, 10000, 'a scale-up');
      assert.ok(grown.scaleUps >= 1);
      await work;
      const shrunk = await until(() => {
        const s = pool.getStats();
        return s.scaleDowns >= 1 && s.activeWorkers === 1 ? s : null;
      }, 10000, 'a scale-down');
      assert.ok(shrunk.scaleDowns >= 1);
      assert.equal(await pool.run(() => 'after shrinking'), 'after shrinking');
    } finally {
      await pool.shutdown();
    }
  });
});
