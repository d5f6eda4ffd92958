'use strict';
// pool.profile() (js/profile.js): a CPU profile per executor that names the
// function the executors were busy with, taken also from an executor stuck
// in a long synchronous task; executors carry their names where DevTools
// looks (the inspector's Worker targets); typed errors for misuse.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const inspector = require('node:inspector');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;

function hotSpinForProfileTest(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

function checkCpuProfile(profile) {
  assert.ok(Array.isArray(profile.nodes) && profile.nodes.length > 0);
  assert.ok(profile.nodes.every((n) => Number.isInteger(n.id) && typeof n.callFrame.functionName === 'string'));
  assert.ok(profile.endTime > profile.startTime);
  assert.equal(profile.samples.length, profile.timeDeltas.length);
  JSON.parse(JSON.stringify(profile));
}

// How many samples have `name` on their stack (its own time and its callees').
function samplesIn(profile, name) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children || []) parent.set(child, n.id);
  let count = 0;
  for (const id of profile.samples) {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at).callFrame.functionName === name) {
        count++;
        break;
      }
    }
  }
  return count;
}

describe('profiles', { skip, timeout: 60000 }, () => {
  test('every executor is profiled, and the hot function is among the nodes', async () => {
    const pool = new Tasklets({ workers: 2, metrics: { name: 'hot' } });
    let stop = false;
    let load = null;
    try {
      await pool.run(() => 'both started');
      // The load starts once the profilers run: a function V8 compiled and
      // optimized before a profile started can have its samples attributed
      // to its caller (docs/observability.md, "Profiles"), as happened on
      // Node 22.
      const profiling = pool.profile({ durationMs: 1200, samplingIntervalUs: 500 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Eight tasks in flight: neither executor waits for work.
      load = Promise.all(Array.from({ length: 8 }, async () => {
        while (!stop) await pool.run(hotSpinForProfileTest, { args: [5] });
      }));
      const profiles = await profiling;
      assert.deepEqual(profiles.map((p) => p.executor), [0, 1]);
      for (const p of profiles) {
        assert.equal(p.name, `tasklets executor ${p.executor} (pool hot)`);
        assert.ok(Number.isInteger(p.threadId));
        checkCpuProfile(p.profile);
      }
      // The executors spent most of the profile in it (how the runtime
      // spreads the tasks between them is its business).
      const inHot = profiles.map((p) => samplesIn(p.profile, 'hotSpinForProfileTest'));
      const all = profiles.map((p) => p.profile.samples.length);
      const sum = (xs) => xs.reduce((a, b) => a + b, 0);
      // A quarter of the profile passed before the load started.
      assert.ok(sum(inHot) > sum(all) / 4, `${inHot} of ${all} samples in hotSpinForProfileTest`);
    } finally {
      stop = true;
      await load;
      await pool.shutdown();
    }
  });

  test('an executor busy in a long synchronous task answers within the profile', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      await pool.run(() => 1);
      const busy = pool.run(hotSpinForProfileTest, { args: [4000] });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const t0 = Date.now();
      const profiles = await pool.profile({ durationMs: 300 });
      const took = Date.now() - t0;
      assert.ok(took < 2500, `the profile took ${took} ms while its executor was busy for 4 s`);
      assert.equal(profiles.length, 1);
      checkCpuProfile(profiles[0].profile);
      assert.ok(profiles[0].profile.samples.length > 50);
      await busy;
    } finally {
      await pool.shutdown();
    }
  });

  test('executors are named inspector targets', async () => {
    const pool = new Tasklets({ workers: 2, metrics: { name: 'named' } });
    const session = new inspector.Session();
    try {
      await Promise.all([pool.run(() => 1), pool.run(() => 2)]);
      session.connect();
      const titles = [];
      session.on('NodeWorker.attachedToWorker', ({ params }) => titles.push(params.workerInfo.title));
      await new Promise((resolve, reject) => session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (err) => (err ? reject(err) : resolve())));
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const slot of [0, 1]) {
        assert.ok(titles.some((t) => t.endsWith(`tasklets executor ${slot} (pool named)`)), `executor ${slot} in ${titles}`);
      }
    } finally {
      session.disconnect();
      await pool.shutdown();
    }
  });

  test('misuse: typed errors', async () => {
    const pool = new Tasklets({ workers: 1 });
    await assert.rejects(pool.profile(3), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
    await assert.rejects(pool.profile({ durationMs: 0 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
    await assert.rejects(pool.profile({ durationMs: '100' }), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
    await assert.rejects(pool.profile({ samplingIntervalUs: 0.5 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
    await assert.rejects(pool.profile({ duration: 10 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"duration" option is not supported/ });
    await pool.shutdown();
    await assert.rejects(pool.profile({ durationMs: 10 }), { code: 'ERR_POOL_SHUTDOWN' });
  });
});
