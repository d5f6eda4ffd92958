'use strict';
// Trace files (js/trace-file.js): a recording of a few hundred tasks of
// every outcome, checked against what the runtime and the promises said:
// valid Trace Event JSON, one run slice per task that ran, on the track of
// the executor the runtime reports, no overlap on a track, every slice
// inside its task's life, instants for cancels, timeouts and a replaced
// executor; the ring's bound; typed errors for misuse.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const diagnosticsChannel = require('node:diagnostics_channel');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { monotonicMs } = require('../../js/trace-file-clock');
const { checkTraceDocument, runSlices } = require('./fixtures/trace-check');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;

function succeedTask(x) {
  return x * 2;
}
function throwTask(x) {
  const err = new RangeError(`bad ${x}`);
  err.code = 'E_TRACE_TEST';
  throw err;
}
function spinTask(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}
function loopForeverTask() {
  for (;;);
}
async function promiseTask(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
}

// Runtime-reported executor per task id, from the tracing channel.
function watchExecutors() {
  const executorOf = new Map();
  const channel = diagnosticsChannel.tracingChannel(tasklets.tracingChannelName);
  const subscribers = { asyncEnd: (ctx) => executorOf.set(ctx.taskId, ctx.executor) };
  channel.subscribe(subscribers);
  return { executorOf, stop: () => channel.unsubscribe(subscribers) };
}

function expectedStatus(outcome) {
  if (outcome.status === 'fulfilled') return 'succeeded';
  switch (outcome.reason.code) {
    case 'ABORT_ERR': return 'cancelled';
    case 'ERR_TASK_TIMEOUT': return 'timed_out';
    case 'ERR_WORKER_CRASHED': return 'crashed';
    default: return 'failed';
  }
}

