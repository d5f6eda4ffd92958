'use strict';
// One pool's state as the dashboard page and `tasklets top` draw it: plain
// JSON built from what the pool already exposes (getStats(), getTimeline(),
// getHealth() and the metrics observation of js/metrics/). The shape is
// listed in docs/observability.md ("Dashboard"); the page (public/app.js)
// and js/cli/top.js read nothing else.

const { kObserve, kLabel, livePools } = require('../metrics/registry');

const TIMELINE_MAX = 300;   // samples sent: five minutes at the default interval

// getStats().histograms.X (cumulative counts over `bounds`, seconds) ->
// per-bucket counts with the bucket's upper bound, without the empty tail
// and head (the page draws bars over the range that has data).
function histogram(bounds, h, summary) {
  const counts = [];
  let before = 0;
  for (let i = 0; i < bounds.length; i++) {
    counts.push(h.buckets[i] - before);
    before = h.buckets[i];
  }
  counts.push(h.count - before);
  const upper = [...Array.from(bounds), Infinity];
  let lo = counts.findIndex((c) => c > 0);
  let hi = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  if (lo < 0) {
    lo = 0;
    hi = -1;
  }
  return {
    count: h.count,
    // microseconds, from the runtime's finer histograms (js/metrics/histogram.js)
    p50: summary.p50,
    p99: summary.p99,
    // seconds; the last bucket's bound is null (+Inf)
    le: upper.slice(lo, hi + 1).map((b) => (b === Infinity ? null : b)),
    counts: counts.slice(lo, hi + 1),
  };
}

function timeline(pool) {
  const t = pool.getTimeline();
  const from = Math.max(0, t.t.length - TIMELINE_MAX);
  const cut = (column) => column.slice(from);
  return {
    intervalMs: t.intervalMs,
    t: cut(t.t),
    queued: { high: cut(t.queued.high), normal: cut(t.queued.normal), low: cut(t.queued.low) },
    running: cut(t.running),
    throughput: cut(t.throughput),
    failures: cut(t.failures),
    utilization: cut(t.utilization),
  };
}

function executor(w) {
  return {
    id: w.id,
    running: w.running,
    pus: w.pus,
    numa: w.numa,
    pinned: w.pinned,
    bindError: w.bindError,
    executed: w.executed,
    failed: w.failed,
    cpuTime: w.cpuTime,        // microseconds
    busyTime: w.busyTime,      // microseconds
    heapUsed: w.heapUsed === undefined ? null : w.heapUsed,
    heapLimit: w.heapLimit === undefined ? null : w.heapLimit,
    externalMemory: w.externalMemory === undefined ? null : w.externalMemory,
    utilization: w.utilization === undefined ? null : w.utilization,
    currentTaskId: w.currentTaskId === undefined ? null : w.currentTaskId,
    currentTaskAge: w.currentTaskAge === undefined ? 0 : w.currentTaskAge,   // ms
  };
}

// pool -> the snapshot; `key`: the name the page selects it by.
function snapshot(pool, key) {
  const o = pool[kObserve]();
  const s = o.stats;
  const health = pool.getHealth();
  return {
    pool: key,
    at: Date.now(),
    health: { status: health.status, reason: health.reason, errorRate: health.errors.rate, windowMs: health.errors.windowMs },
    topology: s.topology,
    placement: s.placement,
    scaling: s.scaling,
    workers: { active: s.activeWorkers, sleeping: s.sleepingWorkers, min: s.minWorkers, max: s.maxWorkers, replaced: s.replacedWorkers },
    totals: {
      executed: s.executed, failed: s.failed, cancelled: s.cancelled, timedOut: s.timedOut,
      dependencyFailed: s.dependencyFailed, pending: s.pending, waiting: s.waiting, stolen: s.stolen,
    },
    queued: s.queued,
    timeline: timeline(pool),
    latency: {
      queueWait: histogram(s.histograms.bounds, s.histograms.queueWait, s.queueWait),
      runTime: histogram(s.histograms.bounds, s.histograms.runTime, s.runTime),
    },
    errors: { outcomes: o.errors.outcomes, codes: o.errors.codes, recent: o.recentErrors },
    executors: s.workers.map(executor),
  };
}

// The pools a dashboard shows, each under a key unique within the list:
// its metrics name (metrics.name, else its id), with '#2', '#3' after a
// name seen before. `chosen`: the pools given to dashboard(), or null for
// every live pool of the process.
function listPools(chosen) {
  const list = chosen === null ? livePools() : chosen;
  const seen = new Map();
  return list.map((pool) => {
    const name = pool[kLabel];
    const n = (seen.get(name) || 0) + 1;
    seen.set(name, n);
    return { key: n === 1 ? name : `${name}#${n}`, pool };
  });
}

module.exports = { snapshot, listPools, histogram };
