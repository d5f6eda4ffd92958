'use strict';
// getHealth(): a pool's state for readiness probes and dashboards, decided
// from its stats and from how its failure counters moved over the last
// minute.
//
// Status rules (docs/api.md, getHealth):
//   'shutdown'   shutdown() was called;
//   'unhealthy'  the queue is full (maxQueue reached), or tasks wait and no
//                executor serves the pool;
//   'degraded'   more than 10% of the tasks settled over the window failed
//                (cancellations asked for by the caller do not count), or an
//                executor died over the window;
//   'healthy'    otherwise.
// The window: each call records a sample; the rates compare against the
// oldest sample not older than WINDOW_MS (the pool's start is a sample).

const { difference } = require('./metrics/errors-by-code');

const WINDOW_MS = 60000;
const DEGRADED_FAILURE_RATE = 0.1;

// stats: getStats(); samples: the pool's array of past samples (updated
// here); now: { closed, full, settled, failed, recent, heapLimit, byCode }
// (byCode: js/metrics/errors-by-code.js snapshot, null with metrics off).
function health(stats, samples, now) {
  const at = Date.now();
  samples.push({ at, settled: now.settled, failed: now.failed, replaced: stats.replacedWorkers, byCode: now.byCode });
  while (samples.length > 2 && at - samples[1].at >= WINDOW_MS) samples.shift();
  const from = samples.length > 1 ? samples[0] : { at, settled: 0, failed: 0, replaced: 0, byCode: null };
  const settled = now.settled - from.settled;
  const failed = now.failed - from.failed;
  const rate = settled > 0 ? Math.min(1, failed / settled) : 0;
  const crashed = stats.replacedWorkers - from.replaced;
  const { status, reason } = decide(stats, now, rate, crashed, at - from.at);
  const mem = process.memoryUsage();
  return {
    status,
    reason,
    workers: {
      active: stats.activeWorkers,
      busy: Math.max(0, stats.activeWorkers - stats.sleepingWorkers),
      idle: stats.sleepingWorkers,
      min: stats.minWorkers,
      max: stats.maxWorkers,
      crashed: stats.replacedWorkers,
    },
    queue: {
      pending: stats.pending,
      queued: stats.queued.high + stats.queued.normal + stats.queued.low,
      maxQueue: stats.maxQueue,
      needsDrain: stats.needsDrain,
    },
    memory: {
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      nativeArenas: stats.arenas.reduce((sum, a) => sum + a.resident, 0),
      executorHeapLimit: now.heapLimit,
    },
    latency: { p50: stats.runTime.p50, p90: stats.runTime.p90, p99: stats.runTime.p99, queueWaitP99: stats.queueWait.p99 },
    errors: {
      rate, windowMs: at - from.at, failed, settled, recent: now.recent.slice(),
      // By outcome and error code over the window and since the start (null with metrics off).
      byCode: now.byCode === null ? null : from.byCode ? difference(now.byCode, from.byCode) : now.byCode,
      byCodeTotal: now.byCode,
    },
  };
}

// The first rule that applies, and in words why (for a person reading a
// dashboard or a log, not for code: match on `status`).
function decide(stats, now, rate, crashed, windowMs) {
  if (now.closed) return { status: 'shutdown', reason: 'shutdown() was called' };
  if (now.full) return { status: 'unhealthy', reason: `the queue is full (maxQueue ${stats.maxQueue})` };
  if (stats.pending > 0 && stats.activeWorkers === 0) {
    return { status: 'unhealthy', reason: `${stats.pending} task(s) pending and no executor serving` };
  }
  const window = `in the last ${Math.round(windowMs / 1000)} s`;
  if (rate > DEGRADED_FAILURE_RATE) {
    const pct = (x) => `${Math.round(x * 100)}%`;
    return { status: 'degraded', reason: `${pct(rate)} of the tasks settled ${window} failed (more than ${pct(DEGRADED_FAILURE_RATE)})` };
  }
  if (crashed > 0) return { status: 'degraded', reason: `${crashed} executor(s) died and were replaced ${window}` };
  return { status: 'healthy', reason: 'no rule for another status applies' };
}

module.exports = { health, WINDOW_MS };
