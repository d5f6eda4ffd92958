'use strict';
// retry (js/retry.js): attempts on a real pool, retryIf, the AggregateError
// of exhausted attempts, waits, validation and aborting. A task keeps no
// state between attempts (each may run on another executor), so the caller
// side counts the attempts and passes the number in the arguments.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/pool');
const { retry, delayAfter, defaultRetryIf } = require('../../js/retry');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

// A task that fails on attempts 1..failUntil and succeeds after.
function flaky(attempt, failUntil) {
  if (attempt <= failUntil) {
    const err = new Error(`attempt ${attempt} failed`);
    err.code = attempt === 2 ? 'E_FATAL' : 'E_FLAKY';
    throw err;
  }
  return `ok on attempt ${attempt}`;
}

// pool.run, counting calls and passing the attempt number as the first
// argument. `signal` is recorded, not passed: pool.run does not take it.
function counting(pool) {
  const c = {
    calls: 0,
    options: [],
    run(fn, options) {
      c.calls++;
      c.options.push(options);
      const { signal, ...rest } = options;
      return pool.run(fn, { ...rest, args: [c.calls, ...(rest.args || [])] });
    },
  };
  return c;
}

describe('retry on a real pool', { skip, timeout: 60000 }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('a task failing on its first two attempts succeeds on the third', async () => {
    const c = counting(pool);
    const result = await retry(c.run, flaky, { args: [2], delay: 1 });
    assert.equal(result, 'ok on attempt 3');
    assert.equal(c.calls, 3);
  });

  test('a first success makes one attempt', async () => {
    const c = counting(pool);
    assert.equal(await retry(c.run, flaky, { args: [0] }), 'ok on attempt 1');
    assert.equal(c.calls, 1);
  });

  test('all attempts failing: AggregateError with every error in order', async () => {
    const c = counting(pool);
    const err = await retry(c.run, flaky, { args: [99], attempts: 4, delay: 1, backoff: 1 }).then(
      () => assert.fail('should reject'), (e) => e);
    assert.ok(err instanceof AggregateError);
    assert.equal(err.code, 'ERR_TASK_RETRIES_EXHAUSTED');
    assert.equal(err.attempts, 4);
    assert.equal(c.calls, 4);
    assert.deepEqual(err.errors.map((e) => e.message), [1, 2, 3, 4].map((n) => `attempt ${n} failed`));
    assert.equal(err.cause, err.errors[3]);
    assert.equal(new Set(err.errors.map((e) => e.taskId)).size, 4, 'four separate tasks');
    assert.match(err.message, /All 4 attempts failed; last error: attempt 4 failed/);
  });

  test('retryIf stops early; it is asked with each failed attempt but the last', async () => {
    const c = counting(pool);
    const asked = [];
    const err = await retry(c.run, flaky, {
      args: [99],
      attempts: 5,
      delay: 1,
      retryIf: (e, attempt) => {
        asked.push([e.code, attempt]);
        return e.code !== 'E_FATAL';
      },
    }).then(() => assert.fail('should reject'), (e) => e);
    assert.deepEqual(asked, [['E_FLAKY', 1], ['E_FATAL', 2]]);
    assert.equal(c.calls, 2);
    assert.equal(err.code, 'ERR_TASK_RETRIES_EXHAUSTED');
    assert.equal(err.attempts, 2);
    assert.equal(err.errors.length, 2);
    assert.match(err.message, /2 of 5 attempts failed \(retryIf declined to retry\); last error: attempt 2 failed/);

    const all = [];
    await retry(c.run, flaky, { args: [99], attempts: 3, delay: 1, retryIf: (e, n) => all.push(n) > 0 }).catch(() => {});
    assert.deepEqual(all, [1, 2], 'not asked after the last attempt');
  });

  test('a retryIf that throws rejects with its exception', async () => {
    const c = counting(pool);
    const boom = new Error('retryIf broke');
    await assert.rejects(retry(c.run, flaky, { args: [99], delay: 1, retryIf: () => { throw boom; } }), (e) => e === boom);
    assert.equal(c.calls, 1);
  });

  test('priority, timeout and args reach every attempt; absent options are not passed', async () => {
    const seen = [];
    const fake = (fn, options) => {
      seen.push(options);
      return Promise.reject(new Error('no'));
    };
    await retry(fake, flaky, { args: [1], priority: 'high', timeout: 500, attempts: 2, delay: 0 }).catch(() => {});
    assert.deepEqual(seen, [{ args: [1], priority: 'high', timeout: 500 }, { args: [1], priority: 'high', timeout: 500 }]);
    assert.notEqual(seen[0], seen[1], 'a fresh options object per attempt');
    seen.length = 0;
    await retry(fake, flaky, { attempts: 1 }).catch(() => {});
    assert.deepEqual(seen, [{}]);
  });

  test('waits grow with backoff (lower bounds only)', async () => {
    const times = [];
    const fake = () => {
      times.push(performance.now());
      return Promise.reject(new Error('no'));
    };
    await retry(fake, flaky, { attempts: 3, delay: 30, backoff: 2 }).catch(() => {});
    assert.equal(times.length, 3);
    // Margins for the event loop's cached clock; 55 is only reached with backoff.
    assert.ok(times[1] - times[0] >= 25, `first wait ${times[1] - times[0]} ms`);
    assert.ok(times[2] - times[1] >= 55, `second wait ${times[2] - times[1]} ms`);
  });

  test('delayAfter: delay * backoff^(n-1), capped by maxDelay', () => {
    assert.deepEqual([1, 2, 3, 4].map((n) => delayAfter(n, { delay: 100, backoff: 2, maxDelay: 30000 })), [100, 200, 400, 800]);
    assert.deepEqual([1, 2, 3].map((n) => delayAfter(n, { delay: 10, backoff: 100, maxDelay: 30 })), [10, 30, 30]);
    assert.deepEqual([1, 5].map((n) => delayAfter(n, { delay: 7, backoff: 1, maxDelay: 30000 })), [7, 7]);
    assert.equal(delayAfter(3), 400, 'defaults: 100 ms, backoff 2');
    assert.equal(delayAfter(2000, { delay: 1, backoff: 10, maxDelay: Infinity }), Infinity);
  });

  test('the default retryIf: task errors retry, errors raised before the task ran do not', async () => {
    assert.equal(defaultRetryIf(new Error('x')), true);
    assert.equal(defaultRetryIf('a string'), true);
    const taskTypeError = Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE', taskId: 4 });
    assert.equal(defaultRetryIf(taskTypeError), true, 'thrown by a task (it has a taskId)');
    // The pool rejects a bad priority before any task runs: one attempt.
    const c = counting(pool);
    const err = await retry(c.run, flaky, { args: [0], priority: 'urgent', delay: 1 }).then(() => assert.fail('should reject'), (e) => e);
    assert.equal(c.calls, 1);
    assert.equal(err.attempts, 1);
    assert.equal(err.cause.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /1 of 3 attempts failed/);
    // A shut down pool rejects every run: one attempt.
    const closed = new Tasklets({ workers: 1 });
    await closed.shutdown();
    const shut = await retry((fn, o) => closed.run(fn, o), flaky, { args: [1, 0] }).then(() => assert.fail('should reject'), (e) => e);
    assert.equal(shut.attempts, 1);
    assert.equal(shut.cause.code, 'ERR_POOL_SHUTDOWN');
  });

  test('aborting between attempts stops the retries with ABORT_ERR', async () => {
    const c = counting(pool);
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const promise = retry((fn, options) => {
      const p = c.run(fn, options);
      p.catch(() => setImmediate(() => controller.abort(reason)));  // abort during the wait that follows
      return p;
    }, flaky, { args: [99], attempts: 3, delay: 10000, signal: controller.signal });
    const err = await promise.then(() => assert.fail('should reject'), (e) => e);
    assert.equal(err.name, 'AbortError');
    assert.equal(err.code, 'ABORT_ERR');
    assert.equal(err.cause, reason);
    assert.equal(c.calls, 1);
    assert.equal(c.options[0].signal, controller.signal, 'the signal is passed to run');
  });

  test('aborting during an attempt rejects at once; an aborted signal runs nothing', async () => {
    let calls = 0;
    const never = () => {
      calls++;
      return new Promise(() => {});
    };
    const controller = new AbortController();
    const promise = retry(never, flaky, { signal: controller.signal });
    controller.abort();
    const err = await promise.then(() => assert.fail('should reject'), (e) => e);
    assert.equal(err.code, 'ABORT_ERR');
    assert.equal(err.cause, controller.signal.reason);
    assert.equal(calls, 1);

    await assert.rejects(retry(never, flaky, { signal: AbortSignal.abort() }), { code: 'ABORT_ERR' });
    assert.equal(calls, 1, 'nothing ran');
  });
});

