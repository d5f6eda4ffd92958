'use strict';
// Function sources (js/functions.js): which functions can be sent, and the
// per-pool registry that sends each one once. No addon needed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { toExpression, compile, mapChunkExpression, FunctionRegistry } = require('../../js/functions');

function roundTrip(fn) {
  return compile(toExpression(fn));
}

test('arrow, function, async, generator and method sources compile to equivalent functions', async () => {
  assert.equal(roundTrip((a, b) => a + b)(2, 3), 5);
  assert.equal(roundTrip(function add(a, b) { return a + b; })(2, 3), 5);
  assert.equal(await roundTrip(async (x) => x * 2)(21), 42);
  assert.deepEqual([...roundTrip(function* g() { yield 1; yield 2; })()], [1, 2]);
  const object = { triple(x) { return x * 3; }, async later(x) { return x; }, *gen() { yield 7; } };
  assert.equal(roundTrip(object.triple)(2), 6);
  assert.equal(await roundTrip(object.later)(9), 9);
  assert.deepEqual([...roundTrip(object.gen)()], [7]);
  class Tools { static square(x) { return x * x; } }
  assert.equal(roundTrip(Tools.square)(4), 16);
  // A trailing line comment must not swallow the closing parenthesis.
  // eslint-disable-next-line
  const commented = (x) => x // trailing comment
  ;
  assert.equal(roundTrip(commented)(1), 1);
});

test('classes, bound and native functions are rejected', () => {
  const check = (fn, pattern) => assert.throws(() => toExpression(fn), (err) => {
    assert.equal(err.name, 'TypeError');
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, pattern);
    return true;
  });
  check(class A {}, /^The "fn" argument must be a function, not a class\./);
  check(((x) => x).bind(null), /bound and native functions have no source to send/);
  check(Math.max, /bound and native functions/);
});

test('map chunks apply the function per item with its global index, awaiting promises', async () => {
  const chunk = compile(mapChunkExpression(toExpression((x, i) => x * 10 + i)));
  assert.deepEqual(chunk([1, 2], 5), [15, 26]);
  const asyncChunk = compile(mapChunkExpression(toExpression(async (x) => x + 1)));
  assert.deepEqual(await asyncChunk([1, 2], 0), [2, 3]);
});

test('the registry registers each function and each source once', () => {
  const sent = [];
  const registry = new FunctionRegistry((source) => { sent.push(source); return sent.length; });
  const f = (x) => x;
  const g = (x) => x;   // same source as f
  const h = (x) => x + 1;
  assert.equal(registry.idOf(f), 1);
  assert.equal(registry.idOf(f), 1);
  assert.equal(registry.idOf(g), 1);
  assert.equal(registry.idOf(h), 2);
  assert.equal(registry.idOfMap(f), 3);
  assert.equal(registry.idOfMap(g), 3);
  assert.equal(sent.length, 3);
});
