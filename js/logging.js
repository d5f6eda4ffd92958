'use strict';
// The runtime's own log: a level, a line format and a destination.
//
//   resolveLogging(value, name)  the user's `logging` option -> a plain object
//                                { level, format, destination }; throws (with
//                                ERR_INVALID_ARG_VALUE naming the option) on
//                                anything unknown, so a typo is caught when the
//                                pool is configured, not when it first logs.
//   createLogger(resolved, name) -> { level, format, destination, enabled(level),
//                                error, warn, info, debug, trace, close() }
//
// Formats, one line per record:
//   text  2026-11-24T01:02:03.456Z WARN tasklets: message key=value key="two words"
//   json  {"level":40,"time":1795482123456,"pid":1,"hostname":"h","name":"tasklets","msg":"message",...fields}
//         pino's shape (numeric levels trace 10 .. error 50, epoch-ms time), so
//         pino-pretty and the other pino tools read it. A field that is an
//         Error becomes { type, message, stack, code } (pino's err serializer).
//
// Invariants:
// - A disabled level costs one integer comparison: nothing is formatted and
//   the fields object is not looked at.
// - Logging never throws into its caller: values JSON cannot encode (cycles,
//   BigInt) are described instead, and a failing write is dropped (after one
//   process warning).
// - A file destination is written through a synchronous fd opened for
//   appending, so every line is on disk when the call returns, including the
//   lines written just before the process exits. close() closes it; a closed
//   logger writes nothing. stderr / stdout go through process.*.write.
// - Level 'off' writes nothing and opens no file.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const errors = require('./errors');
const { isPlainObject, rejectUnknownKeys, checkOneOf } = require('./validate');

const LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'];
const FORMATS = ['text', 'json'];
const KEYS = ['level', 'format', 'destination'];
const DEFAULTS = Object.freeze({ level: 'warn', format: 'text', destination: 'stderr' });