describe('retry validation', () => {
  const run = () => Promise.resolve(1);

  test('bad options reject (never throw) with ERR_INVALID_ARG_VALUE naming the option', async () => {
    const cases = [
      [{ attempts: 0 }, RangeError, /"options\.attempts"/],
      [{ attempts: 1.5 }, RangeError, /"options\.attempts"/],
      [{ attempts: Infinity }, RangeError, /"options\.attempts"/],
      [{ attempts: '3' }, TypeError, /"options\.attempts"/],
      [{ delay: -1 }, RangeError, /"options\.delay"/],
      [{ delay: NaN }, RangeError, /"options\.delay"/],
      [{ backoff: 0.5 }, RangeError, /"options\.backoff"/],
      [{ maxDelay: -5 }, RangeError, /"options\.maxDelay"/],
      [{ maxDelay: null }, TypeError, /"options\.maxDelay"/],
      [{ retryIf: true }, TypeError, /"options\.retryIf"/],
      [{ args: 'x' }, TypeError, /"options\.args"/],
      [{ signal: {} }, TypeError, /"options\.signal"/],
      [{ retries: 3 }, TypeError, /"options\.retries"/],
    ];
    for (const [options, Class, pattern] of cases) {
      let promise;
      assert.doesNotThrow(() => { promise = retry(run, () => 1, options); });
      await assert.rejects(promise, (err) => {
        assert.equal(err.constructor, Class, `${JSON.stringify(options)}: ${err.message}`);
        assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(err.message, pattern);
        return true;
      });
    }
  });

  test('a run that is not a function, or options that are not an object: ERR_INVALID_ARG_TYPE', async () => {
    await assert.rejects(retry(null, () => 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"run"/ });
    await assert.rejects(retry(run, () => 1, 5), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"options"/ });
  });

  test('valid edge values are accepted', async () => {
    assert.equal(await retry(run, () => 1, { attempts: 1, delay: 0, backoff: 1, maxDelay: Infinity }), 1);
    assert.equal(await retry(run, () => 1, null), 1);
  });

  test('a run that throws synchronously counts as a failed attempt', async () => {
    let calls = 0;
    const err = await retry(() => { calls++; throw new Error(`sync ${calls}`); }, () => 1, { attempts: 2, delay: 0 })
      .then(() => assert.fail('should reject'), (e) => e);
    assert.equal(calls, 2);
    assert.deepEqual(err.errors.map((e) => e.message), ['sync 1', 'sync 2']);
  });
});
