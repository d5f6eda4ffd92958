'use strict';
// A task's error across threads (js/task-errors.js): executor-side encoding
// and main-side rebuilding, without threads.

const test = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const taskErrors = require('../../js/task-errors');

// What the main thread sees for `thrown` (as if it crossed the addon).
function crossed(thrown) {
  return taskErrors.rebuild(v8.deserialize(taskErrors.encode(thrown)), 7, 1, 2.5);
}

test('standard classes keep their class, message, code, stack and cause', () => {
  for (const Ctor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    const original = new Ctor('boom', { cause: new RangeError('inner') });
    original.code = 'E_CODE';
    const err = crossed(original);
    assert.equal(err.constructor, Ctor);
    assert.ok(err instanceof Ctor);
    assert.equal(err.name, Ctor.name);
    assert.equal(err.message, 'boom');
    assert.equal(err.code, 'E_CODE');
    assert.equal(err.stack, original.stack);
    assert.equal(err.cause.constructor, RangeError);
    assert.equal(err.cause.message, 'inner');
    assert.equal(err.taskId, 7);
    assert.equal(err.workerThread, 1);
    assert.equal(err.duration, 2.5);
  }
});

test('AggregateError keeps its errors', () => {
  const err = crossed(new AggregateError([new TypeError('a'), 'b'], 'many'));
  assert.ok(err instanceof AggregateError);
  assert.equal(err.message, 'many');
  assert.equal(err.errors[0].constructor, TypeError);
  assert.equal(err.errors[0].message, 'a');
  assert.equal(err.errors[1], 'b');
});

test('a custom subclass becomes an Error with its name and own properties', () => {
  class ValidationError extends Error {
    constructor(message) {
      super(message);
      this.name = 'ValidationError';
      this.field = 'email';
      this.check = () => {};   // not cloneable: dropped
    }
  }
  const err = crossed(new ValidationError('bad email'));
  assert.equal(err.constructor, Error);
  assert.equal(err.name, 'ValidationError');
  assert.equal(err.message, 'bad email');
  assert.equal(err.field, 'email');
  assert.equal(err.check, undefined);
  assert.match(err.stack, /^ValidationError: bad email\n/);
});

test('a non-Error cause and a deep cause chain', () => {
  const err = crossed(new Error('top', { cause: { reason: 'disk', at: 3 } }));
  assert.deepEqual(err.cause, { reason: 'disk', at: 3 });
  const chain = crossed(new Error('a', { cause: new Error('b', { cause: new Error('c') }) }));
  assert.equal(chain.cause.cause.message, 'c');
  const loop = new Error('loop');
  loop.cause = loop;
  assert.equal(crossed(loop).cause.cause.message, 'loop');
});

test('a thrown non-Error says what was thrown and carries it', () => {
  const s = crossed('oops');
  assert.ok(s instanceof Error);
  assert.equal(s.message, "The task threw a non-Error value: 'oops'");
  assert.equal(s.value, 'oops');
  const o = crossed({ status: 404 });
  assert.equal(o.message, 'The task threw a non-Error value: { status: 404 }');
  assert.deepEqual(o.value, { status: 404 });
  const f = crossed(() => 1);
  assert.match(f.message, /non-Error value: \[Function/);
  assert.equal(f.value, undefined);
  assert.match(crossed(undefined).message, /non-Error value: undefined$/);
});

test('a ReferenceError for a missing variable says why', () => {
  let thrown;
  try {
    // eslint-disable-next-line no-undef
    callerOnly + 1;
  } catch (e) {
    thrown = e;
  }
  const err = crossed(thrown);
  assert.equal(err.constructor, ReferenceError);
  assert.equal(err.message, `callerOnly is not defined${taskErrors.CLOSURE_HINT}`);
  assert.match(err.stack, /^ReferenceError: callerOnly is not defined \(tasks run in a separate thread/);
});

test('encode never throws, whatever is thrown', () => {
  const hostile = new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
  assert.ok(Buffer.isBuffer(taskErrors.encode(hostile)));
  const e = new Error('x');
  Object.defineProperty(e, 'message', { get() { throw new Error('no'); } });
  assert.ok(Buffer.isBuffer(taskErrors.encode(e)));
});
