'use strict';
// The `metrics` pool option: validation and defaults (docs/observability.md).
//
//   metrics: true | false | { enabled, taskCpuTime, name, timelineIntervalMs, timelineSamples }
//
// `enabled: false` turns off every per-task figure (native latency
// histograms, round trip, outcome counts, tracing context); gauges and
// counters the runtime keeps anyway stay readable.

const errors = require('../errors');
const { isPlainObject, rejectUnknownKeys } = require('../validate');

const KEYS = ['enabled', 'taskCpuTime', 'name', 'timelineIntervalMs', 'timelineSamples'];
const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_SAMPLES = 300;   // five minutes at one sample a second
const MAX_SAMPLES = 86400;
const LABEL_VALUE_MAX = 128;

function boolean(name, value, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw errors.optionType(name, 'a boolean', value);
  return value;
}

function integer(name, value, fallback, min, max) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw errors.optionType(name, `an integer from ${min} to ${max}`, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.optionRange(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function resolveMetrics(value) {
  if (value === undefined || value === true) value = {};
  else if (value === false) value = { enabled: false };
  if (!isPlainObject(value)) throw errors.optionType('metrics', 'a boolean or an object { enabled, taskCpuTime, name, timelineIntervalMs, timelineSamples }', value);
  rejectUnknownKeys(value, KEYS, 'metrics.');
  let name = null;
  if (value.name !== undefined) {
    if (typeof value.name !== 'string') throw errors.optionType('metrics.name', 'a string', value.name);
    if (value.name.length === 0 || value.name.length > LABEL_VALUE_MAX) {
      throw errors.optionRange('metrics.name', `a string of 1 to ${LABEL_VALUE_MAX} characters`, value.name);
    }
    name = value.name;
  }
  return {
    enabled: boolean('metrics.enabled', value.enabled, true),
    taskCpuTime: boolean('metrics.taskCpuTime', value.taskCpuTime, false),
    name,
    timelineIntervalMs: integer('metrics.timelineIntervalMs', value.timelineIntervalMs, DEFAULT_INTERVAL_MS, 10, 3600000),
    timelineSamples: integer('metrics.timelineSamples', value.timelineSamples, DEFAULT_SAMPLES, 1, MAX_SAMPLES),
  };
}

function sameMetrics(a, b) {
  return KEYS.every((k) => a[k] === b[k]);
}

module.exports = { resolveMetrics, sameMetrics };
