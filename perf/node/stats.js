'use strict';
// Small statistics: medians of repetitions, spread, percentiles of samples.

function sorted(values) {
  return Float64Array.from(values).sort();
}

// Nearest-rank percentile (q in 0..1) of unsorted values.
function percentile(values, q) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank];
}

function median(values) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// Median with its range: { median, min, max, spread } where spread is the
// half-range relative to the median (0.05 = +-5%).
function summary(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const m = median(v);
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return { median: m, min: lo, max: hi, spread: m === 0 ? 0 : (hi - lo) / 2 / Math.abs(m), n: v.length };
}

function latencySummary(samplesUs) {
  return {
    p50: percentile(samplesUs, 0.5),
    p90: percentile(samplesUs, 0.9),
    p99: percentile(samplesUs, 0.99),
    max: Math.max(...samplesUs),
    mean: samplesUs.reduce((a, b) => a + b, 0) / samplesUs.length,
    count: samplesUs.length,
  };
}

module.exports = { percentile, median, summary, latencySummary };
