'use strict';
// Small measurements behind docs/tuning.md, one per recommendation that
// the perf lab (perf/lab.js) does not cover. Each prints one JSON line.
//
//   node examples/tuning/measure.js transfer   [--mb 16] [--tasks 20]
//   node examples/tuning/measure.js priorities [--backlog 400]
//   node examples/tuning/measure.js backpressure [--requests 400]
//   node examples/tuning/measure.js chunks     [--items 20000] [--us 2]
// Figures vary with the machine and its load: compare the ratios of one run.

const { Tasklets } = require('tasklets');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!(value > 0)) throw new RangeError(`--${name} needs a positive number`);
  return value;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// A large buffer per task, copied (structured clone) or moved (transfer).
async function transfer() {
  const mb = option('mb', 16);
  const tasks = option('tasks', 20);
  const pool = new Tasklets({ workers: 2 });
  const size = (buf) => buf.byteLength;
  const timeOne = async (moved) => {
    const buf = new ArrayBuffer(mb * 1024 * 1024);
    const t0 = performance.now();
    await pool.run(size, moved ? { args: [buf], transfer: [buf] } : { args: [buf] });
    return performance.now() - t0;
  };
  try {
    await timeOne(false);
    await timeOne(true);
    const copied = [];
    const moved = [];
    for (let i = 0; i < tasks; i++) {
      copied.push(await timeOne(false));
      moved.push(await timeOne(true));
    }
    const c = median(copied);
    const m = median(moved);
    return { measure: 'transfer', mb, tasks, copiedMs: +c.toFixed(2), transferredMs: +m.toFixed(2), ratio: +(c / m).toFixed(1) };
  } finally {
    await pool.shutdown();
  }
}

const spin = (us) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
  return us;
};

// An overloaded pool: `backlog` normal tasks queued, then one high and one
// low task; how long each waits to finish.
async function priorities() {
  const backlog = option('backlog', 400);
  const pool = new Tasklets({ workers: 2 });
  try {
    await pool.runAll([() => 0, () => 0]);
    const t0 = performance.now();
    const flood = Array.from({ length: backlog }, () => pool.run(spin, { args: [1000] }));
    const at = (promise) => promise.then(() => performance.now() - t0);
    const high = at(pool.run(spin, { args: [1000], priority: 'high' }));
    const normal = at(pool.run(spin, { args: [1000] }));
    const low = at(pool.run(spin, { args: [1000], priority: 'low' }));
    const [h, n, l] = await Promise.all([high, normal, low]);
    await Promise.all(flood);
    return { measure: 'priorities', backlog, taskMs: 1, highMs: Math.round(h), normalMs: Math.round(n), lowMs: Math.round(l) };
  } finally {
    await pool.shutdown();
  }
}

// Requests arriving faster than two executors serve them (4 per ms, 1 ms of
// work each): with maxQueue the surplus is refused at once and the accepted
// ones finish fast; without it, everything is accepted and waits.
async function backpressure() {
  const requests = option('requests', 400);
  const runOnce = async (maxQueue) => {
    const pool = new Tasklets({ workers: 2, maxQueue });
    try {
      await pool.runAll([() => 0, () => 0]);
      const latencies = [];
      let refused = 0;
      const pending = [];
      for (let i = 0; i < requests; i++) {
        if (pool.needsDrain) {
          refused++;
        } else {
          const t0 = performance.now();
          pending.push(pool.run(spin, { args: [1000] }).then(() => latencies.push(performance.now() - t0)));
        }
        if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(pending);
      latencies.sort((a, b) => a - b);
      return { maxQueue: maxQueue === Infinity ? 'Infinity' : maxQueue, accepted: latencies.length, refused, p50Ms: Math.round(median(latencies)), maxMs: Math.round(latencies.at(-1)) };
    } finally {
      await pool.shutdown();
    }
  };
  return { measure: 'backpressure', requests, taskMs: 1, bounded: await runOnce(8), unbounded: await runOnce(Infinity) };
}

// Tiny tasks: one run() per item against map() with chunks.
async function chunks() {
  const items = option('items', 20000);
  const us = option('us', 2);
  const pool = new Tasklets({ workers: 2 });
  const list = Array.from({ length: items }, () => us);
  try {
    await pool.map(spin, list.slice(0, 100));
    let t0 = performance.now();
    await Promise.all(list.map((x) => pool.run(spin, x)));
    const runMs = performance.now() - t0;
    t0 = performance.now();
    await pool.map(spin, list);
    const mapMs = performance.now() - t0;
    t0 = performance.now();
    for (const x of list) spin(x);
    const inlineMs = performance.now() - t0;
    return { measure: 'chunks', items, taskUs: us, inlineMs: Math.round(inlineMs), runMs: Math.round(runMs), mapMs: Math.round(mapMs) };
  } finally {
    await pool.shutdown();
  }
}

const MEASURES = { transfer, priorities, backpressure, chunks };
const which = process.argv[2];
if (!(which in MEASURES)) {
  console.error(`usage: node examples/tuning/measure.js ${Object.keys(MEASURES).join('|')} [options]`);
  process.exitCode = 2;
} else {
  MEASURES[which]().then((r) => console.log(JSON.stringify(r)), (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
