'use strict';
// Errors thrown by real tasks, rebuilt on the main thread: class, message,
// code, the executor's stack, cause, and where and how long the task ran.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

describe('task errors', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  const CLASSES = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError'];
  for (const name of CLASSES) {
    test(`${name} keeps class, message, code, cause, the executor's stack and where it ran`, async () => {
      const promise = pool.run((className) => {
        const err = new globalThis[className]('it broke', { cause: new TypeError('because') });
        err.code = 'E_BROKE';
        err.detail = { attempt: 2 };
        throw err;
      }, { args: [name] });
      const err = await promise.then(() => assert.fail('should reject'), (e) => e);
      assert.equal(err.constructor, globalThis[name]);
      assert.equal(err.name, name);
      assert.equal(err.message, 'it broke');
      assert.equal(err.code, 'E_BROKE');
      assert.deepEqual(err.detail, { attempt: 2 });
      assert.equal(err.cause.constructor, TypeError);
      assert.equal(err.cause.message, 'because');
      assert.match(err.stack, new RegExp(`^${name}: it broke\\n`));
      assert.match(err.stack, /functions\.js/, 'the stack is the executor\'s (the task was compiled by js/functions.js)');
      assert.doesNotMatch(err.stack, /task-errors-e2e\.test\.js/);
      assert.equal(err.taskId, promise.taskId);
      assert.ok(Number.isInteger(err.workerThread) && err.workerThread >= 0 && err.workerThread < 2, `workerThread ${err.workerThread}`);
      assert.equal(typeof err.duration, 'number');
      assert.ok(err.duration >= 0);
    });
  }

  test('AggregateError keeps its errors', async () => {
    const err = await pool.run(() => { throw new AggregateError([new RangeError('r'), new Error('e')], 'all failed'); })
      .catch((e) => e);
    assert.ok(err instanceof AggregateError);
    assert.deepEqual(err.errors.map((e) => [e.constructor.name, e.message]), [['RangeError', 'r'], ['Error', 'e']]);
  });

  test('a custom subclass rejects as an Error carrying its name', async () => {
    const err = await pool.run(() => {
      class PaymentError extends Error {
        constructor(message, amount) {
          super(message);
          this.name = 'PaymentError';
          this.amount = amount;
        }
      }
      throw new PaymentError('card declined', 12.5);
    }).catch((e) => e);
    assert.equal(err.constructor, Error);
    assert.equal(err.name, 'PaymentError');
    assert.equal(err.message, 'card declined');
    assert.equal(err.amount, 12.5);
    assert.match(err.stack, /^PaymentError: card declined/);
  });

  test('the time a failing task ran is its duration', async () => {
    const err = await pool.run(() => {
      const end = Date.now() + 50;
      while (Date.now() < end);
      throw new Error('late');
    }).catch((e) => e);
    assert.ok(err.duration >= 45 && err.duration < 1000, `duration ${err.duration}`);
  });

  test('thrown non-Errors reject with an Error that says what was thrown', async () => {
    const s = await pool.run(() => { throw 'plain string'; }).catch((e) => e);  // eslint-disable-line no-throw-literal
    assert.ok(s instanceof Error);
    assert.equal(s.message, "The task threw a non-Error value: 'plain string'");
    assert.equal(s.value, 'plain string');
    const o = await pool.run(() => { throw { status: 503, retry: true }; }).catch((e) => e);  // eslint-disable-line no-throw-literal
    assert.equal(o.message, 'The task threw a non-Error value: { status: 503, retry: true }');
    assert.deepEqual(o.value, { status: 503, retry: true });
    const n = await pool.run(() => { throw null; }).catch((e) => e);  // eslint-disable-line no-throw-literal
    assert.equal(n.message, 'The task threw a non-Error value: null');
    assert.equal(n.value, null);
    const f = await pool.run(() => { throw () => 1; }).catch((e) => e);
    assert.match(f.message, /non-Error value: \[Function/);
  });

  test('a rejected promise rejects like a throw', async () => {
    await assert.rejects(pool.run(async () => { throw new RangeError('async boom'); }), { name: 'RangeError', message: 'async boom' });
    await assert.rejects(pool.run(() => Promise.reject(new TypeError('rejected'))), { name: 'TypeError', message: 'rejected' });
    await assert.rejects(pool.run(() => new Promise((_, reject) => setTimeout(() => reject(new Error('later')), 10))),
      { message: 'later' });
  });

  test("reading a caller's variable fails with a ReferenceError that says why", async () => {
    const secret = 42;
    const err = await pool.run(() => secret * 2).catch((e) => e);
    assert.equal(err.constructor, ReferenceError);
    assert.equal(err.message,
      'secret is not defined (tasks run in a separate thread and cannot see variables of the caller; pass them in args)');
    assert.equal(await pool.run((s) => s * 2, { args: [secret] }), 84);
  });

  test('a failing task does not disturb the others', async () => {
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) =>
      pool.run((n) => { if (n % 5 === 0) throw new Error(`bad ${n}`); return n; }, { args: [i] })));
    results.forEach((r, i) => {
      if (i % 5 === 0) assert.equal(r.reason.message, `bad ${i}`);
      else assert.equal(r.value, i);
    });
  });
});
