'use strict';
// Every error tasklets itself raises, built from one table so that each code
// always comes with the same class and the same wording. Errors a *task*
// throws are not made here: they are rebuilt by task-errors.js.
//
// Code conventions (Node's):
//   ERR_INVALID_ARG_TYPE   TypeError   a positional argument has the wrong type
//   ERR_INVALID_ARG_VALUE  TypeError   an option is unknown or has the wrong type
//                          RangeError  an option has an impossible value
// so `err.code === 'ERR_INVALID_ARG_VALUE'` catches every bad option.

const { inspect } = require('node:util');

// Node's "Received ..." suffix: the type and a short rendering of the value.
function describeReceived(value) {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === 'function') return ` Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = value.constructor;
    if (ctor && ctor.name) return ` Received an instance of ${ctor.name}`;
    return ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

// code -> [default class, message builder]
const TABLE = {
  ERR_INVALID_ARG_TYPE: [TypeError, (name, expected, value) =>
    `The "${name}" argument must be ${expected}.${describeReceived(value)}`],
  ERR_INVALID_ARG_VALUE: [TypeError, (name, expected, value) =>
    `The "${name}" option must be ${expected}.${describeReceived(value)}`],
  ERR_INVALID_ARG: [TypeError, (name, expected, value) =>
    `The "${name}" argument must be ${expected}.${describeReceived(value)}`],
  ERR_UNKNOWN_OPTION: [TypeError, (name, known) =>
    `The "${name}" option is not supported (supported: ${known.join(', ')}).`],
  ERR_TASK_ARG_NOT_CLONEABLE: [TypeError, (path, reason) =>
    `${path} could not be cloned: ${reason}`],
  ERR_TASK_RESULT_NOT_CLONEABLE: [TypeError, (path, reason) =>
    `The task's ${path} could not be cloned: ${reason}`],
  ERR_POOL_SHUTDOWN: [Error, (what) => what],
  ERR_INVALID_STATE: [Error, (what) => `Invalid state: ${what}`],
  ERR_TASK_TIMEOUT: [Error, (ms) => (ms === undefined
    ? 'The task did not finish within its timeout'
    : `The task did not finish within its timeout of ${ms} ms`)],
  ERR_QUEUE_FULL: [Error, (max, n) =>
    `The pool's queue is full: ${n} more task(s) would exceed maxQueue (${max}); wait for the 'drain' event`],
  ERR_ARGUMENT_MEMORY_FULL: [Error, (bytes, limit) =>
    `The arguments of the tasks not run yet would take ${bytes} bytes, more than memory.limit (${limit})`],
  ERR_DEPENDENCY_FAILED: [Error, (dep) => `Task ${dep}, which this task depends on, did not succeed`],
  ERR_WORKER_CRASHED: [Error, (why) => `The executor running the task stopped: ${why}`],
  ERR_WORKER_OUT_OF_MEMORY: [Error, (why) => `The executor running the task ran out of memory (${why})`],
  ERR_TASKLETS_NOT_BUILT: [Error, (file, cause) =>
    `The tasklets native addon is missing or cannot be loaded (${file}: ${cause}). ` +
    'Reinstall tasklets (its install script builds from source where no prebuilt binary fits), ' +
    'run ./tasklets.sh build in a checkout, or set TASKLETS_ADDON to a built tasklets.node.'],
  ERR_MODULE_NOT_ALLOWED: [Error, (file, allow) =>
    `The module ${file} is not in the pool's modules.allow list (${allow.length === 0 ? 'empty' : allow.join(', ')})`],
};

// Unknown options carry ERR_INVALID_ARG_VALUE: one code for every bad option.
const CODE_ALIAS = { ERR_UNKNOWN_OPTION: 'ERR_INVALID_ARG_VALUE', ERR_INVALID_ARG: 'ERR_INVALID_ARG_VALUE', ERR_ARGUMENT_MEMORY_FULL: 'ERR_QUEUE_FULL' };

// The error of a cancelled task, as Node's own AbortError (node:events,
// fs, fetch): name 'AbortError', code 'ABORT_ERR'.
class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

function makeError(key, Base, args) {
  const entry = TABLE[key];
  const err = new (Base || entry[0])(entry[1](...args));
  err.code = CODE_ALIAS[key] || key;
  return err;
}

module.exports = {
  argType: (name, expected, value) => makeError('ERR_INVALID_ARG_TYPE', null, [name, expected, value]),
  // An argument of the right type with an unusable value (e.g. a class as fn).
  argValue: (name, expected, value) => makeError('ERR_INVALID_ARG', null, [name, expected, value]),
  optionType: (name, expected, value) => makeError('ERR_INVALID_ARG_VALUE', TypeError, [name, expected, value]),
  optionRange: (name, expected, value) => makeError('ERR_INVALID_ARG_VALUE', RangeError, [name, expected, value]),
  // A RangeError whose message is written out in full (relations between options).
  optionConflict(message) {
    const err = new RangeError(message);
    err.code = 'ERR_INVALID_ARG_VALUE';
    return err;
  },
  unknownOption: (name, known) => makeError('ERR_UNKNOWN_OPTION', null, [name, known]),
  argNotCloneable: (path, reason) => makeError('ERR_TASK_ARG_NOT_CLONEABLE', null, [path, reason]),
  resultNotCloneable: (path, reason) => makeError('ERR_TASK_RESULT_NOT_CLONEABLE', null, [path, reason]),
  poolShutdown: (what) => makeError('ERR_POOL_SHUTDOWN', null, [what]),
  // A call that the object's state does not allow now (Node's code).
  invalidState: (what) => makeError('ERR_INVALID_STATE', null, [what]),
  taskTimeout: (ms) => makeError('ERR_TASK_TIMEOUT', null, [ms]),
  queueFull: (max, n) => makeError('ERR_QUEUE_FULL', null, [max, n]),
  // A refusal the addon reports as a code and facts (addon/errors.h,
  // status_error), in these words; `shutDown` says what a shut-down pool
  // refused. Any other error passes as it is.
  fromNative(err, shutDown) {
    if (err === null || typeof err !== 'object') return err;
    if (err.code === 'ERR_POOL_SHUTDOWN') return makeError('ERR_POOL_SHUTDOWN', null, [shutDown]);
    if (err.code === 'ERR_QUEUE_FULL' && err.argumentLimit !== undefined) {
      const e = makeError('ERR_ARGUMENT_MEMORY_FULL', null, [err.argumentBytes, err.argumentLimit]);
      e.argumentBytes = err.argumentBytes;
      e.argumentLimit = err.argumentLimit;
      return e;
    }
    return err;
  },
  dependencyFailed(dep, cause) {
    const err = makeError('ERR_DEPENDENCY_FAILED', null, [dep]);
    err.dependency = dep;
    if (cause !== undefined) err.cause = cause;
    return err;
  },
  workerCrashed: (code, why) => makeError(code === 'ERR_WORKER_OUT_OF_MEMORY' ? code : 'ERR_WORKER_CRASHED', null, [why]),
  aborted(reason) {
    if (reason instanceof AbortError) return reason;
    return new AbortError('The task was cancelled', reason === undefined ? undefined : { cause: reason });
  },
  AbortError,
  notBuilt: (file, cause) => makeError('ERR_TASKLETS_NOT_BUILT', null, [file, cause]),
  describeReceived,
  // A module task whose file (its real path) is outside modules.allow.
  moduleNotAllowed(file, allow) {
    const err = makeError('ERR_MODULE_NOT_ALLOWED', null, [file, allow]);
    err.module = file;
    return err;
  },
};
