'use strict';
// run(fn, { args, transfer }): listed ArrayBuffers move to the executor
// without a copy; the sender's buffers are detached when run returns.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const codec = require('../../js/codec');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

describe('transfer (no addon needed)', () => {
  test('a transferred buffer is referenced, not copied, in the payload', () => {
    const ab = new ArrayBuffer(32 * 1024 * 1024);
    const bytes = codec.serializeTransfer([new Uint8Array(ab), 'tag'], [ab], 'options');
    assert.ok(bytes.length < 256, `payload of ${bytes.length} bytes for a 32 MB buffer`);
  });

  test('the transfer list is validated', () => {
    assert.throws(() => codec.serializeTransfer([], 'nope', 'options'), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
    assert.throws(() => codec.serializeTransfer([], [new Uint8Array(4)], 'options'),
                  { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError', message: /options\.transfer\[0\]/ });
    assert.throws(() => codec.serializeTransfer([], [new SharedArrayBuffer(4)], 'options'), { code: 'ERR_INVALID_ARG_VALUE' });
    const ab = new ArrayBuffer(4);
    assert.throws(() => codec.serializeTransfer([], [ab, ab], 'options'), { code: 'ERR_INVALID_ARG_VALUE', name: 'RangeError' });
  });
});

describe('transfer', { skip }, () => {
  let pool;
  before(() => { pool = new Tasklets({ workers: 2 }); });
  after(() => pool.shutdown());

  test('the bytes arrive, views over the buffer arrive as views, and the sender loses the buffer at once', async () => {
    const ab = new ArrayBuffer(16 * 1024 * 1024);
    const view = new Uint8Array(ab);
    view[0] = 7;
    view[view.length - 1] = 9;
    const floats = new Float64Array(ab, 8, 2);
    floats[0] = 1.5;
    const pending = pool.run((u, f) => [u[0], u[u.length - 1], u.byteLength, f[0], f.buffer === u.buffer, u.constructor.name],
                             { args: [view, floats], transfer: [ab] });
    assert.equal(ab.byteLength, 0, 'detached when run returns');
    assert.equal(view.byteLength, 0);
    assert.deepEqual(await pending, [7, 9, 16 * 1024 * 1024, 1.5, true, 'Uint8Array']);
  });

  test('a bad transfer list rejects and leaves the buffers usable', async () => {
    const ab = new ArrayBuffer(8);
    await assert.rejects(pool.run((x) => x, { args: [1], transfer: [ab, ab] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(ab.byteLength, 8);
    await assert.rejects(pool.run((x) => x, { args: [1], transfer: [new Uint8Array(2)] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('many transfers in flight each land once', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const ab = new ArrayBuffer(1024);
      new Uint32Array(ab)[0] = i;
      return pool.run((u) => u[0], { args: [new Uint32Array(ab)], transfer: [ab] });
    }));
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i));
  });
});
