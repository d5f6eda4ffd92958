'use strict';
// Soak: minutes of mixed work on one pool, with a second pool created and
// shut down again and again beside it. Every ~30 s it prints one line: RSS,
// active handles by kind (process.getActiveResourcesInfo()), units submitted
// / settled / succeeded / failed by code, and the exactly-once check.
//
//   node perf/soak.js [minutes]        (./tasklets.sh soak [minutes], default 5)
//
// A "unit" is one promise the API returned: a run(), or a whole runAll /
// map / batch group. Each has an id; its settlement is counted per id and
// compared with what its kind must give (a result, or a rejection with one
// expected code). Exits 1 if a unit settled twice, never settled (still
// pending LOST_AFTER_MS after it was submitted, when every task has a
// timeout of at most 2 s or is cancelled within 50 ms), settled with an
// unexpected outcome, or if RSS grew more than RSS_BOUND_MB over its value
// at the end of the warm-up; the last line says which. TASKLETS_SOAK_SEED
// replays the same sequence of choices.

const { Tasklets } = require('../js/index');

const MINUTES = Number(process.argv[2] || 5);
const REPORT_MS = Number(process.env.TASKLETS_SOAK_REPORT_MS) || 30_000;
const WARMUP_MS = Math.min(120_000, MINUTES * 60_000 / 4);
// Headroom over the warm-up RSS: executors replaced after a crash or an
// out-of-memory death start with a fresh heap, and V8 grows the main heap
// in steps of several MB; a leak of a few KB per task or per pool exceeds it
// within minutes at this rate.
const RSS_BOUND_MB = Number(process.env.TASKLETS_SOAK_RSS_BOUND_MB) || 160;
const IN_FLIGHT = 48;
// At most one side pool alive at a time, one started per CHURN_EVERY_MS.
const CHURN_EVERY_MS = Number(process.env.TASKLETS_SOAK_CHURN_MS) || 2000;
const LOST_AFTER_MS = 60_000;
const SEED = Number(process.env.TASKLETS_SOAK_SEED) || (Date.now() % 0x7fffffff);

const { generator } = require('../tests/js/fixtures/random');  // seeded, so a failing run can be replayed
const random = generator(SEED);

const pool = new Tasklets({ workers: 2, memory: { limit: '64MB' }, logging: 'off' });

const counts = { submitted: 0, settled: 0, succeeded: 0, twice: 0, unexpected: 0, misattributed: 0 };
const byCode = new Map();      // settled units by outcome: 'ok' or the error's code
const byKind = new Map();      // submitted units by kind
// Times each unit settled, by id: one byte per unit (a Map would itself
// grow RSS by tens of MB over a long run).
let settledTimes = new Uint8Array(1 << 16);
const pending = new Map();     // unit id -> { kind, at }
const problems = [];
let nextId = 0;
let inFlight = 0;
let lastCrash = 0;
let lastOom = 0;
let churning = false;
let lastChurn = 0;
let churnPools = 0;

function note(problem) {
  if (problems.length < 20) problems.push(problem);
}

// Submits one unit: `start()` returns its promise; `check(ok, valueOrError)`
// says whether that outcome is one its kind allows.
function submit(kind, start, check) {
  const id = nextId++;
  counts.submitted++;
  byKind.set(kind, (byKind.get(kind) || 0) + 1);
  if (id >= settledTimes.length) {
    const grown = new Uint8Array(settledTimes.length * 2);
    grown.set(settledTimes);
    settledTimes = grown;
  }
  pending.set(id, { kind, at: Date.now() });
  inFlight++;
  let promise;
  try {
    promise = start();
  } catch (err) {
    promise = Promise.reject(err);
  }
  const settle = (ok, outcome) => {
    const times = settledTimes[id] = Math.min(255, settledTimes[id] + 1);
    if (times > 1) {
      counts.twice++;
      note(`unit ${id} (${kind}) settled ${times} times`);
      return;
    }
    pending.delete(id);
    inFlight--;
    counts.settled++;
    const code = ok ? 'ok' : String((outcome && outcome.code) || (outcome && outcome.name) || 'no code');
    if (ok) counts.succeeded++;
    byCode.set(code, (byCode.get(code) || 0) + 1);
    let fine = false;
    try {
      fine = check(ok, outcome);
    } catch {
      fine = false;
    }
    if (!fine) {
      counts.unexpected++;
      note(`unit ${id} (${kind}): unexpected ${ok ? `result ${JSON.stringify(outcome)}` : `error ${code}: ${outcome && outcome.message}`}`);
    }
  };
  promise.then((v) => settle(true, v), (e) => settle(false, e));
  return promise;
}

const rejectsWith = (code) => (ok, e) => !ok && e.code === code;

