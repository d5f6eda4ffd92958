'use strict';
// The options of tasklets.dashboard() and tasklets.dashboardHandler():
// validation and defaults (docs/observability.md, "Dashboard").
//
//   dashboard({ port, host, pool, intervalMs })
//   dashboardHandler({ pool, intervalMs, basePath })
//
// The server listens on loopback unless `host` says otherwise: the page
// shows task error messages, task ids and the machine's layout, which a
// service must not hand to whoever can reach one of its ports.

const errors = require('../errors');
const { isPlainObject, rejectUnknownKeys } = require('../validate');
const { Tasklets } = require('../pool');

const SERVER_KEYS = ['port', 'host', 'pool', 'intervalMs'];
const HANDLER_KEYS = ['pool', 'intervalMs', 'basePath'];
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 50;
const MAX_INTERVAL_MS = 60000;

function integer(name, value, fallback, min, max) {
  if (value === undefined) return fallback;
  const expected = `an integer from ${min} to ${max}`;
  if (typeof value !== 'number') throw errors.optionType(name, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) throw errors.optionRange(name, expected, value);
  return value;
}

// undefined: every live pool of the process; a pool; or a non-empty array
// of pools.
function resolvePools(value) {
  if (value === undefined) return null;
  const expected = 'a Tasklets pool or a non-empty array of them';
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw errors.optionRange('pool', expected, value);
  for (const p of list) {
    if (!(p instanceof Tasklets)) throw errors.optionType('pool', expected, p);
  }
  return list;
}

function resolveHost(value) {
  if (value === undefined) return DEFAULT_HOST;
  if (typeof value !== 'string') throw errors.optionType('host', 'a host name or IP address', value);
  if (value.length === 0 || /[\s/]/.test(value)) throw errors.optionRange('host', 'a host name or IP address', value);
  return value;
}

// '/tasklets/' and '/tasklets' -> '/tasklets'; '/' -> ''.
function resolveBasePath(value) {
  if (value === undefined) return '';
  const expected = "a path that starts with '/' (e.g. '/tasklets')";
  if (typeof value !== 'string') throw errors.optionType('basePath', expected, value);
  if (!value.startsWith('/') || /[\s?#]/.test(value) || value.includes('//')) throw errors.optionRange('basePath', expected, value);
  return value.replace(/\/+$/, '');
}

function resolveCommon(options, keys) {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  rejectUnknownKeys(options, keys, '');
  return {
    pools: resolvePools(options.pool),
    intervalMs: integer('intervalMs', options.intervalMs, DEFAULT_INTERVAL_MS, MIN_INTERVAL_MS, MAX_INTERVAL_MS),
  };
}

function resolveServerOptions(options) {
  const common = resolveCommon(options, SERVER_KEYS);
  const o = options || {};
  return { ...common, port: integer('port', o.port, 0, 0, 65535), host: resolveHost(o.host), basePath: '' };
}

function resolveHandlerOptions(options) {
  const common = resolveCommon(options, HANDLER_KEYS);
  return { ...common, basePath: resolveBasePath((options || {}).basePath) };
}

module.exports = { resolveServerOptions, resolveHandlerOptions, DEFAULT_HOST };
