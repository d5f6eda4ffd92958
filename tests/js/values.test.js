'use strict';
// Values through real executors: every structured-clone value round-trips
// exactly, as argument and as result; the primitive fast path is taken
// exactly when it should be; values that cannot be cloned are named.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath, load } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { ArgKind } = require('../../js/protocol');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

const echo = (v) => v;

function sparse() {
  const a = [1, , 3];  // eslint-disable-line no-sparse-arrays
  a[10] = 'x';
  return a;
}

function typedArrays() {
  return [
    new Int8Array([-1, 2]), new Uint8Array([1, 255]), new Uint8ClampedArray([0, 255]), new Int16Array([-300, 7]),
    new Uint16Array([65535]), new Int32Array([-(2 ** 31), 5]), new Uint32Array([2 ** 32 - 1]),
    new Float32Array([1.5, NaN]), new Float64Array([Math.PI, -0]), new BigInt64Array([-(2n ** 63n)]),
    new BigUint64Array([2n ** 64n - 1n]),
  ];
}

// [label, value]: primitives first (fast path), then structured clone.
const PRIMITIVES = [
  ['0', 0], ['-0', -0], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['int32 max', 2 ** 31 - 1],
  ['int32 min', -(2 ** 31)], ['2**31', 2 ** 31], ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER], ['1.5', 1.5],
  ['MIN_VALUE', Number.MIN_VALUE], ['empty string', ''], ['non-BMP string', 'a\u{1F600}b\u{10FFFF}'],
  ['lone surrogates', '\uD800x\uDFFF'], ['NUL in string', 'a\0b'], ['true', true], ['false', false], ['null', null],
  ['undefined', undefined], ['0n', 0n], ['big BigInt', 2n ** 200n + 1n], ['negative BigInt', -(2n ** 70n)],
];
const CLONED = [
  ['plain object', { a: 1, b: 'two', c: [3], d: { e: null, f: undefined } }],
  ['nested', { list: [{ deep: [[{ x: -0 }]] }], map: new Map([[{ k: 1 }, new Set([1, 'a'])]]) }],
  ['array', [1, 'a', null, undefined, -0, NaN]],
  ['sparse array', sparse()],
  ['Date', new Date(1700000000123)],
  ['invalid Date', new Date(NaN)],
  ['RegExp', /a+b?/giu],
  ['Map', new Map([['a', 1], [2, { b: 2 }]])],
  ['Set', new Set([1, 'x', 3n])],
  ['Error', new RangeError('value error')],
  ['ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
  ...typedArrays().map((t) => [t.constructor.name, t]),
  ['DataView', new DataView(new Uint8Array([9, 8, 7]).buffer)],
  ['Buffer', Buffer.from('héllo')],
  ['boxed values', [Object(1), Object('s'), Object(false), Object(5n)]],
  ['cycle', (() => { const o = { name: 'o' }; o.self = o; return o; })()],
];

function sameValue(actual, expected, label) {
  if (expected instanceof Date && Number.isNaN(expected.getTime())) {
    assert.ok(actual instanceof Date && Number.isNaN(actual.getTime()), label);
    return;
  }
  if (expected instanceof Error) {
    assert.equal(actual.constructor, expected.constructor, label);
    assert.equal(actual.message, expected.message, label);
    return;
  }
  if (expected !== null && typeof expected === 'object' && expected.self === expected) {
    assert.equal(actual.self, actual, label);
    return;
  }
  assert.deepStrictEqual(actual, expected, label);
  if (expected !== null && typeof expected === 'object') {
    assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${label}: prototype`);
  }
}

describe('values', { skip }, () => {
  let pool;
  let submitted;   // argKinds of every submit and submitOne call, spied on the addon
  before(() => {
    const addon = load();
    const { submit, submitOne } = addon;
    submitted = [];
    addon.submit = function spy(poolId, columns) {
      submitted.push(...columns.argKinds.subarray(0, columns.count));
      return submit.call(this, poolId, columns);
    };
    addon.submitOne = function spyOne(...args) {
      submitted.push(ArgKind.PACKED);  // submitOne carries packed arguments only
      return submitOne.apply(this, args);
    };
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  for (const [label, value] of [...PRIMITIVES, ...CLONED]) {
    test(`round trip: ${label}`, async () => {
      sameValue(await pool.run(echo, { args: [value] }), value, `${label} as argument and result`);
      sameValue(await pool.run((v) => v, { args: [[value, value]] }).then((r) => r[1]), value, `${label} nested`);
    });
  }

  test('-0 is kept by the primitive codec both ways', async () => {
    assert.equal(await pool.run((x) => Object.is(x, -0), { args: [-0] }), true);
    assert.ok(Object.is(await pool.run(() => -0), -0));
    assert.ok(Object.is(await pool.run(() => 0), 0));
  });

  test('the fast path carries primitives (packed into one buffer per batch), everything else is serialized', async () => {
    submitted.length = 0;
    assert.equal(await pool.run((a, b, c) => [a, b, c].join(), { args: [1, 'x', 2n] }), '1,x,2');
    assert.equal(await pool.run(() => 1), 1);
    assert.equal(await pool.run((o) => o.a, { args: [{ a: 1 }] }), 1);
    assert.equal(await pool.run((a, d) => d.getTime(), { args: [1, new Date(0)] }), 0);
    // 3: primitive arguments packed by js/pack.js; 2: structured clone.
    assert.deepEqual(submitted, [3, 3, 2, 2]);
  });

  test('a Buffer comes back as a Buffer, a Uint8Array as a Uint8Array, each with its own ArrayBuffer', async () => {
    const buf = await pool.run(() => Buffer.from('abc'));
    assert.ok(Buffer.isBuffer(buf));
    assert.equal(buf.toString(), 'abc');
    const u8 = await pool.run(() => new Uint8Array([1, 2]));
    assert.equal(u8.constructor, Uint8Array);
    assert.equal(u8.byteOffset, 0);
    assert.equal(u8.buffer.byteLength, 2);
    const [f64] = await pool.run(() => [new Float64Array([1.25])]);
    assert.equal(new Float64Array(f64.buffer)[0], 1.25);
  });

  test('an object with a null prototype arrives as a plain object (structured clone keeps no prototype)', async () => {
    const r = await pool.run((o) => [o, Object.getPrototypeOf(o) === Object.prototype], { args: [Object.assign(Object.create(null), { a: 1 })] });
    assert.deepEqual(r, [{ a: 1 }, true]);
  });

  test('a class instance without methods arrives as a plain object', async () => {
    class Point {
      constructor(x, y) { this.x = x; this.y = y; }
    }
    const r = await pool.run((p) => ({ proto: Object.getPrototypeOf(p) === Object.prototype, x: p.x }), { args: [new Point(1, 2)] });
    assert.deepEqual(r, { proto: true, x: 1 });
  });

  test('arguments that cannot be cloned reject with ERR_TASK_ARG_NOT_CLONEABLE naming them', async () => {
    class Account { deposit() {} }
    const cases = [
      [[1, () => 2], /^args\[1\] could not be cloned: functions cannot be sent between threads/],
      [[Symbol('s')], /^args\[0\] could not be cloned: symbols/],
      [[{ nested: { fn() {} } }], /^args\[0\]\.nested\.fn could not be cloned/],
      [[new Account()], /^args\[0\] could not be cloned: an instance of Account would lose its methods \(deposit\)/],
    ];
    for (const [args, message] of cases) {
      submitted.length = 0;
      await assert.rejects(pool.run(echo, { args }), { name: 'TypeError', code: 'ERR_TASK_ARG_NOT_CLONEABLE', message });
      await null;
      assert.deepEqual(submitted, [], 'nothing was submitted');
    }
  });

  test('results that cannot be cloned reject with ERR_TASK_RESULT_NOT_CLONEABLE', async () => {
    await assert.rejects(pool.run(() => () => 1), {
      name: 'TypeError', code: 'ERR_TASK_RESULT_NOT_CLONEABLE', message: /^The task's result could not be cloned: functions/,
    });
    await assert.rejects(pool.run(() => ({ id: Symbol('id') })), { code: 'ERR_TASK_RESULT_NOT_CLONEABLE', message: /result\.id/ });
    await assert.rejects(pool.run(() => new (class Cart { total() {} })()), {
      code: 'ERR_TASK_RESULT_NOT_CLONEABLE', message: /an instance of Cart would lose its methods \(total\)/,
    });
    await assert.rejects(pool.run(async () => Promise.resolve(new WeakMap())), {
      code: 'ERR_TASK_RESULT_NOT_CLONEABLE', message: /WeakMap objects cannot be cloned/,
    });
  });

  test('100 MB each way', { timeout: 20000 }, async () => {
    const size = 100 * 1024 * 1024;
    const input = Buffer.alloc(size, 7);
    input[size - 1] = 9;
    const sum = await pool.run((b) => b.length + b[0] + b[b.length - 1], { args: [input] });
    assert.equal(sum, size + 16);
    const output = await pool.run((n) => { const u = new Uint8Array(n); u[n - 1] = 5; return u; }, { args: [size] });
    assert.equal(output.length, size);
    assert.equal(output[size - 1], 5);
    assert.equal(output.buffer.byteLength, size);
    const text = await pool.run((n) => 'x'.repeat(n), { args: [size / 4] });
    assert.equal(text.length, size / 4);
  });
});
