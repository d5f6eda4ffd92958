'use strict';
// Histograms with fixed log-scale buckets, Prometheus style: the same `le`
// bounds as the runtime's exposition (include/tasklets/exposition.hpp, a test
// checks they agree), 1-2.5-5 per decade from 1 us to 60 s, in seconds.
//
// The main thread records one value per settled task (round trip), so
// record() is a binary search over the 24 bounds and two additions; nothing
// allocates.

const BOUNDS = Object.freeze([
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005,
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
  1, 2.5, 5, 10, 25, 60,
]);

class FixedHistogram {
  constructor() {
    this.counts = new Float64Array(BOUNDS.length + 1);  // per bucket, the last one above 60 s
    this.count = 0;
    this.sum = 0;                                        // seconds
  }

  record(seconds) {
    // Binary search for the first bound >= seconds (BOUNDS.length: above all).
    let lo = 0;
    let hi = BOUNDS.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seconds > BOUNDS[mid]) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]++;
    this.count++;
    this.sum += seconds;
  }

  // { buckets: cumulative counts per bound, count, sum } (the shape of
  // getStats().histograms entries).
  snapshot() {
    const buckets = new Float64Array(BOUNDS.length);
    let seen = 0;
    for (let i = 0; i < BOUNDS.length; i++) {
      seen += this.counts[i];
      buckets[i] = seen;
    }
    return { buckets, count: this.count, sum: this.sum };
  }
}

module.exports = { FixedHistogram, BOUNDS };
