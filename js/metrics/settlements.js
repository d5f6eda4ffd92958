'use strict';
// What the main thread measures as tasks are submitted and settle: round
// trip (submission to settlement) in a FixedHistogram, outcomes and error
// codes (js/metrics/errors-by-code.js), and the tracing channel's contexts
// (js/tracing.js). js/completions.js tells it of every settlement;
// js/pool.js and js/groups.js (through the pool) of every submission.
//
// Submission times live in a ring indexed by `id & MASK` (ids are handed
// out in increasing order), so submitting costs two stores and nothing
// allocates. A clock read costs more than the rest (about 50 ns), so one
// reading serves up to CLOCK_REUSE submissions of the same turn (a loop of
// run() calls): a round trip may start up to that many submissions early,
// microseconds against the milliseconds such a backlog waits. A task still pending when RING_SIZE later tasks
// were submitted has lost its slot: it is counted in every figure but the
// round trip.

const { FixedHistogram } = require('./histogram');
const { ErrorsByCode, codeOf } = require('./errors-by-code');
const { RecentErrors } = require('./recent-errors');

const RING_SIZE = 1 << 16;
const MASK = RING_SIZE - 1;
const CLOCK_REUSE = 32;

class Settlements {
  // enabled: the per-task figures are on (metrics.enabled); tracer: a
  // TaskTracer, whatever `enabled` says (tracing costs only subscribers).
  constructor(enabled, tracer) {
    this.enabled = enabled;
    this.tracer = tracer;
    this.ids = enabled ? new Float64Array(RING_SIZE).fill(-1) : null;
    this.at = enabled ? new Float64Array(RING_SIZE) : null;
    this.roundTrip = new FixedHistogram();
    this.errors = new ErrorsByCode();
    this.recent = new RecentErrors();
    this.now = -1;        // the clock of the completion batch being settled (ms), -1 outside one
    this.worker = -1;     // executor and run time (ms) of the completion being settled
    this.duration = -1;
    this.clock = 0;          // the submission clock (ms) ...
    this.clockUses = 0;      // ... and how many more submissions may use it
    this.expiring = false;   // a microtask will expire it at the end of the turn
    this.expire = () => {
      this.clockUses = 0;
      this.expiring = false;
    };
  }

  submissionClock() {
    if (this.clockUses > 0) {
      this.clockUses--;
      return this.clock;
    }
    this.clock = performance.now();
    this.clockUses = CLOCK_REUSE - 1;
    if (!this.expiring) {
      this.expiring = true;
      queueMicrotask(this.expire);
    }
    return this.clock;
  }

  submitted(id, priority) {
    if (this.enabled) {
      const i = id & MASK;
      this.ids[i] = id;
      this.at[i] = this.submissionClock();
    }
    if (this.tracer.active) this.tracer.submitted(id, priority);
  }

  // Tasks base .. base + size - 1 (a runAll/map group).
  submittedRange(base, size, priorities) {
    if (this.enabled) {
      const now = performance.now();
      for (let id = base; id < base + size; id++) {
        const i = id & MASK;
        this.ids[i] = id;
        this.at[i] = now;
      }
    }
    if (this.tracer.active) {
      for (let k = 0; k < size; k++) this.tracer.submitted(base + k, priorities === undefined ? 1 : priorities[k]);
    }
  }

  // Whether some pending task is traced (read once per completion batch).
  get tracing() {
    return this.tracer.traced.size !== 0;
  }

  // Around one onCompletions call: one clock read for the batch.
  begin() {
    if (this.enabled) this.now = performance.now();
  }

  end() {
    this.now = -1;
    this.worker = -1;
    this.duration = -1;
  }

  // The completion about to be settled came from `worker` after `duration` ms.
  completion(worker, duration) {
    this.worker = worker;
    this.duration = duration;
  }

  succeeded(id) {
    if (this.enabled) {
      this.errors.succeeded();
      this.recordRoundTrip(id);
    }
    if (this.tracer.traced.size !== 0) this.tracer.settled(id, undefined, this.worker, this.duration);
  }

  // `code`: for failures whose error was never built (see ErrorsByCode.failed).
  failed(id, err, code) {
    if (this.enabled) {
      const c = code === undefined ? codeOf(err) : code;
      this.errors.failed(err, c);
      this.recent.record(id, err, c, this.worker);
      this.recordRoundTrip(id);
    }
    if (this.tracer.traced.size !== 0) this.tracer.settled(id, err, this.worker, this.duration);
  }

  recordRoundTrip(id) {
    const i = id & MASK;
    if (this.ids[i] !== id) return;
    this.ids[i] = -1;
    const now = this.now >= 0 ? this.now : performance.now();
    this.roundTrip.record(Math.max(0, now - this.at[i]) / 1000);
  }
}

module.exports = { Settlements };
