// No-op throughput of a warm pool: the same process submits batches of
// 200,000 tasks through runAll and 100,000 single run() calls, several
// times, and prints each round (the perf lab measures fresh processes, where
// first-touch page faults and JIT warm-up weigh more; see
// perf/node/closing-note.md). Usage: node perf/warm.js [rounds]
'use strict';

const { performance } = require('node:perf_hooks');
const { Tasklets } = require('..');

async function main() {
  const rounds = Number(process.argv[2] || 5);
  const pool = new Tasklets({ workers: 2, placement: 'compact' });
  const inc = (x) => x + 1;
  for (let r = 1; r <= rounds; r++) {
    const tasks = Array.from({ length: 200_000 }, (_, i) => ({ task: inc, args: [i] }));
    let t0 = performance.now();
    const all = await pool.runAll(tasks);
    const runAllPerSec = 200_000 / ((performance.now() - t0) / 1000);
    if (all[199_999] !== 200_000) throw new Error('wrong result from runAll');
    t0 = performance.now();
    const single = await Promise.all(Array.from({ length: 100_000 }, (_, i) => pool.run(inc, { args: [i] })));
    const runPerSec = 100_000 / ((performance.now() - t0) / 1000);
    if (single[99_999] !== 100_000) throw new Error('wrong result from run');
    console.log(`round ${r}: runAll ${(runAllPerSec / 1000).toFixed(0)}k tasks/s, run ${(runPerSec / 1000).toFixed(0)}k tasks/s`);
  }
  await pool.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
