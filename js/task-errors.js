'use strict';
// A task's own error, across threads (addon/protocol.md, "Errors").
//
// Executor side: toPlain(thrown) turns whatever the task threw into a plain
// object { name, message, stack, code, cause, errors, props, thrown, value }
// that v8.serialize can always clone; encode(thrown) returns its bytes and
// never throws.
// Main side: rebuild(plain, details) makes an Error of the same class for the
// standard classes and a plain Error carrying the `name` for the others, with
// the executor's stack, and adds taskId, workerThread, duration and
// stackTrace (the stack as the executor recorded it, unchanged).
//
// Failures of native code (payload kind 7) arrive as a message, a NUL and
// the addon's symbolized C++ stack: nativeFailure() splits them.

const v8 = require('node:v8');
const { inspect } = require('node:util');
const { checkCloneable } = require('./codec');

const STANDARD = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError,
};
const RESERVED_PROPS = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors']);
const MAX_CAUSE_DEPTH = 16;

// Frames V8 records for an error thrown in an executor (Node's default is
// 10, which cuts a task's stack off inside library code).
const EXECUTOR_STACK_FRAMES = 64;

const CLOSURE_HINT =
  ' (tasks run in a separate thread and cannot see variables of the caller; pass them in args)';

function isErrorLike(value) {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function cloneableOrUndefined(value) {
  if (checkCloneable(value, 'value') !== null) return undefined;
  try {
    v8.serialize(value);
    return value;
  } catch {
    return undefined;
  }
}

function safeString(value, fallback) {
  try {
    return String(value);
  } catch {
    return fallback;
  }
}

function describeThrown(value) {
  try {
    return inspect(value, { depth: 2, breakLength: Infinity });
  } catch {
    return typeof value;
  }
}

function ownProps(err) {
  const props = {};
  let any = false;
  for (const key of Object.keys(err)) {
    if (RESERVED_PROPS.has(key)) continue;
    const value = cloneableOrUndefined(err[key]);
    if (value !== undefined) {
      props[key] = value;
      any = true;
    }
  }
  return any ? props : undefined;
}

function plainCause(cause, depth) {
  if (isErrorLike(cause)) return toPlain(cause, depth + 1);
  return { thrown: 'value', value: cloneableOrUndefined(cause), description: describeThrown(cause) };
}

function toPlain(thrown, depth = 0) {
  if (!isErrorLike(thrown)) {
    return {
      thrown: 'value',
      name: 'Error',
      message: `The task threw a non-Error value: ${describeThrown(thrown)}`,
      value: cloneableOrUndefined(thrown),
    };
  }
  const plain = {
    thrown: 'error',
    name: safeString(thrown.name, 'Error'),
    message: safeString(thrown.message, ''),
    stack: safeString(thrown.stack, undefined),
  };
  if (thrown.code !== undefined) plain.code = cloneableOrUndefined(thrown.code);
  if ('cause' in thrown && depth < MAX_CAUSE_DEPTH) plain.cause = plainCause(thrown.cause, depth);
  if (Array.isArray(thrown.errors) && depth < MAX_CAUSE_DEPTH) {
    plain.errors = thrown.errors.map((e) => (isErrorLike(e) ? toPlain(e, depth + 1) : plainCause(e, depth)));
  }
  const props = ownProps(thrown);
  if (props !== undefined) plain.props = props;
  return plain;
}

// Bytes for payload kind 3. Never throws, whatever the task threw.
function encode(thrown) {
  try {
    return v8.serialize(toPlain(thrown));
  } catch {
    return v8.serialize({ thrown: 'value', name: 'Error', message: 'The task threw a value that could not be described' });
  }
}

function rebuildOne(plain) {
  if (plain === null || typeof plain !== 'object') return new Error(String(plain));
  if (plain.thrown === 'value' && plain.name === undefined) {
    // A cause that was not an Error: give back the value itself.
    return plain.value !== undefined ? plain.value : plain.description;
  }
  const Ctor = Object.prototype.hasOwnProperty.call(STANDARD, plain.name) ? STANDARD[plain.name] : Error;
  let message = plain.message === undefined ? '' : plain.message;
  if (plain.name === 'ReferenceError' && / is not defined$/.test(message)) message += CLOSURE_HINT;
  const err = Ctor === AggregateError
    ? new AggregateError((plain.errors || []).map(rebuildOne), message)
    : new Ctor(message);
  if (Ctor === Error && plain.name !== 'Error' && plain.name !== undefined) {
    Object.defineProperty(err, 'name', { value: plain.name, writable: true, configurable: true, enumerable: false });
  }
  if (plain.stack !== undefined) {
    err.stack = message === plain.message ? plain.stack : plain.stack.replace(plain.message, message);
  } else {
    err.stack = `${err.name}: ${message}`;
  }
  if (plain.props !== undefined) Object.assign(err, plain.props);
  if (plain.code !== undefined) err.code = plain.code;
  if ('cause' in plain) {
    Object.defineProperty(err, 'cause', { value: rebuildOne(plain.cause), writable: true, configurable: true, enumerable: false });
  }
  if (plain.thrown === 'value') err.value = plain.value;
  return err;
}

// Main side: plain error object + where it ran -> the Error the caller sees.
function rebuild(plain, taskId, workerThread, duration) {
  const err = rebuildOne(plain);
  err.taskId = taskId;
  err.workerThread = workerThread;
  err.duration = duration;
  if (plain !== null && typeof plain === 'object' && typeof plain.stack === 'string') err.stackTrace = plain.stack;
  return err;
}

// Executor side, once at start: errors thrown there keep more of their stack.
function recordLongStacks() {
  if (!(Error.stackTraceLimit >= EXECUTOR_STACK_FRAMES)) Error.stackTraceLimit = EXECUTOR_STACK_FRAMES;
}

// A kind 7 value -> { message, nativeTrace } (nativeTrace undefined when
// the addon sent none).
function nativeFailure(value) {
  if (typeof value !== 'string') return { message: undefined, nativeTrace: undefined };
  const nul = value.indexOf('\u0000');
  if (nul === -1) return { message: value, nativeTrace: undefined };
  const trace = value.slice(nul + 1);
  return { message: value.slice(0, nul), nativeTrace: trace === '' ? undefined : trace };
}

module.exports = { toPlain, encode, rebuild, recordLongStacks, nativeFailure, CLOSURE_HINT, EXECUTOR_STACK_FRAMES };
