'use strict';
// What the report says about the machine, and the calibration of the spin
// task (rounds per microsecond on this machine, measured on the main thread).
const os = require('node:os');
const { execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const tasks = require('./tasks');

// hwloc's console view without the I/O devices, or null without hwloc-ls.
function hwlocTopology() {
  try {
    const out = execFileSync('hwloc-ls', ['--of', 'console', '--no-io'], { encoding: 'utf8', timeout: 10_000 });
    return out.trim();
  } catch {
    return null;
  }
}

function describeMachine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus.length ? cpus[0].model : 'unknown',
    logicalCpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    v8: process.versions.v8,
    hwloc: hwlocTopology(),
  };
}

// Rounds of tasks.spin per microsecond: best of a few timed runs after warm-up.
function calibrateSpin() {
  for (let i = 0; i < 5; i++) tasks.spin(1_000_000);
  const rounds = 20_000_000;
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    tasks.spin(rounds);
    best = Math.min(best, performance.now() - t0);
  }
  return rounds / (best * 1000);
}

module.exports = { describeMachine, calibrateSpin };