// When an executor dies (a crash or an out-of-memory task), every task it
// held rejects with the death's code, including async tasks whose promise
// was pending there (documented: "the executor running the task died").
const DEATHS = ['ERR_WORKER_CRASHED', 'ERR_WORKER_OUT_OF_MEMORY'];
// A crash task rejected as out of memory, or the reverse: seen when two
// executors die close together (perf/soak.js's report counts them apart;
// they are not lost tasks, and the code is what the main thread attributed).
function dies(code) {
  return (ok, e) => {
    if (ok || !DEATHS.includes(e.code)) return false;
    if (e.code !== code) counts.misattributed++;
    return true;
  };
}

// The kinds of work, with their relative weights.
const KINDS = [
  [30, function primitive(i) {
    submit('primitive', () => pool.run((a, b) => a + b, { args: [i, 2] }), (ok, v) => ok && v === i + 2);
  }],
  [15, function structured(i) {
    submit('structured', () => pool.run((o) => ({ sum: o.list.reduce((s, x) => s + x, 0), tag: o.tag, seen: new Map([[1, o.tag]]) }),
      { args: [{ list: [1, 2, 3, i], tag: `t${i}` }] }),
    (ok, v) => ok && v.sum === 6 + i && v.tag === `t${i}` && v.seen.get(1) === `t${i}`);
  }],
  [10, function throws(i) {
    const code = `E_SOAK_${i % 3}`;
    submit('throws', () => pool.run((c) => { const e = new RangeError('planned'); e.code = c; throw e; }, { args: [code] }),
      (ok, e) => !ok && e.code === code && e.name === 'RangeError');
  }],
  [6, function runAll(i) {
    const n = 1 + (i % 8);
    submit('runAll', () => pool.runAll(Array.from({ length: n }, (_, k) => ({ task: (x) => x * 3, args: [k] }))),
      (ok, v) => ok && v.length === n && v.every((x, k) => x === 3 * k));
  }],
  [5, function map(i) {
    const items = Array.from({ length: 20 + (i % 40) }, (_, k) => k);
    submit('map', () => pool.map((x) => x * 2, items, { chunkSize: 7, concurrency: 1 + (i % 3) }),
      (ok, v) => ok && v.length === items.length && v.every((x, k) => x === 2 * k));
  }],
  [5, function batch() {
    submit('batch', () => pool.batch([
      { name: 'a', task: () => 'a' },
      { name: 'b', task: () => { const e = new Error('planned'); e.code = 'E_SOAK_BATCH'; throw e; } },
      { name: 'c', task: (x) => x, args: [{ deep: [1, { x: 2 }] }] },
    ]), (ok, v) => ok && v.length === 3 && v[0].success && v[0].result === 'a' && !v[1].success &&
      v[1].error.code === 'E_SOAK_BATCH' && v[2].success && v[2].result.deep[1].x === 2);
  }],
  [6, function cancelQueued(i) {
    // Usually still queued when cancelled; if an executor took it first it
    // runs to its end and its result is delivered (docs/api.md, Cancellation).
    let cancelled = null;
    const p = submit('cancel-queued', () => pool.run((x) => x, { args: [i], priority: 'low' }),
      (ok, v) => (ok ? v === i : cancelled === true && v.code === 'ABORT_ERR'));
    try {
      cancelled = pool.cancel(p);
    } catch (err) {
      note(`cancel of a queued task threw ${err.code}: ${err.message}`);
      counts.unexpected++;
    }
  }],
  [4, function cancelRunning() {
    const p = submit('cancel-running', () => pool.run(() => { for (;;); }), rejectsWith('ABORT_ERR'));
    setTimeout(() => {
      try {
        pool.cancel(p, { force: true });
      } catch (err) {
        note(`a forced cancel threw ${err.code}: ${err.message}`);
        counts.unexpected++;
      }
    }, 5 + Math.floor(random() * 45));
  }],
  [4, function timeoutSync() {
    submit('timeout-sync', () => pool.run(() => { for (;;); }, { timeout: 20 + Math.floor(random() * 80) }),
      rejectsWith('ERR_TASK_TIMEOUT'));
  }],
  [4, function timeoutAsync() {
    submit('timeout-async', () => pool.run(() => new Promise(() => {}), { timeout: 20 + Math.floor(random() * 80) }),
      (ok, e) => !ok && (e.code === 'ERR_TASK_TIMEOUT' || DEATHS.includes(e.code)));
  }],
  [3, function crash() {
    if (Date.now() - lastCrash < 3000) return;
    lastCrash = Date.now();
    submit('crash', () => pool.run(() => process.exit(7)), dies('ERR_WORKER_CRASHED'));
  }],
  [3, function outOfMemory() {
    if (Date.now() - lastOom < 20_000) return;
    lastOom = Date.now();
    submit('out-of-memory', () => pool.run(() => {
      const kept = [];
      for (;;) kept.push(new Array(100000).fill(kept.length));
    }), dies('ERR_WORKER_OUT_OF_MEMORY'));
  }],
  [3, function churn(i) {
    if (churning || Date.now() - lastChurn < CHURN_EVERY_MS) return;
    churning = true;
    lastChurn = Date.now();
    churnPools++;
    submit('pool-churn', async () => {
      const side = new Tasklets({ workers: 1 + (i % 2), logging: 'off' });
      try {
        const values = await Promise.all([side.run((x) => x + 1, { args: [i] }), side.run(() => 'side')]);
        return [values, await side.shutdown()];
      } finally {
        churning = false;
      }
    }, (ok, v) => ok && v[0][0] === i + 1 && v[0][1] === 'side' && v[1].timedOut === false);
  }],
];
const TOTAL_WEIGHT = KINDS.reduce((s, [w]) => s + w, 0);

