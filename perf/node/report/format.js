'use strict';
// Number formatting shared by the terminal table and the Markdown report.

function num(v, digits = 2) {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

// A rate (per second) with a k/M suffix.
function rate(v) {
  if (!Number.isFinite(v)) return 'n/a';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)}k`;
  return v.toFixed(1);
}

function us(v) {
  if (!Number.isFinite(v)) return 'n/a';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} ms`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} ms`;
  return `${v.toFixed(v < 10 ? 1 : 0)} us`;
}

function ms(v) {
  return Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : 'n/a';
}

function mb(v) {
  return Number.isFinite(v) ? `${v.toFixed(1)} MB` : 'n/a';
}

function ratio(v) {
  if (!Number.isFinite(v)) return 'n/a';
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}x`;
}

// Spread of repetitions: half the min-max range relative to the median.
function spread(s) {
  if (!s || s.n < 2) return '-';
  return `±${(s.spread * 100).toFixed(s.spread < 0.1 ? 1 : 0)}%`;
}

function bytes(n) {
  if (n >= 2 ** 20) return `${n / 2 ** 20} MB`;
  if (n >= 1024) return `${n / 1024} KB`;
  return `${n} B`;
}

module.exports = { num, rate, us, ms, mb, ratio, spread, bytes };
