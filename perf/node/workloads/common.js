'use strict';
// Helpers shared by the workloads' sample functions (run in a child process).

const { performance } = require('node:perf_hooks');
const { LIBRARIES } = require('../libs');

function open(participant) {
  const lib = LIBRARIES[participant.library];
  return lib.open({ workers: participant.workers, variant: participant.variant });
}

function range(n, from = 0) {
  return Array.from({ length: n }, (_, i) => from + i);
}

// Milliseconds taken by `fn` (awaited).
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

module.exports = { open, range, timed, now: () => performance.now() };
