'use strict';
// retry(run, fn, options): runs a task again when it fails, waiting longer
// after each failure (exponential backoff), until it succeeds, the attempts
// run out, options.retryIf says no, or options.signal aborts.
//
//   run(fn, taskOptions) -> Promise    the pool's run (bound), called once per attempt
//                                      with { args, priority, timeout, signal }
//                                      (only the keys the caller gave)
//
// Options: args (array), attempts (integer >= 1, default 3), delay (ms >= 0,
// default 100), backoff (>= 1, default 2), maxDelay (ms >= 0, default 30000),
// retryIf(err, attempt) -> boolean, and priority, timeout, signal passed
// through to every attempt. The wait after failed attempt n (1-based) is
// min(maxDelay, delay * backoff ** (n - 1)).
//
// Invariants:
// - retry never throws: bad options, like everything else, reject the
//   returned promise (ERR_INVALID_ARG_VALUE naming `options.<key>`,
//   ERR_INVALID_ARG_TYPE for `run`).
// - Every attempt is a new run() call, in a new task: nothing a task keeps
//   in its executor survives to the next attempt.
// - Failure is one AggregateError, code ERR_TASK_RETRIES_EXHAUSTED, whose
//   `errors` are every attempt's error in order, `cause` the last one and
//   `attempts` how many ran; also when retryIf stopped early.
// - retryIf is asked after each failed attempt but the last. The default
//   retries every error except those tasklets raised before the task could
//   run, which would fail the same way again: invalid arguments or options
//   (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE / ERR_TASK_ARG_NOT_CLONEABLE
//   without a taskId: a task's own errors carry one) and a shut down pool
//   (ERR_POOL_SHUTDOWN). An exception thrown by retryIf rejects the retry
//   with that exception.
// - Aborting options.signal rejects at once with an AbortError (code
//   ABORT_ERR, `cause` the signal's reason), also in the middle of an attempt
//   (that attempt's outcome is then ignored), and clears the wait, so no
//   timer is left behind. The waits are ordinary (referenced) timers: the
//   caller awaits the result, so the process stays alive for it.

const errors = require('./errors');
const { isPlainObject } = require('./validate');

const KEYS = ['args', 'attempts', 'delay', 'backoff', 'maxDelay', 'retryIf', 'priority', 'timeout', 'signal'];
const DEFAULTS = Object.freeze({ attempts: 3, delay: 100, backoff: 2, maxDelay: 30000 });
// setTimeout takes at most this (about 24.8 days); a longer wait would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
const CALLER_ERRORS = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_TASK_ARG_NOT_CLONEABLE']);

// The default retryIf: false for errors that retrying cannot fix.
function defaultRetryIf(err) {
  if (err === null || typeof err !== 'object') return true;
  if (err.code === 'ERR_POOL_SHUTDOWN') return false;
  return !(CALLER_ERRORS.has(err.code) && err.taskId === undefined);
}

function readNumber(options, key, min, { integer = false, infinity = false } = {}) {
  const value = options[key];
  if (value === undefined) return DEFAULTS[key];
  const what = `${integer ? 'an integer' : 'a number'} >= ${min}${infinity ? ' or Infinity' : ''}`;
  if (typeof value !== 'number') throw errors.optionType(`options.${key}`, what, value);
  const ok = (value === Infinity && infinity) ||
    (Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value)));
  if (!ok) throw errors.optionRange(`options.${key}`, what, value);
  return value;
}

function readOptions(options) {
  if (options === undefined || options === null) options = {};
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  for (const key of Object.keys(options)) if (!KEYS.includes(key)) throw errors.unknownOption(`options.${key}`, KEYS);
  const { args, retryIf, signal } = options;
  if (args !== undefined && !Array.isArray(args)) throw errors.optionType('options.args', 'an array', args);
  if (retryIf !== undefined && typeof retryIf !== 'function') throw errors.optionType('options.retryIf', 'a function', retryIf);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw errors.optionType('options.signal', 'an AbortSignal', signal);
  const task = {};
  for (const key of ['args', 'priority', 'timeout', 'signal']) if (options[key] !== undefined) task[key] = options[key];
  return {
    attempts: readNumber(options, 'attempts', 1, { integer: true }),
    delay: readNumber(options, 'delay', 0),
    backoff: readNumber(options, 'backoff', 1),
    maxDelay: readNumber(options, 'maxDelay', 0, { infinity: true }),
    retryIf: retryIf === undefined ? defaultRetryIf : retryIf,
    signal,
    task,
  };
}

// The wait (ms) after failed attempt `attempt` (1-based).
function delayAfter(attempt, { delay = DEFAULTS.delay, backoff = DEFAULTS.backoff, maxDelay = DEFAULTS.maxDelay } = {}) {
  const wait = delay * backoff ** (attempt - 1);
  return Math.min(maxDelay, Number.isFinite(wait) ? wait : Infinity);
}

function abortError(signal) {
  return new errors.AbortError('The operation was aborted', { cause: signal.reason });
}

function messageOf(err) {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return typeof err;
  }
}

function exhausted(failures, attempts) {
  const n = failures.length;
  const last = failures[n - 1];
  const how = n === attempts
    ? `${n === 1 ? 'The only attempt' : `All ${n} attempts`} failed`
    : `${n} of ${attempts} attempt${attempts === 1 ? '' : 's'} failed (retryIf declined to retry)`;
  const err = new AggregateError(failures.slice(), `${how}; last error: ${messageOf(last)}`, { cause: last });
  err.code = 'ERR_TASK_RETRIES_EXHAUSTED';
  err.attempts = n;
  return err;
}

function retry(run, fn, options) {
  let config;
  try {
    if (typeof run !== 'function') throw errors.argType('run', 'a function', run);
    if (typeof fn !== 'function' && !(isPlainObject(fn) && 'module' in fn)) {
      throw errors.argType('fn', 'a function or a module task { module, export }', fn);
    }
    config = readOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const { attempts, retryIf, signal, task } = config;
  return new Promise((resolve, reject) => {
    const failures = [];
    let timer = null;
    let done = false;

    function finish(settle, value) {
      if (done) return;
      done = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (signal !== undefined) signal.removeEventListener('abort', onAbort);
      settle(value);
    }

    function onAbort() {
      finish(reject, abortError(signal));
    }

    function failed(err, attempt) {
      if (done) return;
      failures.push(err);
      let again = attempt < attempts;
      if (again) {
        try {
          again = Boolean(retryIf(err, attempt));
        } catch (thrown) {
          finish(reject, thrown);
          return;
        }
      }
      if (!again) {
        finish(reject, exhausted(failures, attempts));
        return;
      }
      timer = setTimeout(start, Math.min(MAX_TIMER_MS, delayAfter(attempt, config)));
    }

    function start() {
      timer = null;
      if (done) return;
      const attempt = failures.length + 1;
      let promise;
      try {
        promise = run(fn, { ...task });
      } catch (err) {
        promise = Promise.reject(err);
      }
      Promise.resolve(promise).then((value) => finish(resolve, value), (err) => failed(err, attempt));
    }

    if (signal !== undefined) {
      if (signal.aborted) {
        finish(reject, abortError(signal));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    start();
  });
}

module.exports = { retry, delayAfter, defaultRetryIf, DEFAULTS };