// Threshold of a logger's level: a record is written when its rank <= this.
const RANK = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };
// pino's numeric levels.
const PINO_LEVEL = { error: 50, warn: 40, info: 30, debug: 20, trace: 10 };
const TEXT_LEVEL = { error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', trace: 'TRACE' };
const NAME = 'tasklets';
// Record keys written by the logger itself; a field with one of these names
// is written as `_<name>` rather than replacing it.
const CORE_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

function resolveDestination(name, value) {
  const expected = "'stderr', 'stdout' or a file path";
  if (typeof value !== 'string') throw errors.optionType(name, expected, value);
  if (value === 'stderr' || value === 'stdout') return value;
  if (value.length === 0 || value.includes('\0')) throw errors.optionRange(name, expected, value);
  // Absolute, so that the resolved configuration says where the lines go
  // whatever the working directory is later.
  return path.resolve(value);
}

// The `logging` option -> { level, format, destination }. `value` may be a
// level name, an object with any of the three keys, or undefined (defaults).
// A resolved object resolves to itself (same values).
function resolveLogging(value, name = 'logging') {
  if (value === undefined) return { ...DEFAULTS };
  if (typeof value === 'string') return { ...DEFAULTS, level: checkOneOf(name, value, LEVELS) };
  if (!isPlainObject(value)) {
    throw errors.optionType(name, `one of ${LEVELS.map((l) => `'${l}'`).join(', ')} or an object { level, format, destination }`, value);
  }
  rejectUnknownKeys(value, KEYS, `${name}.`);
  return {
    level: value.level === undefined ? DEFAULTS.level : checkOneOf(`${name}.level`, value.level, LEVELS),
    format: value.format === undefined ? DEFAULTS.format : checkOneOf(`${name}.format`, value.format, FORMATS),
    destination: value.destination === undefined
      ? DEFAULTS.destination
      : resolveDestination(`${name}.destination`, value.destination),
  };
}

function isError(value) {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function errorType(err) {
  const ctor = err.constructor;
  if (typeof ctor === 'function' && ctor.name) return ctor.name;
  return String(err.name || 'Error');
}

// pino's err serializer, reduced to what a log reader needs.
function serializeError(err) {
  const out = { type: errorType(err), message: String(err.message), stack: err.stack === undefined ? undefined : String(err.stack) };
  if (err.code !== undefined) out.code = err.code;
  return out;
}

function jsonReplacer(key, value) {
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && isError(value)) return serializeError(value);
  return value;
}

// Fields given to a log call -> an object of fields (or null).
function fieldsOf(fields) {
  if (fields === undefined || fields === null) return null;
  if (isError(fields)) return { err: fields };
  if (typeof fields === 'object') return fields;
  return { data: fields };
}

function jsonLine(levelName, msg, fields, hostname) {
  const record = {
    level: PINO_LEVEL[levelName],
    time: Date.now(),
    pid: process.pid,
    hostname,
    name: NAME,
    msg: String(msg),
  };
  const extra = fieldsOf(fields);
  if (extra !== null) {
    for (const key of Object.keys(extra)) record[CORE_KEYS.has(key) ? `_${key}` : key] = extra[key];
  }
  try {
    return `${JSON.stringify(record, jsonReplacer)}\n`;
  } catch (err) {
    // A cycle, a throwing getter or toJSON: keep the record, describe the fields.
    const { level, time, pid, name } = record;
    return `${JSON.stringify({ level, time, pid, hostname, name, msg: record.msg, fieldsError: `fields could not be written: ${err && err.message}` })}\n`;
  }
}

const BARE = /^[^\s"=\\]+$/;

function textValue(value) {
  switch (typeof value) {
    case 'string':
      return BARE.test(value) ? value : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'function':
      return JSON.stringify(`[function ${value.name || 'anonymous'}]`);
    case 'symbol':
      return JSON.stringify(value.toString());
    default:
      if (value === null) return 'null';
      try {
        return JSON.stringify(value, jsonReplacer);
      } catch {
        return '"[unserializable]"';
      }
  }
}

function textLine(levelName, msg, fields) {
  let line = `${new Date().toISOString()} ${TEXT_LEVEL[levelName]} ${NAME}: ${String(msg).replace(/\r?\n/g, '\\n')}`;
  const extra = fieldsOf(fields);
  if (extra !== null) {
    for (const key of Object.keys(extra)) {
      const value = extra[key];
      if (value !== null && typeof value === 'object' && isError(value)) {
        line += ` ${key}=${textValue(`${errorType(value)}: ${value.message}`)}`;
        if (value.code !== undefined) line += ` ${key}.code=${textValue(value.code)}`;
      } else {
        line += ` ${key}=${textValue(value)}`;
      }
    }
  }
  return `${line}\n`;
}

function openError(name, file, cause) {
  const err = new RangeError(
    `The "${name}" option must be a file that can be opened for appending: ${file}: ${cause && cause.message}`);
  err.code = 'ERR_INVALID_ARG_VALUE';
  err.cause = cause;
  return err;
}

// A resolved configuration (or anything resolveLogging accepts) -> a logger.
// `name` names the option in errors (a file that cannot be opened).
function createLogger(resolved, name = 'logging') {
  const { level, format, destination } = resolveLogging(resolved, name);
  const threshold = RANK[level];
  const hostname = os.hostname();
  let fd = null;
  let closed = false;
  let warned = false;

  let write;
  if (threshold === RANK.off) {
    write = () => {};
  } else if (destination === 'stderr') {
    write = (line) => process.stderr.write(line);
  } else if (destination === 'stdout') {
    write = (line) => process.stdout.write(line);
  } else {
    try {
      fd = fs.openSync(destination, 'a');
    } catch (err) {
      throw openError(`${name}.destination`, destination, err);
    }
    write = (line) => fs.writeSync(fd, line);
  }

  const formatLine = format === 'json'
    ? (levelName, msg, fields) => jsonLine(levelName, msg, fields, hostname)
    : textLine;

  function emit(levelName, msg, fields) {
    if (closed) return;
    try {
      write(formatLine(levelName, msg, fields));
    } catch (err) {
      if (!warned) {
        warned = true;
        process.emitWarning(`tasklets: a log line could not be written to ${destination}: ${err && err.message}`, 'TaskletsWarning');
      }
    }
  }

  function method(levelName) {
    const rank = RANK[levelName];
    return function log(msg, fields) {
      if (rank > threshold) return;
      emit(levelName, msg, fields);
    };
  }

  return Object.freeze({
    level,
    format,
    destination,
    enabled(levelName) {
      const rank = RANK[levelName];
      return rank !== undefined && rank !== RANK.off && rank <= threshold;
    },
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
    close() {
      if (closed) return;
      closed = true;
      if (fd !== null) {
        const f = fd;
        fd = null;
        fs.closeSync(f);
      }
    },
  });
}

module.exports = { resolveLogging, createLogger, LEVELS, FORMATS, PINO_LEVEL };
