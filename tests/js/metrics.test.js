'use strict';
// Metrics on a real pool (docs/observability.md): outcome and error-code
// counts and histograms that add up exactly against a known mix of tasks,
// the bounded label set, the timeline of a queue that fills and drains,
// per-executor figures (a stuck task is visible), the exposition checked by
// promtool, the node:http handler, prom-client's registry, `metrics: false`.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { execFileSync } = require('node:child_process');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { BOUNDS } = require('../../js/metrics/histogram');
const { unsupported, sharedCells, waitFor, eventually, blocker } = require('./fixtures/control/shared');
const { scaled } = require('./fixtures/time-scale');

const { Tasklets } = tasklets;
const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`) || unsupported;
const shared = skip ? null : sharedCells('tasklets-test:metrics');
const PROMTOOL = '/usr/bin/promtool';

function throwWith(code) {
  const err = new Error(`failed with ${code}`);
  err.code = code;
  throw err;
}

function spin() {
  for (;;);
}

function spinFor(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

// The sample value of `name` with exactly these labels in exposition `text`.
function sample(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${want}} `));
  assert.ok(line !== undefined, `no sample ${name}{${want}}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

function promtoolCheck(text) {
  try {
    execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    assert.fail(`promtool rejected the exposition (exit ${err.status}):\n${err.stdout}${err.stderr}`);
  }
}

function checkHistogram(h) {
  assert.equal(h.buckets.length, BOUNDS.length);
  for (let i = 1; i < h.buckets.length; i++) assert.ok(h.buckets[i - 1] <= h.buckets[i], 'cumulative');
  assert.ok(h.buckets[h.buckets.length - 1] <= h.count);
}

describe('metrics', { skip, timeout: 120000 }, () => {
  test('outcomes, error codes and histograms add up exactly against a known mix', async () => {
    shared.reset();
    const pool = new Tasklets({ workers: 1, metrics: { name: 'mix' } });
    try {
      const held = pool.run(blocker, { args: [shared.key] });
      await waitFor(() => shared.started === 1, 'the blocker to start');
      const controllers = [new AbortController(), new AbortController()];
      const cancelled = controllers.map((c) => pool.run(() => 'never', { signal: c.signal }));
      for (const c of controllers) c.abort();
      for (const p of cancelled) await assert.rejects(p, { code: 'ABORT_ERR' });
      shared.open();
      assert.equal(await held, 'released');
      const ok = Array.from({ length: 20 }, (_, i) => pool.run((x) => x * 2, { args: [i] }));
      const codes = ['E_ONE', 'E_ONE', 'E_ONE', 'E_TWO', 'E_TWO'];
      const thrown = codes.map((code) => pool.run(throwWith, { args: [code] }));
      const typeError = pool.run(() => null.x);
      const [values, errs, typeErr] = await Promise.all([Promise.all(ok), Promise.allSettled(thrown), Promise.allSettled([typeError])]);
      // One after the other, each on an idle executor: both run before they
      // time out (a timeout counts from submission; one queued behind the
      // other could time out before it ran, and never count as run).
      const timeouts = [];
      for (let i = 0; i < 2; i++) timeouts.push(...await Promise.allSettled([pool.run(spin, { timeout: scaled(100) })]));
      assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => i * 2));
      assert.deepEqual(errs.map((r) => r.reason.code), codes);
      assert.ok(typeErr[0].reason instanceof TypeError);
      assert.deepEqual(timeouts.map((r) => r.reason.code), ['ERR_TASK_TIMEOUT', 'ERR_TASK_TIMEOUT']);

      const text = pool.metrics();
      const base = { pool: 'mix' };
      const settled = (outcome) => sample(text, 'tasklets_task_settlements_total', { ...base, outcome });
      assert.equal(settled('succeeded'), 21);
      assert.equal(settled('failed'), 6);
      assert.equal(settled('cancelled'), 2);
      assert.equal(settled('timed_out'), 2);
      const code = (c) => sample(text, 'tasklets_task_errors_total', { ...base, code: c });
      assert.equal(code('E_ONE'), 3);
      assert.equal(code('E_TWO'), 2);
      assert.equal(code('TypeError'), 1);
      assert.equal(code('ERR_TASK_TIMEOUT'), 2);
      assert.equal(code('ABORT_ERR'), 2);
      assert.equal(sample(text, 'tasklets_round_trip_seconds_count', base), 31);
      assert.equal(sample(text, 'tasklets_round_trip_seconds_bucket', { ...base, le: '+Inf' }), 31);

      // The runtime counts a task a moment after its promise may settle.
      assert.ok(await eventually(() => pool.getStats().histograms.runTime.count === 29), `the runtime saw 29 tasks run: ${JSON.stringify(pool.getStats().histograms.runTime)}`);
      const stats = pool.getStats();
      assert.equal(stats.executed, 21);
      assert.equal(stats.failed, 6);
      assert.equal(stats.timedOut, 2);
      assert.equal(stats.cancelled, 2);
      const { runTime, queueWait } = stats.histograms;
      checkHistogram(runTime);
      checkHistogram(queueWait);
      // 21 + 6 + 2: every task that ran.
      assert.equal(queueWait.count, 29);
      // The spinning tasks ran for their timeout each.
      assert.ok(runTime.buckets[BOUNDS.indexOf(0.05)] <= 27);
      assert.ok(runTime.sum >= 2 * scaled(100) / 1000, `run time sum ${runTime.sum}`);
      assert.deepEqual([...stats.histograms.bounds], BOUNDS, 'the native and JS bounds agree');
      checkHistogram(pool.getStats().histograms.taskCpu);
      assert.equal(stats.histograms.taskCpu.count, 0, 'per-task CPU time is off by default');

      const health = pool.getHealth();
      assert.deepEqual(health.errors.byCodeTotal.codes, { ABORT_ERR: 2, E_ONE: 3, E_TWO: 2, TypeError: 1, ERR_TASK_TIMEOUT: 2 });
      assert.deepEqual(health.errors.byCode.outcomes, { succeeded: 21, failed: 6, cancelled: 2, timed_out: 2 });
      if (fs.existsSync(PROMTOOL)) promtoolCheck(text);
    } finally {
      shared.open();
      await pool.shutdown();
    }
  });

  test('error codes beyond the first 20 are counted as other', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { name: 'codes' } });
    try {
      const codes = Array.from({ length: 25 }, (_, i) => `E_${i}`);
      await Promise.all(codes.map((c) => pool.run(throwWith, { args: [c] }).catch(() => {})));
      const { codes: counted } = pool.getHealth().errors.byCodeTotal;
      assert.equal(Object.keys(counted).length, 21);
      assert.equal(counted.other, 5);
      for (const c of codes.slice(0, 20)) assert.equal(counted[c], 1);
    } finally {
      await pool.shutdown();
    }
  });

  test('the timeline shows a queue that filled and drained', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { timelineIntervalMs: 20, timelineSamples: 1000 } });
    try {
      await pool.run(() => 'warm');
      const tasks = Array.from({ length: 60 }, () => pool.run(spinFor, { args: [10] }));
      await Promise.all(tasks);
      const drained = pool.getTimeline().t.length;
      await waitFor(() => pool.getTimeline().t.length >= drained + 3, 'samples after the drain');
      const tl = pool.getTimeline();
      assert.equal(tl.intervalMs, 20);
      const n = tl.t.length;
      for (const column of [tl.queued.high, tl.queued.normal, tl.queued.low, tl.running, tl.throughput, tl.failures, tl.rss, tl.utilization]) {
        assert.equal(column.length, n);
      }
      const peak = Math.max(...tl.queued.normal);
      const at = tl.queued.normal.indexOf(peak);
      assert.ok(peak >= 20, `the queue filled (peak ${peak})`);
      assert.ok(tl.queued.normal.slice(at).includes(0), 'and drained');
      assert.equal(tl.queued.normal[n - 1], 0);
      assert.ok(Math.max(...tl.throughput) > 0);
      // qemu-user (scripts/test-arm64.sh) reports an RSS of 0.
      if (process.memoryUsage().rss > 0) assert.ok(tl.rss.every((r) => r > 0));
      assert.ok(tl.utilization.some((row) => row.some((u) => u !== null && u > 0.5)), 'the busy executor was utilized');
      assert.deepEqual(JSON.parse(JSON.stringify(tl)), tl, 'plain arrays');
    } finally {
      await pool.shutdown();
    }
  });

  test('per-executor figures: heap, CPU, busy time, and a stuck task with its age', async () => {
    shared.reset();
    const pool = new Tasklets({ workers: 1 });
    try {
      await pool.run(() => 'warm');
      const stuck = pool.run(blocker, { args: [shared.key] });
      await waitFor(() => shared.started === 1, 'the blocker to start');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const workers = pool.getStats().workers;
      const w = workers.find((x) => x.currentTaskId !== undefined && x.currentTaskId !== null);
      assert.ok(w !== undefined, `an executor shows its current task: ${JSON.stringify(workers)}`);
      assert.equal(w.currentTaskId, stuck.taskId);
      assert.ok(w.currentTaskAge >= 250, `age ${w.currentTaskAge}`);
      assert.ok(w.heapUsed > 0 && w.heapLimit > w.heapUsed && w.externalMemory >= 0, JSON.stringify(w));
      const text = pool.metrics();
      const label = text.match(/pool="([^"]+)"/)[1];
      assert.ok(sample(text, 'tasklets_executor_current_task_age_seconds', { pool: label, worker: String(w.id) }) >= 0.25);
      shared.open();
      await stuck;
      await eventually(() => pool.getStats().workers[w.id].currentTaskId === null);
      const after = pool.getStats().workers[w.id];
      assert.equal(after.currentTaskId, null);
      assert.ok(after.busyTime >= 250000, `busy ${after.busyTime} us`);
      assert.ok(after.cpuTime > 0);
    } finally {
      shared.open();
      await pool.shutdown();
    }
  });

  test('per-task CPU time when asked for: a sleeping task takes little CPU', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { taskCpuTime: true } });
    try {
      // Other processes may take the CPU from a spinning task; a sleeping
      // one takes almost none whatever they do.
      await pool.run((ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms), { args: [100] });
      assert.ok(await eventually(() => pool.getStats().histograms.taskCpu.count === 1));
      const slept = pool.getStats().histograms;
      assert.ok(slept.taskCpu.sum < 0.02, `cpu of a sleeping task ${slept.taskCpu.sum}`);
      assert.ok(slept.runTime.sum >= 0.1, `run ${slept.runTime.sum}`);
      await pool.run(spinFor, { args: [100] });
      assert.ok(await eventually(() => pool.getStats().histograms.taskCpu.count === 2));
      const spun = pool.getStats().histograms.taskCpu.sum - slept.taskCpu.sum;
      assert.ok(spun > 0.01 && spun < 0.2, `cpu of a spinning task ${spun}`);
    } finally {
      await pool.shutdown();
    }
  });

  test('tasklets.metricsHandler() serves every pool, promtool accepts it', async () => {
    const a = new Tasklets({ workers: 1, metrics: { name: 'a' } });
    const b = new Tasklets({ workers: 1, metrics: { name: 'b "quoted"' } });
    const server = http.createServer(tasklets.metricsHandler());
    try {
      await Promise.all([a.run(() => 1), b.run(() => 2), b.run(() => 3)]);
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const res = await fetch(`http://127.0.0.1:${server.address().port}/metrics`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      assert.equal(sample(text, 'tasklets_round_trip_seconds_count', { pool: 'a' }), 1);
      assert.equal(sample(text, 'tasklets_round_trip_seconds_count', { pool: 'b \\"quoted\\"' }), 2);
      assert.equal(text.split('\n').filter((l) => l === '# TYPE tasklets_round_trip_seconds histogram').length, 1);
      if (fs.existsSync(PROMTOOL)) promtoolCheck(text);
      const direct = tasklets.metrics();
      assert.equal(sample(direct, 'tasklets_round_trip_seconds_count', { pool: 'a' }), 1, 'tasklets.metrics() is what the handler serves');
    } finally {
      server.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
    assert.ok(!tasklets.metrics().includes('pool="a"'), 'a pool leaves the registry when it shuts down');
  });

  test('tasklets.registerMetrics() adds the families to a prom-client registry', async () => {
    const { Registry } = require('prom-client');
    const register = new Registry();
    const remove = tasklets.registerMetrics(register);
    const pool = new Tasklets({ workers: 1, metrics: { name: 'prom' } });
    try {
      await Promise.all([pool.run(() => 1), pool.run(throwWith, { args: ['E_PROM'] }).catch(() => {})]);
      const text = await register.metrics();
      assert.equal(sample(text, 'tasklets_task_errors_total', { pool: 'prom', code: 'E_PROM' }), 1);
      assert.equal(sample(text, 'tasklets_round_trip_seconds_bucket', { pool: 'prom', le: '+Inf' }), 2);
      if (fs.existsSync(PROMTOOL)) promtoolCheck(text);
      const json = await register.getMetricsAsJSON();
      assert.ok(json.some((m) => m.name === 'tasklets_run_time_seconds' && m.type === 'histogram'));
      remove();
      assert.equal((await register.metrics()).includes('tasklets_'), false);
      assert.throws(() => tasklets.registerMetrics({}), { code: 'ERR_INVALID_ARG_TYPE' });
    } finally {
      await pool.shutdown();
    }
  });

  test('metrics: false records no per-task figures', async () => {
    const pool = new Tasklets({ workers: 1, metrics: false });
    try {
      await Promise.all([pool.run(() => 1), pool.run(() => 2)]);
      const s = pool.getStats();
      assert.equal(s.executed, 2);
      assert.equal(s.histograms.runTime.count, 0);
      assert.equal(s.histograms.queueWait.count, 0);
      const text = pool.metrics();
      assert.equal(sample(text, 'tasklets_round_trip_seconds_count', { pool: text.match(/pool="([^"]+)"/)[1] }), 0);
      assert.equal(pool.getTimeline().t.length, 0);
      assert.equal(pool.getHealth().errors.byCode, null);
    } finally {
      await pool.shutdown();
    }
  });

  test('bad metrics options are typed errors', () => {
    assert.throws(() => new Tasklets({ metrics: 'yes' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /"metrics"/ });
    assert.throws(() => new Tasklets({ metrics: { enabled: 1 } }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /"metrics.enabled"/ });
    assert.throws(() => new Tasklets({ metrics: { timelineIntervalMs: 5 } }), { name: 'RangeError', message: /"metrics.timelineIntervalMs"/ });
    assert.throws(() => new Tasklets({ metrics: { name: '' } }), { name: 'RangeError', message: /"metrics.name"/ });
    assert.throws(() => new Tasklets({ metrics: { sampling: 1 } }), { name: 'TypeError', message: /"metrics.sampling" option is not supported/ });
  });
});
