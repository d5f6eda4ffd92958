'use strict';
// Soak: thousands of tasks on two executors, mixing quick tasks, tasks that
// wait on their signal, synchronous loops and hanging async tasks stopped by
// short timeouts, and cancel() calls (some with force) at random moments,
// while tasks are queued or running. Every promise must settle, each with
// an outcome its kind allows; the pool's counters must add up; no executor
// may be replaced; the pool must still run a task and shut down cleanly.
//
// Random choices come from a seeded generator: the seed is in every failure
// message (TASKLETS_SOAK_SEED=<seed> replays a run).

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { unsupported, sharedCells, eventually } = require('./fixtures/control/shared');
const { scaled, SCALE } = require('./fixtures/time-scale');
// Rounds of the two heaviest tests: fewer where the machine is slower
// (TASKLETS_TEST_TIME_SCALE, set under qemu-user by scripts/test-arm64.sh).
const FORCE_ROUNDS = Math.max(2, Math.round(8 / SCALE));
const GROUP_ROUNDS = Math.max(3, Math.round(25 / SCALE));

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`) || unsupported;

const TASKS = 5000;
const WAVE = 100;
const BACKLOG = 40;   // the next wave waits until at most this many are pending
const SEED = Number(process.env.TASKLETS_SOAK_SEED) || (Date.now() % 0x7fffffff);

const { generator } = require('./fixtures/random');  // seeded: a failing run replays from its seed

// The pool shuts down within 15 s, with nothing left to cancel.
async function assertShutsDownInTime(pool) {
  let timer;
  const result = await Promise.race([
    pool.shutdown(),
    new Promise((resolve) => { timer = setTimeout(() => resolve('shutdown did not finish within 15 s'), 15000); }),
  ]);
  clearTimeout(timer);
  assert.deepEqual(result, { timedOut: false, cancelled: 0 });
}

// Cells 10, 11, 12: how many spin, hang and poller tasks started running.
const shared = skip ? null : sharedCells('tasklets-test:soak');

// --- The task kinds (sent as source) ---

const quick = (i) => i * 2;

function compute(n) {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += k;
  return sum;
}

// Waits `ms` unless its signal aborts first (then rejects with the reason).
async function waiter(i, ms) {
  await new Promise((resolve, reject) => {
    const { signal } = tasklet;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
  return -i;
}

function spin(key) {
  Atomics.add(new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key)), 10, 1);
  for (;;);
}

function hang(key) {
  Atomics.add(new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key)), 11, 1);
  return new Promise(() => {});
}

function poller(key) {
  Atomics.add(new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key)), 12, 1);
  while (!tasklet.signal.aborted);
  return 'saw the abort';
}

// Counts itself started (cell 13), then waits `ms` unless its signal
// aborts first (then rejects with the reason, clearing its timer).
function longWaiter(key, ms) {
  Atomics.add(new Int32Array(process.getBuiltinModule('node:worker_threads').getEnvironmentData(key)), 13, 1);
  return new Promise((resolve, reject) => {
    const { signal } = tasklet;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => resolve('not cancelled'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

const expectedValue = {
  quick: (i) => i * 2,
  compute: (i) => ((i % 500) * ((i % 500) - 1)) / 2 + 0,  // + 0: not -0 for i % 500 === 0
  waiter: (i) => -i,
};

describe('soak', { skip }, () => {
  test(`${TASKS} mixed tasks with timeouts and random cancels (seed ${SEED})`, { timeout: scaled(120000) }, async () => {
    const random = generator(SEED);
    const pick = (n) => Math.floor(random() * n);
    const where = (i) => `task #${i} (seed ${SEED})`;
    const pool = new Tasklets({ workers: 2 });
    const records = new Array(TASKS);
    const cancels = [];
    let submitted = 0;

    function cancelLater(record) {
      const force = random() < 0.3;
      const doCancel = () => {
        const result = pool.cancel(record.promise, { force });
        record.cancelCalls.push(result);
      };
      const when = pick(4);
      if (when === 0) {
        doCancel();                        // at once: still in the submit batch, or queued
      } else if (when === 1) {
        cancels.push(new Promise((resolve) => setImmediate(() => { doCancel(); resolve(); })));
      } else {
        const ms = pick(when === 2 ? 5 : 40);
        cancels.push(new Promise((resolve) => setTimeout(() => { doCancel(); resolve(); }, ms)));
      }
    }

    function submit(i) {
      const roll = random();
      let kind;
      let promise;
      if (roll < 0.38) {
        kind = 'quick';
        promise = pool.run(quick, { args: [i] });
      } else if (roll < 0.58) {
        kind = 'compute';
        promise = pool.run(compute, { args: [i % 500] });
      } else if (roll < 0.8) {
        kind = 'waiter';
        promise = pool.run(waiter, { args: [i, pick(4)] });
      } else if (roll < 0.84) {
        kind = 'spin';
        promise = pool.run(spin, { args: [shared.key], timeout: 5 + pick(20) });
      } else if (roll < 0.98) {
        kind = 'hang';
        promise = pool.run(hang, { args: [shared.key], timeout: 5 + pick(45) });
      } else {
        kind = 'poller';
        promise = pool.run(poller, { args: [shared.key], timeout: 10 + pick(30) });
      }
      const record = { i, kind, promise, cancelCalls: [], outcome: null, settlements: 0 };
      promise.then(
        (value) => { record.settlements++; record.outcome = { ok: true, value }; },
        (error) => { record.settlements++; record.outcome = { ok: false, error }; },
      );
      records[i] = record;
      submitted++;
      // A quarter of the tasks get cancelled; the hanging and looping ones
      // more often, so that running tasks are cancelled too.
      const cancelRate = kind === 'spin' || kind === 'hang' || kind === 'poller' ? 0.5 : 0.2;
      if (random() < cancelRate) cancelLater(record);
    }

    for (let base = 0; base < TASKS; base += WAVE) {
      for (let i = base; i < Math.min(TASKS, base + WAVE); i++) submit(i);
      // Let some of the wave run (or not) before the next one; keep the
      // backlog shallow so that most tasks start before their timeout.
      if (random() < 0.5) await new Promise((resolve) => setImmediate(resolve));
      else await new Promise((resolve) => setTimeout(resolve, pick(20)));
      while (pool.getStats().pending > BACKLOG) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.equal(submitted, TASKS);

    const deadline = Date.now() + 90000;
    const settled = await Promise.allSettled(records.map((r) => r.promise));
    await Promise.all(cancels);
    assert.ok(Date.now() < deadline, `every task settled within 90 s (seed ${SEED})`);
    assert.equal(settled.length, TASKS);

    // Every promise settled exactly once, with an outcome its kind allows.
    const counts = { fulfilled: 0, aborted: 0, timedOut: 0 };
    const ids = new Set();
    for (const r of records) {
      assert.equal(r.settlements, 1, `${where(r.i)} settled ${r.settlements} times`);
      assert.equal(typeof r.promise.taskId, 'number');
      assert.ok(!ids.has(r.promise.taskId), `${where(r.i)}: task ids are unique`);
      ids.add(r.promise.taskId);
      const cancelled = r.cancelCalls.includes(true);
      const { outcome } = r;
      if (outcome.ok) {
        counts.fulfilled++;
        assert.ok(r.kind in expectedValue, `${where(r.i)}: a ${r.kind} task cannot succeed (got ${String(outcome.value)})`);
        assert.equal(outcome.value, expectedValue[r.kind](r.i), where(r.i));
        continue;
      }
      const err = outcome.error;
      assert.equal(err.taskId, r.promise.taskId, `${where(r.i)}: ${err && err.stack}`);
      if (err.code === 'ABORT_ERR') {
        counts.aborted++;
        assert.equal(err.name, 'AbortError', where(r.i));
        assert.ok(cancelled, `${where(r.i)}: an AbortError for a ${r.kind} task nobody cancelled (cancel calls: ${r.cancelCalls})`);
      } else if (err.code === 'ERR_TASK_TIMEOUT') {
        counts.timedOut++;
        assert.ok(['spin', 'hang', 'poller'].includes(r.kind), `${where(r.i)}: a ${r.kind} task has no timeout`);
        // A task that was still pending when cancel() said true ends
        // aborted, unless its timeout stopped it before the cancel could:
        // then it rejects as the runtime counts it (getStats().timedOut).
      } else {
        assert.fail(`${where(r.i)}: unexpected rejection of a ${r.kind} task: ${err && err.stack}`);
      }
    }
    for (const r of records) {
      // Tasks that cannot finish on their own end by timeout or cancel;
      // the others succeed unless cancelled.
      if (!r.cancelCalls.includes(true)) {
        if (r.kind in expectedValue) assert.equal(r.outcome.ok, true, where(r.i));
        else assert.equal(r.outcome.error.code, 'ERR_TASK_TIMEOUT', where(r.i));
      }
    }
    const started = { spin: shared.get(10), hang: shared.get(11), poller: shared.get(12) };
    if (process.env.TASKLETS_SOAK_VERBOSE) console.log(`# seed ${SEED}`, counts, 'started', started);
    // Not only queued tasks timed out or were cancelled: running ones too.
    assert.ok(started.spin > 0 && started.hang > 0, `started: ${JSON.stringify(started)} (seed ${SEED})`);
    assert.equal(counts.fulfilled + counts.aborted + counts.timedOut, TASKS);
    assert.ok(counts.aborted > 0 && counts.timedOut > 0 && counts.fulfilled > 0, JSON.stringify(counts));

    // The native counters agree with what the promises say.
    await eventually(() => {
      const s = pool.getStats();
      return s.executed + s.failed + s.cancelled + s.timedOut === TASKS;
    });
    const stats = pool.getStats();
    const context = `${JSON.stringify(counts)} vs executed ${stats.executed}, failed ${stats.failed}, ` +
      `cancelled ${stats.cancelled}, timedOut ${stats.timedOut} (seed ${SEED})`;
    assert.equal(stats.pending, 0);
    assert.equal(stats.replacedWorkers, 0);
    assert.equal(stats.activeWorkers, 2);
    assert.equal(stats.queued.high + stats.queued.normal + stats.queued.low, 0);
    assert.equal(stats.failed, 0, context);
    assert.equal(stats.executed + stats.failed + stats.cancelled + stats.timedOut, TASKS, context);
    assert.equal(stats.executed, counts.fulfilled, context);
    // A task cancelled while running that then timed out is a timeout for
    // the runtime and an AbortError for its caller.
    assert.equal(stats.cancelled + stats.timedOut, counts.aborted + counts.timedOut, context);
    assert.ok(stats.timedOut >= counts.timedOut, context);

    // Still serving, and it shuts down in time.
    assert.deepEqual(await Promise.all([pool.run(quick, { args: [21] }), pool.run(waiter, { args: [7, 1] })]), [42, -7]);
    await assertShutsDownInTime(pool);
  });

  test('a storm of cancels over 1200 async tasks in flight at once (seed ' + SEED + ')', { timeout: scaled(60000) }, async () => {
    const COUNT = 1200;
    const random = generator(SEED + 1);
    const pool = new Tasklets({ workers: 2 });
    Atomics.store(shared.cells, 13, 0);
    const promises = Array.from({ length: COUNT }, () => pool.run(longWaiter, { args: [shared.key, 20000] }));
    const settling = Promise.allSettled(promises);   // handled from the start
    const deadline = Date.now() + 30000;
    while (shared.get(13) < COUNT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(shared.get(13), COUNT, 'all the tasks are running (waiting on their signal)');
    assert.equal(pool.getStats().pending, COUNT);

    // Random order; the first 400 cancelled in one go (more abort requests
    // than the executors' abort ring holds), the rest in bursts spread over
    // event-loop turns and timers. A third with force.
    const order = promises.map((p, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    const returned = new Array(COUNT);
    const cancel = (k) => {
      returned[k] = pool.cancel(promises[k], { force: random() < 1 / 3 });
    };
    order.slice(0, 400).forEach(cancel);
    for (let start = 400; start < COUNT; start += 50) {
      if (random() < 0.5) await new Promise((resolve) => setImmediate(resolve));
      else await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 10)));
      order.slice(start, start + 50).forEach(cancel);
    }
    assert.ok(returned.every((r) => r === true), 'every task was still pending when cancelled');

    const outcomes = await settling;
    outcomes.forEach((o, k) => {
      assert.equal(o.status, 'rejected', `task ${k}: ${o.value}`);
      assert.equal(o.reason.name, 'AbortError', `task ${k}: ${o.reason && o.reason.stack}`);
      assert.equal(o.reason.taskId, promises[k].taskId);
    });
    await eventually(() => pool.getStats().cancelled === COUNT);
    const stats = pool.getStats();
    assert.equal(stats.pending, 0);
    assert.equal(stats.cancelled, COUNT);
    assert.equal(stats.executed, 0);
    assert.equal(stats.timedOut, 0);
    assert.equal(stats.replacedWorkers, 0);

    assert.equal(await pool.run(quick, { args: [4] }), 8);
    await assertShutsDownInTime(pool);
  });

  test('force cancels racing with the completions of short synchronous tasks (seed ' + SEED + ')', { timeout: scaled(60000) }, async () => {
    const random = generator(SEED + 2);
    const pool = new Tasklets({ workers: 2 });
    const work = (n, i) => {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += k % 7;
      return sum >= 0 ? i : -1;
    };
    let fulfilled = 0;
    let aborted = 0;
    for (let round = 0; round < FORCE_ROUNDS; round++) {
      const promises = Array.from({ length: 400 }, (_, i) => pool.run(work, { args: [20000 + (i % 5) * 20000, i] }));
      const settling = Promise.allSettled(promises);
      const cancelled = new Set();
      const cancels = [];
      for (let i = 0; i < promises.length; i++) {
        if (random() >= 0.4) continue;
        const ms = random() * 60;
        cancels.push(new Promise((resolve) => setTimeout(() => {
          if (pool.cancel(promises[i], { force: true })) cancelled.add(i);
          resolve();
        }, ms)));
      }
      await Promise.all(cancels);
      (await settling).forEach((o, i) => {
        if (o.status === 'fulfilled') {
          fulfilled++;
          assert.equal(o.value, i, `round ${round} task ${i} (seed ${SEED})`);
        } else {
          aborted++;
          assert.equal(o.reason.name, 'AbortError', `round ${round} task ${i}: ${o.reason && o.reason.stack}`);
          assert.ok(cancelled.has(i), `round ${round} task ${i}: aborted, yet its cancel() returned false or never ran (seed ${SEED})`);
        }
      });
    }
    assert.ok(aborted > 0, 'some force cancels landed');
    await eventually(() => pool.getStats().executed + pool.getStats().cancelled === fulfilled + aborted);
    const stats = pool.getStats();
    const context = `fulfilled ${fulfilled}, aborted ${aborted}; executed ${stats.executed}, cancelled ${stats.cancelled} (seed ${SEED})`;
    assert.equal(stats.executed, fulfilled, context);
    assert.equal(stats.cancelled, aborted, context);
    assert.equal(stats.failed, 0, context);
    assert.equal(stats.timedOut, 0, context);
    assert.equal(stats.replacedWorkers, 0);
    assert.equal(stats.pending, 0);
    assert.equal(await pool.run(quick, { args: [5] }), 10);
    await pool.shutdown();
  });

  // cancelRange walks a group from its first id while the executors take
  // tasks from the same end: a task is cancelled just as an executor pops
  // it. Regression: the addon cancelled without holding a reference, the
  // executor dropped the queue's, and the task object was recycled under
  // the completion callback (a completion with a garbled id, a group that
  // never finished settling, once a crash).
  test('aborting groups while the executors drain them: every task settles once', { timeout: scaled(60000) }, async () => {
    const pool = new Tasklets({ workers: 2 });
    const n = 20000;
    const tasks = Array.from({ length: n }, (_, i) => ({ task: (x) => x, args: [i] }));
    const before = pool.getStats();
    for (let round = 0; round < GROUP_ROUNDS; round++) {
      const controller = new AbortController();
      // The group reaches the addon in chunks: by the time runAll returns,
      // the executors are taking its first tasks.
      const group = pool.runAll(tasks, { signal: controller.signal });
      controller.abort();
      await assert.rejects(group, { name: 'AbortError' });
      const settled = await eventually(() => pool.getStats().pending === 0, 5000);
      assert.ok(settled, `round ${round}: ${pool.getStats().pending} tasks of an aborted group never settled`);
    }
    await eventually(() => {
      const s = pool.getStats();
      return s.executed + s.cancelled - before.executed - before.cancelled === GROUP_ROUNDS * n;
    });
    const s = pool.getStats();
    assert.equal(s.executed + s.cancelled - before.executed - before.cancelled, GROUP_ROUNDS * n, 'each task ran or was cancelled, once');
    assert.equal(s.failed, 0);
    assert.equal(await pool.run(quick, { args: [5] }), 10);
    await pool.shutdown();
  });
});
