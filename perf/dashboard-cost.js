#!/usr/bin/env node
'use strict';
// What an open dashboard costs (issue 11): no-op throughput of a pool with
// nobody watching, and with tasklets.dashboard() serving one connected
// event-stream client (in another process, as a browser would be), measured
// in one process in alternating rounds; the median of each round's ratio to
// "closed" is the cost. "closed (control)" is measured like the others: its
// difference from "closed" is the noise of the run.
//
//   node perf/dashboard-cost.js [--rounds N] [--tasks N] [--workers N] [--interval MS] [--window MS] [--json]
//
// Each figure is the rate of batches of --tasks no-op tasks (one runAll(),
// or that many run() calls awaited together) over at least --window ms.
// Also the time to build one snapshot (the main thread's work per client
// and tick), measured directly: at the default interval of 1000 ms its
// share of the main thread is snapshot time / 1000 ms.

const { spawn } = require('node:child_process');
const { Tasklets, dashboard } = require('../js/index');
const { snapshot } = require('../js/dashboard/snapshot');
const { parseArgs, runAllOnce, runOnce, median } = require('./cost-harness');

// Batches of n tasks until at least `ms` passed: a window that holds several
// of the dashboard's ticks, which a single batch of no-op tasks (a tenth of
// a second) would mostly miss.
async function rate(once, pool, n, ms) {
  let done = 0;
  const t0 = performance.now();
  do {
    await once(pool, n);
    done += n;
  } while (performance.now() - t0 < ms);
  return done / ((performance.now() - t0) / 1000);
}

// A client in its own process that reads the event stream; resolves once
// its first event arrived, to a function that ends it.
const CLIENT = `
const http = require('node:http');
http.get(process.argv[1], (res) => {
  let events = 0;
  res.on('data', (chunk) => {
    if (String(chunk).includes('event: snapshot') && events++ === 0) process.stdout.write('connected\\n');
  });
}).on('error', (err) => { console.error(err.message); process.exit(1); });
`;

function openClient(url) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the stream client exited with ${code}`)));
    child.stdout.once('data', () => {
      child.removeAllListeners('exit');
      resolve(() => new Promise((done) => {
        child.once('exit', done);
        child.kill();
      }));
    });
  });
}

async function measure(pool, o, results) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const runAll = await rate(runAllOnce, pool, o.tasks, o.window);
  const t1 = performance.now();
  const run = await rate(runOnce, pool, o.tasks, o.window);
  const tasks = (runAll * (t1 - t0) + run * (performance.now() - t1)) / 1000;
  const used = process.cpuUsage(cpu);
  results.runAll.push(runAll);
  results.run.push(run);
  results.cpuNs.push(((used.user + used.system) * 1000) / tasks);
}

async function main() {
  const o = parseArgs(process.argv.slice(2), { rounds: 11, tasks: 20000, workers: 2, interval: 1000, window: 3000 }, 'perf/dashboard-cost.js');
  const fixed = { min: o.workers, max: o.workers, scaling: 'fixed' };
  const configs = [{ name: 'closed', open: false }, { name: 'dashboard + client', open: true }, { name: 'closed (control)', open: false }];
  const results = {};
  for (const c of configs) results[c.name] = { runAll: [], run: [], cpuNs: [] };
  const snapshotUs = [];
  const warm = Math.min(o.tasks, 2000);
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(r + k) % configs.length];
      const pool = new Tasklets({ workers: fixed });
      let board = null;
      let closeClient = null;
      try {
        await runAllOnce(pool, warm);
        await runOnce(pool, warm);
        if (c.open) {
          board = await dashboard({ pool, intervalMs: o.interval });
          closeClient = await openClient(`${board.url}events`);
        }
        await measure(pool, o, results[c.name]);
        if (c.open) {
          for (let i = 0; i < 20; i++) {
            const t0 = performance.now();
            JSON.stringify(snapshot(pool, 'x'));
            snapshotUs.push((performance.now() - t0) * 1000);
          }
        }
      } finally {
        if (closeClient !== null) await closeClient();
        if (board !== null) await board.close();
        await pool.shutdown();
      }
    }
  }
  const cost = (name, what) => 1 - median(results[name][what].map((x, r) => x / results.closed[what][r]));
  const summary = {};
  for (const c of configs) {
    summary[c.name] = { runAll: median(results[c.name].runAll), run: median(results[c.name].run), cpuNs: median(results[c.name].cpuNs) };
  }
  const report = {
    rounds: o.rounds, tasks: o.tasks, windowMs: o.window, workers: o.workers, intervalMs: o.interval, node: process.version, summary,
    snapshotUs: median(snapshotUs),
    cost: Object.fromEntries(configs.filter((c) => c.name !== 'closed').map((c) => [c.name, {
      runAll: cost(c.name, 'runAll'), run: cost(c.name, 'run'), cpu: -cost(c.name, 'cpuNs'),
    }])),
    samples: results,
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const k = (x) => `${(x / 1000).toFixed(1)}k/s`;
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  console.log(`dashboard cost: ${o.rounds} alternating rounds, batches of ${o.tasks} no-op tasks for ${o.window} ms, ${o.workers} executors, ` +
    `one stream client, a snapshot every ${o.interval} ms, Node ${process.version}`);
  console.log('config               runAll        run           CPU/task   cost runAll  cost run  more CPU');
  for (const c of configs) {
    const s = summary[c.name];
    const line = c.name === 'closed' ? ''
      : `${pct(cost(c.name, 'runAll')).padStart(11)}  ${pct(cost(c.name, 'run')).padStart(8)}  ${pct(-cost(c.name, 'cpuNs')).padStart(8)}`;
    console.log(`${c.name.padEnd(19)}  ${k(s.runAll).padEnd(12)}  ${k(s.run).padEnd(12)}  ${`${(s.cpuNs / 1000).toFixed(2)} us`.padEnd(9)}  ${line}`);
  }
  console.log(`one snapshot (built and serialized): ${report.snapshotUs.toFixed(0)} us, ` +
    `${(report.snapshotUs / 10 / o.interval).toFixed(3)}% of the main thread at one per ${o.interval} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