function pick() {
  let r = random() * TOTAL_WEIGHT;
  for (const [w, fn] of KINDS) {
    r -= w;
    if (r < 0) return fn;
  }
  return KINDS[0][1];
}

function handles() {
  const kinds = new Map();
  for (const r of process.getActiveResourcesInfo()) kinds.set(r, (kinds.get(r) || 0) + 1);
  return [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}:${n}`).join(',');
}

const started = Date.now();
let warmRss = null;
let peakAfterWarmup = 0;

function mb(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function lostUnits(now) {
  let lost = 0;
  for (const { at } of pending.values()) if (now - at > LOST_AFTER_MS) lost++;
  return lost;
}

function report(label) {
  const now = Date.now();
  const rss = process.memoryUsage().rss;
  if (warmRss === null && now - started >= WARMUP_MS) warmRss = rss;
  if (warmRss !== null) peakAfterWarmup = Math.max(peakAfterWarmup, rss);
  const codes = [...byCode].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(' ');
  const exactlyOnce = counts.twice === 0 && counts.settled + pending.size === counts.submitted ? 'ok' : 'BROKEN';
  const stats = pool.getStats();
  console.log(`${label} t=${((now - started) / 1000).toFixed(0)}s rss=${mb(rss)}MB` +
    `${warmRss === null ? '' : ` (warm ${mb(warmRss)}MB)`} handles=${handles()}` +
    ` submitted=${counts.submitted} settled=${counts.settled} pending=${pending.size} lost=${lostUnits(now)}` +
    ` twice=${counts.twice} succeeded=${counts.succeeded} unexpected=${counts.unexpected} misattributed=${counts.misattributed}` +
    ` exactlyOnce=${exactlyOnce} replaced=${stats.replacedWorkers} pools=${churnPools} | ${codes}`);
}

let stopping = false;
function pump() {
  if (stopping) return;
  while (inFlight < IN_FLIGHT) pick()(nextId);
  setTimeout(pump, 1);
}

async function main() {
  console.log(`soak: ${MINUTES} min, seed ${SEED}, report every ${REPORT_MS / 1000} s, warm-up ${WARMUP_MS / 1000} s,` +
    ` RSS bound warm + ${RSS_BOUND_MB} MB, lost after ${LOST_AFTER_MS / 1000} s, ${IN_FLIGHT} units in flight`);
  const timer = setInterval(() => report('soak'), REPORT_MS);
  pump();
  await new Promise((resolve) => setTimeout(resolve, MINUTES * 60_000));
  stopping = true;
  const drainUntil = Date.now() + LOST_AFTER_MS;
  while (pending.size > 0 && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(timer);
  const lost = pending.size;
  const shutdown = await pool.shutdown({ timeout: 30_000 });
  report('final');
  const failures = [];
  if (lost > 0) failures.push(`${lost} units never settled: ${[...pending.values()].slice(0, 5).map((u) => u.kind).join(', ')}`);
  if (counts.twice > 0) failures.push(`${counts.twice} settlements of units already settled`);
  if (counts.settled !== counts.submitted) failures.push(`settled ${counts.settled} of ${counts.submitted}`);
  if (counts.unexpected > 0) failures.push(`${counts.unexpected} unexpected outcomes`);
  if (warmRss !== null && peakAfterWarmup > warmRss + RSS_BOUND_MB * 1048576) {
    failures.push(`RSS grew to ${mb(peakAfterWarmup)} MB, more than ${RSS_BOUND_MB} MB over the warm-up's ${mb(warmRss)} MB`);
  }
  if (shutdown.timedOut) failures.push('the pool did not shut down within 30 s');
  for (const p of problems) console.log(`  ${p}`);
  console.log(failures.length === 0 ? `soak: PASS (seed ${SEED})` : `soak: FAIL (seed ${SEED}): ${failures.join('; ')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