describe('trace files', { skip, timeout: 120000 }, () => {
  test('a few hundred tasks of every outcome: one run slice each, on the right track, in time', async () => {
    const pool = new Tasklets({ workers: 2, metrics: { name: 'traced' } });
    let watch = null;
    try {
      await pool.run(() => 'warm');
      watch = watchExecutors();
      pool.startTrace();
      const tasks = [];   // { promise, expect: name of its function, settledAt }
      const add = (promise, name) => {
        const task = { id: promise.taskId, name, settledAt: NaN, outcome: null };
        task.done = promise.then((value) => ({ status: 'fulfilled', value }), (reason) => ({ status: 'rejected', reason }))
          .then((outcome) => {
            task.settledAt = monotonicMs();
            task.outcome = outcome;
          });
        tasks.push(task);
        return promise;
      };
      for (let i = 0; i < 300; i++) {
        const kind = i % 10;
        if (kind < 5) add(pool.run(succeedTask, { args: [i], priority: i % 3 === 0 ? 'high' : 'normal' }), 'succeedTask');
        else if (kind < 7) add(pool.run(throwTask, { args: [i] }), 'throwTask');
        else if (kind === 7) add(pool.run(promiseTask, { args: [1] }), 'promiseTask');
        else if (kind === 8) add(pool.run(spinTask, { args: [1] }), 'spinTask');
        else add(pool.map((x) => x + 1, [i, i + 1], { chunkSize: 2 }), 'map: (x) => x + 1');
      }
      add(pool.run(loopForeverTask, { timeout: 50 }), 'loopForeverTask');
      const queuedCancel = add(pool.run(spinTask, { args: [1], priority: 'low' }), 'spinTask');
      assert.equal(pool.cancel(queuedCancel.taskId), true);
      // Synchronous and cooperative: it says when it runs, then polls its signal.
      let started;
      const running = add(pool.run(function cancelledWhileRunning() {
        tasklet.progress(0);
        const end = Date.now() + 20000;
        while (!tasklet.signal.aborted && Date.now() < end);
        return 'not cancelled';
      }, { onProgress: () => started() }), 'cancelledWhileRunning');
      await new Promise((resolve) => {
        started = resolve;
      });
      assert.equal(pool.cancel(running.taskId), true);
      await Promise.all(tasks.map((t) => t.done));
      const doc = pool.stopTrace();

      const parsed = JSON.parse(JSON.stringify(doc));
      const tracks = checkTraceDocument(parsed);
      const { metadata } = parsed;
      assert.equal(metadata.pool, 'traced');
      // Each map() call is one task (chunkSize 2), without a task id of its own.
      assert.equal(metadata.recordedTasks, tasks.length);
      assert.equal(watch.executorOf.size, tasks.length);
      assert.equal(metadata.droppedEvents, 0);
      assert.equal(metadata.estimatedTasks, 0);
      assert.equal(metadata.lostExecutorRecords, 0);
      assert.equal(metadata.unsettledTasks, 0);

      const slices = runSlices(parsed);
      const queued = new Map(parsed.traceEvents.filter((e) => e.cat === 'tasklets.queue').map((e) => [`${e.ph}${e.args ? e.args.taskId : e.id}`, e]));
      let ran = 0;
      for (const [id, executor] of watch.executorOf) {
        const mine = slices.get(id) || [];
        assert.ok(queued.get(`b${id}`) !== undefined, `task ${id} has its queue slice`);
        if (executor >= 0) {
          ran++;
          assert.equal(mine.length, 1, `task ${id} has one run slice`);
          assert.equal(tracks.get(mine[0].tid), `tasklets executor ${executor} (pool traced)`);
        } else {
          assert.equal(mine.length, 0, `task ${id} never ran`);
        }
      }
      assert.ok(ran >= 300, `${ran} tasks ran`);
      assert.equal([...slices.values()].filter(([slice]) => slice.name === 'map: (x) => x + 1').length, 30);
      for (const task of tasks.filter((t) => t.id !== undefined)) {
        const executor = watch.executorOf.get(task.id);
        const status = expectedStatus(task.outcome);
        const begin = queued.get(`b${task.id}`);
        if (executor >= 0) {
          const [slice] = slices.get(task.id);
          assert.equal(slice.name, task.name);
          assert.equal(slice.args.status, status);
          assert.ok(begin.ts <= slice.ts, `task ${task.id}: submitted before it started`);
          assert.ok(slice.ts + slice.dur <= task.settledAt * 1000, `task ${task.id}: ran before its promise settled`);
        }
      }
      const instants = parsed.traceEvents.filter((e) => e.ph === 'i');
      const instantOf = (name, id) => instants.filter((e) => e.name === name && e.args.taskId === id);
      for (const task of tasks.filter((t) => t.id !== undefined)) {
        const status = expectedStatus(task.outcome);
        if (status === 'cancelled') assert.equal(instantOf('cancelled', task.id).length, 1, `cancel instant of ${task.id}`);
        if (status === 'timed_out') assert.equal(instantOf('timed out', task.id).length, 1, `timeout instant of ${task.id}`);
      }
      assert.equal(expectedStatus(tasks.find((t) => t.id === queuedCancel.taskId).outcome), 'cancelled');
      assert.equal(instants.filter((e) => e.name === 'cancelled').length, 2);
      assert.equal(instants.filter((e) => e.name === 'timed out').length, 1);
      const promise = parsed.traceEvents.filter((e) => e.cat === 'tasklets.promise' && e.ph === 'b');
      const promised = new Set(promise.map((e) => e.args.taskId));
      assert.deepEqual(tasks.filter((t) => t.name === 'promiseTask').map((t) => t.id).filter((id) => !promised.has(id)), []);
      assert.equal(promise.length, 30, 'one promise slice per promiseTask');
      assert.equal(expectedStatus(tasks.find((t) => t.id === running.taskId).outcome), 'cancelled');
    } finally {
      if (watch !== null) watch.stop();
      await pool.shutdown();
    }
  });

  test('a replaced executor shows as instants on its track, and its lost task as a slice', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { name: 'lossy' }, logging: 'off' });
    try {
      await pool.run(() => 1);
      pool.startTrace();
      const lost = pool.run(function exitExecutor() {
        process.exit(3);
      });
      await assert.rejects(lost, { code: 'ERR_WORKER_CRASHED' });
      assert.equal(await pool.run(succeedTask, { args: [2] }), 4);
      const doc = pool.stopTrace();
      const tracks = checkTraceDocument(doc);
      // The runtime may ask for the replacement before the old Worker's exit is seen.
      const instants = doc.traceEvents.filter((e) => e.ph === 'i').map((e) => [e.name, tracks.get(e.tid)]).sort();
      assert.deepEqual(instants, [
        ['executor replaced', 'tasklets executor 0 (pool lossy)'],
        ['executor stopped', 'tasklets executor 0 (pool lossy)'],
      ]);
      const stopped = doc.traceEvents.find((e) => e.name === 'executor stopped');
      assert.equal(stopped.args.exitCode, 3);
      const slice = runSlices(doc).get(lost.taskId);
      assert.equal(slice.length, 1);
      assert.equal(slice[0].name, 'exitExecutor');
      assert.equal(slice[0].args.status, 'crashed');
      assert.ok(slice[0].ts + slice[0].dur <= stopped.ts);
    } finally {
      await pool.shutdown();
    }
  });

  test('the ring keeps the newest tasks within its capacity and counts what it dropped', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      await pool.run(() => 'warm');   // its executor started before: no instant for it
      pool.startTrace({ capacity: 50 });
      await Promise.all(Array.from({ length: 100 }, (_, i) => pool.run(succeedTask, { args: [i] })));
      const doc = pool.stopTrace();
      checkTraceDocument(doc);
      const kept = doc.traceEvents.filter((e) => e.ph !== 'M');
      assert.ok(kept.length <= 50 && kept.length >= 48, `${kept.length} events kept`);
      // Three events per task (queue begin and end, run slice): whole tasks go.
      assert.equal(doc.metadata.droppedEvents, 300 - kept.length);
      assert.equal(doc.metadata.droppedTasks, 100 - kept.length / 3);
      assert.equal(doc.metadata.recordedTasks, 100);
      const ids = [...runSlices(doc).keys()];
      assert.deepEqual(ids, ids.slice().sort((a, b) => a - b));
      assert.equal(ids.at(-1), Math.max(...ids));
    } finally {
      await pool.shutdown();
    }
  });

  test('trace({ durationMs, path }) writes the file it returns; tasks before the start are not in it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-trace-'));
    const pool = new Tasklets({ workers: 1 });
    try {
      await pool.run(() => 'warm');
      const before = pool.run(spinTask, { args: [20] });
      const file = path.join(dir, 'out.json');
      // Long enough for `during` to settle on a loaded machine.
      const recording = pool.trace({ durationMs: 1500, path: file });
      const during = await pool.run(succeedTask, { args: [1] });
      assert.equal(during, 2);
      await before;
      const doc = await recording;
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(doc)));
      assert.equal(doc.metadata.recordedTasks, 1);
      assert.equal(doc.metadata.estimatedTasks, 0);
      assert.equal(runSlices(doc).size, 1);
    } finally {
      await pool.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('misuse: typed errors', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      assert.throws(() => pool.stopTrace(), { code: 'ERR_INVALID_STATE', name: 'Error' });
      assert.throws(() => pool.startTrace(5), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
      assert.throws(() => pool.startTrace({ capacity: 0 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      assert.throws(() => pool.startTrace({ capacity: 1.5 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      assert.throws(() => pool.startTrace({ capacity: '10' }), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
      assert.throws(() => pool.startTrace({ size: 10 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"size" option is not supported/ });
      assert.throws(() => pool.startTrace({ path: '' }), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => pool.startTrace({ path: '/no/such/dir/trace.json' }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      await assert.rejects(pool.trace(), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
      await assert.rejects(pool.trace({ durationMs: 0 }), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
      await assert.rejects(pool.trace({ durationMs: 10, capacity: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
      pool.startTrace();
      assert.throws(() => pool.startTrace(), { code: 'ERR_INVALID_STATE' });
      await assert.rejects(pool.trace({ durationMs: 10 }), { code: 'ERR_INVALID_STATE' });
      assert.ok(Array.isArray(pool.stopTrace().traceEvents));
      assert.throws(() => pool.stopTrace(), { code: 'ERR_INVALID_STATE' });
    } finally {
      await pool.shutdown();
    }
    assert.throws(() => pool.startTrace(), { code: 'ERR_POOL_SHUTDOWN' });
  });
});
