'use strict';
// The value codec's JS half (js/codec.js): fast-path detection and the
// cloning rule. No addon needed.

const test = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const codec = require('../../js/codec');

test('primitive fast path: undefined, null, booleans, numbers, strings, BigInt only', () => {
  assert.ok(codec.allPrimitive([]));
  assert.ok(codec.allPrimitive([undefined, null, true, false, 0, -0, NaN, Infinity, '', 'x\u{1F600}', 10n ** 30n]));
  for (const v of [{}, [], new Date(), Symbol('s'), () => 1, new Uint8Array(1), Object(1)]) {
    assert.ok(!codec.allPrimitive([1, v]), `not primitive: ${String(v && v.constructor && v.constructor.name)}`);
  }
});

test('serializeArgs gives the bytes of v8.serialize; deserialize gives views their own buffers', () => {
  const bytes = codec.serializeArgs([{ a: 1 }, 2], 'args');
  assert.deepEqual(v8.deserialize(bytes), [{ a: 1 }, 2]);
  const [u8, dv] = codec.deserialize(codec.serializeArgs([new Uint8Array(new ArrayBuffer(16), 4, 4).fill(3), new DataView(new ArrayBuffer(2))], 'args'));
  assert.deepEqual([u8.byteOffset, u8.byteLength, u8.buffer.byteLength, u8[0]], [0, 4, 4, 3]);
  assert.deepEqual([dv.byteOffset, dv.byteLength, dv.buffer.byteLength], [0, 2, 2]);
});

function notCloneable(args, pattern) {
  assert.throws(() => codec.serializeArgs(args, 'args'), (err) => {
    assert.equal(err.name, 'TypeError');
    assert.equal(err.code, 'ERR_TASK_ARG_NOT_CLONEABLE');
    assert.match(err.message, pattern);
    return true;
  });
}

test('arguments that cannot be cloned are named', () => {
  notCloneable([1, function handler() {}], /^args\[1\] could not be cloned: functions cannot be sent between threads \(handler\)$/);
  notCloneable([Symbol('s')], /^args\[0\] could not be cloned: symbols cannot be sent between threads \(Symbol\(s\)\)$/);
  notCloneable([{ user: { save: () => 1 } }], /^args\[0\]\.user\.save could not be cloned: functions/);
  notCloneable([[1, [2, () => 3]]], /^args\[0\]\[1\]\[1\] could not be cloned/);
  notCloneable([new Map([['k', Symbol('v')]])], /^args\[0\]\.get\("k"\) could not be cloned: symbols/);
  notCloneable([new Set([() => 1])], /^args\[0\]<item> could not be cloned/);
  notCloneable([Promise.resolve(1)], /^args\[0\] could not be cloned: Promise objects cannot be cloned$/);
  notCloneable([new WeakMap()], /WeakMap objects cannot be cloned/);
  class Account {
    constructor() { this.balance = 1; }
    deposit() {}
    get total() { return 1; }
  }
  notCloneable([new Account()], /^args\[0\] could not be cloned: an instance of Account would lose its methods \(deposit, total\); pass a plain object$/);
});

test('what the cloning rule lets through', () => {
  class Point {
    constructor(x, y) { this.x = x; this.y = y; }
  }
  class MyError extends Error {}
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  const values = [
    new Point(1, 2), new MyError('x'), cyclic, Object.create(null), new Date(0), /x/g, new Map([[1, { a: 1 }]]),
    new Set([1]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2)), new Float64Array(2), Buffer.from('a'),
    Object(1), Object('s'), Object(1n), new Array(10), [1, , 3], // eslint-disable-line no-sparse-arrays
  ];
  for (const v of values) assert.equal(codec.checkCloneable(v, 'v'), null);
  const huge = [];
  huge[2 ** 32 - 2] = 1;   // a sparse array must not be walked index by index
  assert.equal(codec.checkCloneable([huge], 'v'), null);
  assert.equal(v8.deserialize(codec.serializeArgs([new Point(1, 2)], 'args'))[0].constructor, Object);
});

test('encodeResult: kinds 1, 2 and 3', () => {
  const out = new Int32Array(1);
  const encodeError = (err) => ({ encoded: err });
  assert.equal(codec.encodeResult(5, out, encodeError), 5);
  assert.equal(out[0], 1);
  const bytes = codec.encodeResult({ a: [1] }, out, encodeError);
  assert.equal(out[0], 2);
  assert.deepEqual(v8.deserialize(bytes), { a: [1] });
  const failed = codec.encodeResult({ f() {} }, out, encodeError);
  assert.equal(out[0], 3);
  assert.equal(failed.encoded.code, 'ERR_TASK_RESULT_NOT_CLONEABLE');
  assert.match(failed.encoded.message, /^The task's result\.f could not be cloned: functions/);
  codec.encodeResult(Symbol('r'), out, encodeError);
  assert.equal(out[0], 3);
});
