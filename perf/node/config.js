'use strict';
// How much work each workload does, in quick and full mode. Quick mode must
// stay under 2 minutes on the 2-core machine; full mode under 20.

const BREAKEVEN_SIZES_US = [1, 5, 10, 50, 100, 500];

// Tasks per size: about `workMs` of work inline, at least `min`, at most `max`.
function breakevenCounts(workMs, min, max) {
  return BREAKEVEN_SIZES_US.map((us) => Math.max(min, Math.min(max, Math.round((workMs * 1000) / us))));
}

function workloadParams(quick, itersPerUs) {
  return {
    overhead: quick ? { tasks: 5_000, warmup: 1_000 } : { tasks: 50_000, warmup: 5_000 },
    latency: quick ? { samples: 1_000, warmup: 200 } : { samples: 5_000, warmup: 500 },
    breakeven: {
      sizesUs: BREAKEVEN_SIZES_US,
      itersPerUs,
      counts: quick ? breakevenCounts(20, 200, 1_000) : breakevenCounts(300, 2_000, 20_000),
      warmup: quick ? 200 : 1_000,
    },
    scaling: { taskMs: quick ? 10 : 40, itersPerUs, tasks: quick ? 6 : 24 },
    payload: {
      sizes: quick
        ? [{ bytes: 1024, tasks: 300 }, { bytes: 64 * 1024, tasks: 60 }, { bytes: 1024 * 1024, tasks: 12 }]
        : [{ bytes: 1024, tasks: 5_000 }, { bytes: 64 * 1024, tasks: 500 }, { bytes: 1024 * 1024, tasks: 50 }],
      warmup: quick ? 10 : 100,
    },
    http: {
      rounds: 1_000,
      bodyBytes: 4096,
      // Each level is its own sample per library (issue 15: 8, 32 and 128).
      connectionLevels: quick ? [32] : [8, 32, 128],
      warmupMs: quick ? 300 : 1_000,
      durationMs: quick ? 1_200 : 4_000,
    },
    memory: quick ? { tasks: 10_000, batch: 1_000, curvePoints: 9 } : { tasks: 1_000_000, batch: 10_000, curvePoints: 20 },
    startup: {},
  };
}

// Repetitions per workload (the figure is their median).
function repetitions(quick, workload) {
  if (workload === 'memory') return 1;
  if (workload === 'http') return quick ? 1 : 3;
  return quick ? 3 : 5;
}

// Longest a single sample may take before its process is killed.
function sampleTimeoutMs(quick, workload) {
  if (workload === 'memory') return quick ? 60_000 : 300_000;
  return quick ? 30_000 : 120_000;
}

module.exports = { workloadParams, repetitions, sampleTimeoutMs, BREAKEVEN_SIZES_US };
