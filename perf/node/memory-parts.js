'use strict';
// What the RSS the memory workload reports is made of: the process's
// resident memory (anonymous and file-backed), the main thread's V8 heap
// (committed and used), glibc malloc's bytes in use and the runtime's
// jemalloc arena, after the first thousand tasks and after N (a million by
// default), then after trimMemory(true) (what memory.cleanup 'aggressive'
// does once the pool is idle, the main thread's full GC included).
//
//   node --expose-gc perf/node/memory-parts.js [N]
// Batches of 10,000 run() calls, as the lab's memory workload.
const fs = require('node:fs');
const path = require('node:path');
const { Tasklets } = require(path.join(__dirname, '..', '..'));
const addon = require(path.join(__dirname, '..', '..', 'js', 'addon')).load();

const MB = 2 ** 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function resident() {
  const text = fs.readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (key) => Number((new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text) || [0, 0])[1]);
  return { rss: kb('Rss') / 1024, anon: kb('Anonymous') / 1024 };
}

async function settle() {
  global.gc();
  await sleep(200);
  global.gc();
  await sleep(100);
}

function row(pool, label) {
  const r = resident();
  const heap = process.memoryUsage();
  const arena = pool.getStats().arenas?.[0];
  return {
    at: label,
    rssMB: r.rss.toFixed(1),
    anonymousMB: r.anon.toFixed(1),
    mainHeapCommittedMB: (heap.heapTotal / MB).toFixed(1),
    mainHeapUsedMB: (heap.heapUsed / MB).toFixed(1),
    mallocInUseMB: (addon.mallocInUse() / MB).toFixed(1),
    arenaResidentMB: arena ? (arena.resident / MB).toFixed(1) : '-',
  };
}

(async () => {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const n = Number(process.argv[2] || 1_000_000);
  const pool = new Tasklets({ workers: 2, placement: 'compact' });
  const inc = (x) => x + 1;
  const run = (k, from) => Promise.all(Array.from({ length: k }, (_, i) => pool.run(inc, { args: [from + i] })));
  const rows = [];
  await run(1000, 0);
  await settle();
  rows.push(row(pool, 'after 1k tasks'));
  for (let done = 1000; done < n; done += 10_000) await run(Math.min(10_000, n - done), done);
  await settle();
  rows.push(row(pool, `after ${n.toLocaleString('en-US')}`));
  addon.trimMemory(true);
  await sleep(300);
  rows.push(row(pool, 'after trimMemory(true)'));
  await pool.shutdown();
  console.table(rows);
})();
