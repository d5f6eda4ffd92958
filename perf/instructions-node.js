'use strict';
// The addon's hot paths, for the instruction-count regression test
// (perf/instructions.js runs this under `valgrind --tool=callgrind`):
//
//   node perf/instructions-node.js round-trip N   N no-op tasks, one awaited at a time:
//                                                 one task per submit and per completion call
//   node perf/instructions-node.js bulk N         N no-op tasks through runAll: submits of 4,096
//
// The JavaScript around them is not counted (its instruction count depends
// on when V8 optimizes it); the native functions are, from the profile.
const path = require('node:path');
const { Tasklets } = require(path.join(__dirname, '..'));

const inc = (x) => x + 1;

async function roundTrip(pool, n) {
  for (let i = 0; i < n; i++) {
    const r = await pool.run(inc, { args: [i] });
    if (r !== i + 1) throw new Error(`task ${i} answered ${r}`);
  }
}

async function bulk(pool, n) {
  const results = await pool.runAll(Array.from({ length: n }, (_, i) => ({ task: inc, args: [i] })));
  for (let i = 0; i < n; i++) if (results[i] !== i + 1) throw new Error(`task ${i} answered ${results[i]}`);
}

(async () => {
  const [mode, count] = process.argv.slice(2);
  const n = Number(count);
  const run = { 'round-trip': roundTrip, bulk }[mode];
  if (run === undefined || !Number.isInteger(n) || n < 1) {
    process.stderr.write('usage: node perf/instructions-node.js round-trip|bulk N\n');
    process.exit(2);
  }
  const pool = new Tasklets({ workers: 1, metrics: { enabled: false } });
  await run(pool, n);
  await pool.shutdown();
  process.stdout.write(`${mode} ${n} tasks: ok\n`);
})();
