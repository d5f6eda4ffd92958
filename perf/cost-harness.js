'use strict';
// What the cost scripts (perf/metrics-cost.js, perf/trace-cost.js,
// perf/dashboard-cost.js) share: their command line, the no-op task, one
// batch of it through runAll() or run(), and the median.

// Every key of `defaults` but `json` is a `--key N` option taking a positive
// integer; `--json` turns JSON output on.
function parseArgs(argv, defaults, script) {
  const o = { ...defaults, json: false };
  const usage = () => `usage: node ${script} ${Object.keys(defaults).map((k) => `[--${k} N]`).join(' ')} [--json]`;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = a.startsWith('--') ? a.slice(2) : '';
    if (a === '--json') {
      o.json = true;
    } else if (key !== 'json' && Object.hasOwn(defaults, key)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      o[key] = v;
    } else {
      throw new Error(`unknown argument ${a}; ${usage()}`);
    }
  }
  return o;
}

const noop = (x) => x + 1;

async function runAllOnce(pool, n) {
  await pool.runAll(new Array(n).fill(noop));
}

async function runOnce(pool, n) {
  const promises = new Array(n);
  for (let i = 0; i < n; i++) promises[i] = pool.run(noop, { args: [i] });
  await Promise.all(promises);
}

// Tasks per second of one batch of `n`.
async function batchRate(once, pool, n) {
  const t0 = performance.now();
  await once(pool, n);
  return n / ((performance.now() - t0) / 1000);
}

const runAllRate = (pool, n) => batchRate(runAllOnce, pool, n);
const runRate = (pool, n) => batchRate(runOnce, pool, n);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

module.exports = { parseArgs, noop, runAllOnce, runOnce, runAllRate, runRate, median };
