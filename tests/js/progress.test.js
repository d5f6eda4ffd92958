'use strict';
// Progress reports on a real pool: tasklet.progress(percent, detail) inside
// a task, delivered to run()'s onProgress as { taskId, percent, detail },
// throttled per task (the latest report is never lost), validated inside the
// task; tasklet.id is the promise's taskId.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

// A task that reports n times as fast as it can (i of n, in percent) and
// returns n; the events its onProgress received.
function reportEach(pool, n) {
  const events = [];
  const promise = pool.run((count) => {
    for (let i = 1; i <= count; i++) tasklet.progress((i * 100) / count, i);
    return count;
  }, { args: [n], onProgress: (event) => events.push(event) });
  return { events, promise };
}

describe('progress', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('onProgress receives { taskId, percent, detail } for each report, in order', async () => {
    const events = [];
    const promise = pool.run(async (steps) => {
      tasklet.progress(0, 'start');
      for (let i = 1; i <= steps; i++) {
        // Longer than the throttle interval between reports: none is merged.
        await new Promise((resolve) => setTimeout(resolve, 80));
        tasklet.progress((i * 100) / steps, { step: i });
      }
      return 'done';
    }, { args: [4], onProgress: (event) => events.push(event) });
    assert.equal(await promise, 'done');
    const id = promise.taskId;
    assert.deepEqual(events, [
      { taskId: id, percent: 0, detail: 'start' },
      { taskId: id, percent: 25, detail: { step: 1 } },
      { taskId: id, percent: 50, detail: { step: 2 } },
      { taskId: id, percent: 75, detail: { step: 3 } },
      { taskId: id, percent: 100, detail: { step: 4 } },
    ]);
  });

  test('reports are throttled: a tight loop of 100000 reports causes few callbacks', async () => {
    const { events, promise } = reportEach(pool, 100000);
    assert.equal(await promise, 100000);
    assert.ok(events.length >= 1, 'at least one report arrives');
    assert.ok(events.length < 1000, `${events.length} callbacks for 100000 reports`);
    assert.equal(events[0].taskId, promise.taskId);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].detail > events[i - 1].detail, 'in order');
  });

  // The executor sends a task's latest report when the task ends, before its
  // completion; reports travel on a MessagePort and completions through the
  // addon, so the main thread drains the executor's progress port before it
  // settles such a task (before that fix, 30 to 120 of the 500 quick tasks
  // below lost their report on 2 cores).
  test('the final report of a quick task reaches onProgress before its promise settles', async () => {
    const { events, promise } = reportEach(pool, 100000);
    assert.equal(await promise, 100000);
    assert.deepEqual(events.at(-1), { taskId: promise.taskId, percent: 100, detail: 100000 });
    let lost = 0;
    for (let round = 0; round < 10; round++) {
      const runs = Array.from({ length: 50 }, (_, i) => {
        const events = [];
        const quick = pool.run((x) => {
          tasklet.progress(100, x);
          return x;
        }, { args: [i], onProgress: (event) => events.push(event) });
        return quick.then((value) => ({ value, events, id: quick.taskId }));
      });
      for (const { value, events, id } of await Promise.all(runs)) {
        if (events.length === 0) lost++;
        else assert.deepEqual(events, [{ taskId: id, percent: 100, detail: value }]);
      }
    }
    assert.equal(lost, 0, `${lost} of 500 final reports lost`);
  });

  test('a report sent at once after a throttled one stays the last one delivered', async () => {
    const events = [];
    const promise = pool.run(() => {
      const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      tasklet.progress(10, 'sent at once');
      tasklet.progress(50, 'throttled');   // within the interval: queued
      pause(120);                          // synchronous work: no timer can fire
      tasklet.progress(100, 'done');       // past the interval: sent at once
      return 'ok';
    }, { onProgress: (event) => events.push(event.percent) });
    assert.equal(await promise, 'ok');
    assert.equal(events.at(-1), 100, `reports in order of arrival: ${events}`);
    for (let i = 1; i < events.length; i++) assert.ok(events[i] > events[i - 1], `in order: ${events}`);
  });

  test('concurrent tasks: each onProgress gets only its own task\'s reports', async () => {
    const logs = [[], [], [], []];
    const promises = logs.map((log, i) => pool.run(async (tag) => {
      for (let k = 1; k <= 3; k++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        tasklet.progress(k * 25, tag);
      }
      return tasklet.id;
    }, { args: [`task ${i}`], onProgress: (event) => log.push(event) }));
    const ids = await Promise.all(promises);
    logs.forEach((log, i) => {
      assert.equal(ids[i], promises[i].taskId);
      assert.deepEqual(log.map((e) => e.percent), [25, 50, 75]);
      for (const event of log) {
        assert.equal(event.taskId, promises[i].taskId);
        assert.equal(event.detail, `task ${i}`);
      }
    });
  });

  test('a percent outside 0..100 throws a RangeError inside the task', async () => {
    for (const bad of [-1, 100.5, 101, NaN, Infinity, '50', undefined, null]) {
      const promise = pool.run((p) => {
        tasklet.progress(p);
        return 'not reached';
      }, { args: [bad] });
      await assert.rejects(promise, (err) => {
        assert.equal(err.name, 'RangeError', String(bad));
        assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(err.message, /percent/);
        assert.equal(err.taskId, promise.taskId);
        return true;
      });
    }
    // The bounds themselves are fine; the task can catch the error and go on.
    const events = [];
    assert.equal(await pool.run(() => {
      tasklet.progress(0);
      tasklet.progress(100);
      try {
        tasklet.progress(200);
      } catch (err) {
        return err.code;
      }
      return 'no error';
    }, { onProgress: (event) => events.push(event.percent) }), 'ERR_INVALID_ARG_VALUE');
    assert.deepEqual(events, [0, 100]);
  });

  test('a detail that cannot be cloned makes progress() throw inside the task', async () => {
    await assert.rejects(pool.run(() => {
      tasklet.progress(10, () => 'a function');
      return 'not reached';
    }, { onProgress: () => {} }), { name: 'DataCloneError' });
  });

  test('tasklet.id is the promise\'s taskId, also after an await', async () => {
    const sync = pool.run(() => tasklet.id);
    assert.equal(await sync, sync.taskId);
    const later = pool.run(async () => {
      const before = tasklet.id;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return [before, tasklet.id];
    });
    assert.deepEqual(await later, [later.taskId, later.taskId]);
    const many = Array.from({ length: 20 }, () => pool.run(() => tasklet.id));
    assert.deepEqual(await Promise.all(many), many.map((p) => p.taskId));
  });

  test('progress without an onProgress is accepted and ignored', async () => {
    assert.equal(await pool.run(() => {
      for (let i = 0; i <= 100; i++) tasklet.progress(i);
      return 'ok';
    }), 'ok');
  });

  test('an onProgress that throws is logged, and neither the task nor later reports are affected', async () => {
    const logFile = path.join(os.tmpdir(), `tasklets-progress-${process.pid}.log`);
    fs.rmSync(logFile, { force: true });
    const logged = new Tasklets({ workers: 1, logging: { level: 'warn', format: 'json', destination: logFile } });
    try {
      let calls = 0;
      const promise = logged.run(async () => {
        tasklet.progress(50, 'half');
        await new Promise((resolve) => setTimeout(resolve, 80));
        tasklet.progress(90, 'almost');
        await new Promise((resolve) => setTimeout(resolve, 80));
        return 'finished';
      }, {
        onProgress: () => {
          calls++;
          throw new Error('listener bug');
        },
      });
      assert.equal(await promise, 'finished');
      assert.equal(calls, 2);
      const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      const about = lines.filter((line) => /onProgress threw/.test(line.msg));
      assert.equal(about.length, 2);
      assert.equal(about[0].taskId, promise.taskId);
      assert.match(JSON.stringify(about[0]), /listener bug/);
    } finally {
      await logged.shutdown();
      fs.rmSync(logFile, { force: true });
    }
  });

  test('onProgress must be a function', async () => {
    for (const bad of [1, 'fn', {}, null]) {
      await assert.rejects(pool.run(() => 1, { onProgress: bad }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /options\.onProgress/ });
    }
  });

  test('tasklet is not defined on the main thread, and only inside a task whose source names it', async () => {
    assert.equal(globalThis.tasklet, undefined);
    // The executor defines the global, but a function whose source does not
    // mention it gets no task context.
    const message = await pool.run(() => {
      const name = ['task', 'let'].join('');
      try {
        return String(globalThis[name].id);
      } catch (err) {
        return err.message;
      }
    });
    assert.match(message, /only available inside a tasklets task/);
  });
});
