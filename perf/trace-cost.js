#!/usr/bin/env node
'use strict';
// What an active trace recording costs (pool.startTrace(), issue 11): no-op
// throughput of runAll() and run() with and without a recording, in one
// process, as perf/metrics-cost.js measures the metrics: each round makes a
// fresh pool per configuration in a rotated order, and the cost is the median
// over rounds of each configuration's ratio to the same round's "off". A
// second "off" (the control) shows the noise of the run. "channel" has a
// no-op subscriber on the tracing channel the recording is built on: what
// the channel costs by itself (a context object and its publications per
// task), apart from what the recording adds. The recording's
// capacity holds every event of a round, so the figure includes keeping them;
// building the document (stopTrace()) is timed apart.
//
//   node perf/trace-cost.js [--rounds N] [--tasks N] [--workers N] [--json]

const diagnosticsChannel = require('node:diagnostics_channel');
const { Tasklets, tracingChannelName } = require('../js/index');
const { parseArgs, runAllRate, runRate, median } = require('./cost-harness');

const channel = diagnosticsChannel.tracingChannel(tracingChannelName);
const noopSubscriber = { start() {}, asyncEnd() {} };

async function main() {
  const o = parseArgs(process.argv.slice(2), { rounds: 15, tasks: 20000, workers: 2 }, 'perf/trace-cost.js');
  const options = { workers: { min: o.workers, max: o.workers, scaling: 'fixed' } };
  const configs = ['off', 'channel', 'recording', 'off (control)'];
  const results = {};
  for (const name of configs) results[name] = { runAll: [], run: [], cpuNs: [], stopMs: [] };
  const warm = Math.min(o.tasks, 2000);
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const name = configs[(r + k) % configs.length];
      const pool = new Tasklets(options);
      try {
        await runAllRate(pool, warm);
        await runRate(pool, warm);
        if (name === 'recording') pool.startTrace({ capacity: 8 * o.tasks });
        if (name === 'channel') channel.subscribe(noopSubscriber);
        const cpu = process.cpuUsage();
        results[name].runAll.push(await runAllRate(pool, o.tasks));
        results[name].run.push(await runRate(pool, o.tasks));
        const used = process.cpuUsage(cpu);
        results[name].cpuNs.push(((used.user + used.system) * 1000) / (2 * o.tasks));
        if (name === 'channel') channel.unsubscribe(noopSubscriber);
        if (name === 'recording') {
          const t0 = performance.now();
          const doc = pool.stopTrace();
          results[name].stopMs.push(performance.now() - t0);
          if (doc.metadata.droppedEvents !== 0 || doc.metadata.recordedTasks !== 2 * o.tasks) {
            throw new Error(`the recording lost tasks: ${JSON.stringify(doc.metadata)}`);
          }
        }
      } finally {
        await pool.shutdown();
      }
    }
  }
  const cost = (name, what) => 1 - median(results[name][what].map((x, r) => x / results.off[what][r]));
  const report = {
    rounds: o.rounds, tasks: o.tasks, workers: o.workers, node: process.version,
    summary: Object.fromEntries(configs.map((n) => [n, {
      runAll: median(results[n].runAll), run: median(results[n].run), cpuNs: median(results[n].cpuNs),
    }])),
    cost: Object.fromEntries(configs.slice(1).map((n) => [n, { runAll: cost(n, 'runAll'), run: cost(n, 'run'), cpu: -cost(n, 'cpuNs') }])),
    stopTraceMs: median(results.recording.stopMs),
  };
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const rate = (x) => `${(x / 1000).toFixed(1)}k/s`;
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  console.log(`trace cost: ${o.rounds} rounds of ${o.tasks} no-op tasks (runAll, then run), ${o.workers} executors, Node ${process.version}`);
  console.log('config         runAll        run           CPU/task   cost runAll  cost run  more CPU');
  for (const n of configs) {
    const s = report.summary[n];
    const c = n === 'off' ? '' : `${pct(report.cost[n].runAll).padStart(11)}  ${pct(report.cost[n].run).padStart(8)}  ${pct(report.cost[n].cpu).padStart(8)}`;
    console.log(`${n.padEnd(13)}  ${rate(s.runAll).padEnd(12)}  ${rate(s.run).padEnd(12)}  ${`${(s.cpuNs / 1000).toFixed(2)} us`.padEnd(9)}  ${c}`);
  }
  console.log(`stopTrace() for ${2 * o.tasks} tasks: ${report.stopTraceMs.toFixed(1)} ms (median)`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
