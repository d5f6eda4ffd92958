'use strict';
// The checks every options reader shares (options.js, task-options.js,
// logging.js, batch.js, retry.js, modules.js): one definition each, so a bad
// option reads the same wherever it is given. Depends on errors.js only, so
// any module may require it without a cycle.

const errors = require('./errors');

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function rejectUnknownKeys(object, known, prefix) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw errors.unknownOption(prefix + key, known);
  }
}

function checkOneOf(name, value, allowed) {
  const expected = `one of ${allowed.map((a) => `'${a}'`).join(', ')}`;
  if (typeof value !== 'string') throw errors.optionType(name, expected, value);
  if (!allowed.includes(value)) throw errors.optionRange(name, expected, value);
  return value;
}

// A duration in ms: a non-negative integer or Infinity.
function resolveMs(name, value) {
  if (typeof value !== 'number') throw errors.optionType(name, 'a number of milliseconds', value);
  if (value !== Infinity && (!Number.isInteger(value) || value < 0)) {
    throw errors.optionRange(name, 'a non-negative integer (milliseconds) or Infinity', value);
  }
  return value;
}

// A duration in ms that must not be 0 (a timeout).
function resolvePositiveMs(name, value) {
  const ms = resolveMs(name, value);
  if (ms === 0) throw errors.optionRange(name, 'a positive integer (milliseconds) or Infinity', value);
  return ms;
}

module.exports = { isPlainObject, rejectUnknownKeys, checkOneOf, resolveMs, resolvePositiveMs };
