#!/usr/bin/env node
'use strict';
// What the metrics cost (issue 10): no-op throughput with metrics on (the
// default), off (`metrics: false`), and on with a subscriber on the tracing
// channel, measured in one process, alternating rounds so that drift of the
// machine hits every configuration alike; medians of the rates, and the
// median of each round's ratio to "off" as the cost.
//
//   node perf/metrics-cost.js [--rounds N] [--tasks N] [--workers N] [--json]
//
// runAll: one runAll() of --tasks no-op tasks; run: --tasks run() calls
// started together and awaited together. A second "off" configuration
// ("off (control)") is measured like the others: its difference from "off" is
// the noise of the run, to judge the other figures by.

const diagnosticsChannel = require('node:diagnostics_channel');
const { Tasklets, tracingChannelName } = require('../js/index');
const { parseArgs, runAllRate, runRate, median } = require('./cost-harness');

const channel = diagnosticsChannel.tracingChannel(tracingChannelName);
const subscriber = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };

async function main() {
  const o = parseArgs(process.argv.slice(2), { rounds: 15, tasks: 50000, workers: 2 }, 'perf/metrics-cost.js');
  const fixed = { min: o.workers, max: o.workers, scaling: 'fixed' };
  // Each round makes fresh pools, in a rotated order: a pool's own luck
  // (where its executors landed, what its heap looked like) must not stick
  // to one configuration for the whole run.
  const configs = [
    { name: 'off', options: { workers: fixed, metrics: false }, traced: false },
    { name: 'on', options: { workers: fixed }, traced: false },
    { name: 'on+tracing', options: { workers: fixed }, traced: true },
    { name: 'off (control)', options: { workers: fixed, metrics: false }, traced: false },
  ];
  const results = {};
  // cpuNs: CPU time of the whole process (every thread) per task, which
  // other processes on the machine disturb less than the wall clock.
  for (const c of configs) results[c.name] = { runAll: [], run: [], cpuNs: [] };
  const warm = Math.min(o.tasks, 2000);
  for (let r = 0; r < o.rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const c = configs[(r + k) % configs.length];
      const pool = new Tasklets(c.options);
      try {
        await runAllRate(pool, warm);  // executors started, code compiled
        await runRate(pool, warm);
        if (c.traced) channel.subscribe(subscriber);
        try {
          const cpu = process.cpuUsage();
          results[c.name].runAll.push(await runAllRate(pool, o.tasks));
          results[c.name].run.push(await runRate(pool, o.tasks));
          const used = process.cpuUsage(cpu);
          results[c.name].cpuNs.push(((used.user + used.system) * 1000) / (2 * o.tasks));
        } finally {
          if (c.traced) channel.unsubscribe(subscriber);
        }
      } finally {
        await pool.shutdown();
      }
    }
  }
  const summary = {};
  for (const c of configs) {
    summary[c.name] = { runAll: median(results[c.name].runAll), run: median(results[c.name].run), cpuNs: median(results[c.name].cpuNs) };
  }
  // Per round, each configuration against the "off" of the same round (a
  // few hundred ms apart), then the median: steadier than a ratio of medians
  // on a machine whose speed drifts.
  const cost = (name, what) => 1 - median(results[name][what].map((x, r) => x / results.off[what][r]));
  const report = {
    rounds: o.rounds, tasks: o.tasks, workers: o.workers, node: process.version, summary,
    cost: Object.fromEntries(configs.filter((c) => c.name !== 'off').map((c) => [c.name, {
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
  console.log(`metrics cost: ${o.rounds} alternating rounds of ${o.tasks} no-op tasks, ${o.workers} executors, Node ${process.version}`);
  console.log('config         runAll        run           CPU/task   cost runAll  cost run  more CPU');
  for (const c of configs) {
    const s = summary[c.name];
    const line = c.name === 'off' ? ''
      : `${pct(cost(c.name, 'runAll')).padStart(11)}  ${pct(cost(c.name, 'run')).padStart(8)}  ${pct(-cost(c.name, 'cpuNs')).padStart(8)}`;
    console.log(`${c.name.padEnd(13)}  ${k(s.runAll).padEnd(12)}  ${k(s.run).padEnd(12)}  ${`${(s.cpuNs / 1000).toFixed(2)} us`.padEnd(9)}  ${line}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
