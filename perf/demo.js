// The Node half of the README's demo: JavaScript tasks running in parallel
// on executors the native runtime placed, with real values, real errors and
// the runtime's own figures.
'use strict';

const { performance } = require('node:perf_hooks');
const os = require('node:os');
const { Tasklets } = require('..');

// Counts primes in [from, to): CPU-bound, self-contained (tasks cannot see
// this file's variables; everything they need comes in as arguments).
function countPrimes(from, to) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) { prime = false; break; }
    }
    if (prime) count++;
  }
  return count;
}

async function primes(pool) {
  const limit = 3_000_000, chunk = 50_000;
  let t0 = performance.now();
  const inline = countPrimes(0, limit);
  const inlineMs = performance.now() - t0;
  const tasks = [];
  for (let from = 0; from < limit; from += chunk) {
    tasks.push({ task: countPrimes, args: [from, Math.min(from + chunk, limit)] });
  }
  t0 = performance.now();
  const parts = await pool.runAll(tasks);
  const poolMs = performance.now() - t0;
  const total = parts.reduce((a, b) => a + b, 0);
  console.log(`primes below ${limit}: ${total} (pool) vs ${inline} (main thread)${total === inline ? '' : '  MISMATCH'}`);
  console.log(`  main thread ${inlineMs.toFixed(0)} ms, pool ${poolMs.toFixed(0)} ms in ${tasks.length} tasks: ` +
              `speedup ${(inlineMs / poolMs).toFixed(2)}x`);
}

async function values(pool) {
  const echo = await pool.run((m) => ({ size: m.size, keys: [...m.keys()], when: new Date(0) }),
                              { args: [new Map([['a', 1], ['b', 2]])] });
  console.log('structured values round-trip:', JSON.stringify(echo));
  try {
    await pool.run((n) => { throw new RangeError(`bad n: ${n}`); }, { args: [7] });
  } catch (err) {
    console.log(`errors come back as themselves: ${err.name}: ${err.message} ` +
                `(task ${err.taskId}, executor ${err.workerThread}, ${err.duration.toFixed(2)} ms)`);
  }
}

// Task control: a runaway synchronous loop stopped by its timeout (its
// executor is interrupted, not replaced), a cancelled queued task, and a
// dependent that runs only after its dependency succeeded.
async function control(pool) {
  let t0 = performance.now();
  const runaway = pool.run(() => { for (;;); }, { timeout: 200 });
  const err = await runaway.then(() => null, (e) => e);
  const stopMs = performance.now() - t0;
  if (!err || err.code !== 'ERR_TASK_TIMEOUT') throw new Error(`the runaway task was not stopped: ${err}`);
  const blocker = pool.runAll(Array.from({ length: os.availableParallelism() }, () =>
    ({ task: (ms) => { const end = Date.now() + ms; while (Date.now() < end); }, args: [100] })));
  const queued = pool.run(() => 'never runs');
  const cancelled = pool.cancel(queued);
  const outcome = await queued.then(() => 'ran', (e) => e.name);
  await blocker;
  const slow = pool.run(async () => { await new Promise((r) => setTimeout(r, 50)); return 20; });
  const sum = await pool.run((x) => x + 22, { args: [0], dependsOn: [slow] });
  const s = pool.getStats();
  console.log(`task control: a runaway loop stopped by its 200 ms timeout in ${stopMs.toFixed(0)} ms ` +
              `(${err.code}; executors replaced: ${s.replacedWorkers}); a queued task cancelled: ${cancelled} -> ${outcome}; ` +
              `a dependent ran after its dependency: ${sum}`);
}

async function overhead(pool) {
  const n = 200_000;
  const tasks = Array.from({ length: n }, (_, i) => ({ task: (x) => x + 1, args: [i] }));
  let t0 = performance.now();
  const out = await pool.runAll(tasks);
  const runAllMs = performance.now() - t0;
  if (out[n - 1] !== n) throw new Error('wrong result from runAll');
  t0 = performance.now();
  const single = await Promise.all(Array.from({ length: 50_000 }, (_, i) => pool.run((x) => x + 1, { args: [i] })));
  const runMs = performance.now() - t0;
  if (single[49_999] !== 50_000) throw new Error('wrong result from run');
  const rtt = [];
  for (let i = 0; i < 2000; i++) {
    const s = performance.now();
    await pool.run((x) => x, { args: [i] });
    rtt.push((performance.now() - s) * 1000);
  }
  rtt.sort((a, b) => a - b);
  console.log(`no-op tasks: ${(n / runAllMs).toFixed(0)}k/s through runAll, ${(50_000 / runMs).toFixed(0)}k/s through run; ` +
              `round trip p50 ${rtt[1000].toFixed(0)} us, p99 ${rtt[1980].toFixed(0)} us`);
}

async function main() {
  const pool = new Tasklets({ workers: os.availableParallelism(), placement: 'compact' });
  console.log('\ntasklets demo (Node)\n====================');
  await primes(pool);
  await values(pool);
  await control(pool);
  await overhead(pool);
  const s = pool.getStats();
  console.log(`\npool: ${s.topology}, placement ${s.placement}, ${s.activeWorkers} executors`);
  for (const w of s.workers) {
    console.log(`  executor ${w.id}: node ${w.numa}, PUs ${w.pus.join(' ')}, ${w.pinned ? 'pinned' : `unpinned: ${w.bindError}`}, ` +
                `executed ${w.executed}, stolen ${w.stolen}, parked ${w.parked}`);
  }
  await pool.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
