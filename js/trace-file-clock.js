'use strict';
// The one clock of a trace file, on every thread: process.hrtime
// (CLOCK_MONOTONIC, the same for all threads of the process), in ms.
//
// performance.now() counts from the time origin of its own thread (each
// Worker has its own), so readings of two threads cannot be compared as
// they are. Each thread measures once how far its performance.now() is from
// hrtime, and adds that: a reading then costs what performance.now() costs
// (hrtime.bigint() allocates), and agrees with the other threads' to well
// under a microsecond (the gap between two adjacent clock reads, the
// smallest of SAMPLES tries).

const SAMPLES = 9;

function measureOffset() {
  let gap = Infinity;
  let offset = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < gap) {
      gap = after - before;
      offset = hr - (before + after) / 2;
    }
  }
  return offset;
}

const OFFSET = measureOffset();
const ORIGIN = performance.timeOrigin;   // a getter into the runtime: read once

// Now, in ms of the process-wide monotonic clock.
function monotonicMs() {
  return performance.now() + OFFSET;
}

// An epoch reading of this thread (performance.timeOrigin +
// performance.now(), as the tracing channel's submittedAt and settledAt) on
// the same clock; within a quarter of a microsecond (the resolution of an
// epoch in ms as a double).
function monotonicFromEpoch(epochMs) {
  return epochMs - ORIGIN + OFFSET;
}

module.exports = { monotonicMs, monotonicFromEpoch };
