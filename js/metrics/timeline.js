'use strict';
// A ring of periodic samples of a pool (one a second by default, the last
// five minutes), read as plain columns by pool.getTimeline(): the data for
// "queue depth over time" and a per-executor utilization heat map.
//
// Columns (one entry per sample, oldest first):
//   t            epoch ms of the sample
//   queued       { high, normal, low }: tasks in the runtime's queues
//   running      tasks submitted, not queued, not waiting and not settled
//   throughput   tasks settled per second over the interval
//   failures     tasks that failed or timed out over the interval
//   rss          resident set size of the process, bytes
//   utilization  per sample, an array indexed by executor slot: the share of
//                the interval its event loop was active (0..1), null for a
//                slot without an executor

class Timeline {
  constructor(capacity, intervalMs) {
    this.capacity = capacity;
    this.intervalMs = intervalMs;
    this.rows = new Array(capacity);
    this.next = 0;       // where the next sample goes
    this.size = 0;
  }

  push(row) {
    this.rows[this.next] = row;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  read() {
    const out = {
      intervalMs: this.intervalMs,
      t: [], queued: { high: [], normal: [], low: [] }, running: [], throughput: [], failures: [], rss: [], utilization: [],
    };
    const first = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) {
      const r = this.rows[(first + k) % this.capacity];
      out.t.push(r.t);
      out.queued.high.push(r.high);
      out.queued.normal.push(r.normal);
      out.queued.low.push(r.low);
      out.running.push(r.running);
      out.throughput.push(r.throughput);
      out.failures.push(r.failures);
      out.rss.push(r.rss);
      out.utilization.push(r.utilization);
    }
    return out;
  }
}

// Takes the samples: `read()` -> { stats (getStats()), settled, failed,
// figures (slot -> executor figures) }, called every intervalMs on an
// unreferenced timer (an idle pool's process may exit).
class Sampler {
  constructor(timeline, read) {
    this.timeline = timeline;
    this.read = read;
    this.last = null;     // { at, settled, failed, active: Map slot -> ms }
    this.utilization = new Map();  // slot -> last interval's utilization
    this.timer = null;
  }

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.timeline.intervalMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  sample() {
    const at = Date.now();
    const { stats, settled, failed, figures } = this.read();
    const active = new Map();
    for (const [slot, f] of figures) active.set(slot, f.eventLoopActive);
    const last = this.last;
    const seconds = last === null ? 0 : (at - last.at) / 1000;
    const utilization = new Array(stats.workers.length).fill(null);
    for (const [slot, ms] of active) {
      const before = last === null ? undefined : last.active.get(slot);
      if (before === undefined || seconds <= 0 || slot >= utilization.length) continue;
      const u = Math.min(1, Math.max(0, (ms - before) / (seconds * 1000)));
      utilization[slot] = u;
      this.utilization.set(slot, u);
    }
    const queued = stats.queued;
    const inQueues = queued.high + queued.normal + queued.low;
    this.timeline.push({
      t: at, high: queued.high, normal: queued.normal, low: queued.low,
      running: Math.max(0, stats.pending - inQueues - stats.waiting),
      throughput: seconds > 0 ? (settled - last.settled) / seconds : 0,
      failures: last === null ? 0 : failed - last.failed,
      rss: process.memoryUsage.rss(),
      utilization,
    });
    this.last = { at, settled, failed, active };
  }
}

module.exports = { Timeline, Sampler };
