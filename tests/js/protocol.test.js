'use strict';
// The two sides of the protocol agree: the numbers the addon exports
// (addon/protocol.h, as `addon.protocol`) are js/protocol.js's, name for
// name; the argument kind js/ keeps to itself never reaches the addon.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath, load } = require('../../js/addon');
const protocol = require('../../js/protocol');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

function withoutKey(table, key) {
  const { [key]: _, ...rest } = table;
  return rest;
}

describe('protocol', { skip, timeout: 30000 }, () => {
  const native = skip ? null : load().protocol;

  test('argument kinds: the addon knows every one but PRIMITIVES, which js/ packs first', () => {
    assert.deepEqual(native.argKinds, withoutKey(protocol.ArgKind, 'PRIMITIVES'));
  });

  test('result kinds, tags, runBatch and cancel results are the same numbers under the same names', () => {
    assert.deepEqual(native.resultKinds, { ...protocol.ResultKind });
    assert.deepEqual(native.tags, { ...protocol.Tag });
    assert.deepEqual(native.runBatch, { ...protocol.RunBatch });
    assert.deepEqual(native.cancel, { ...protocol.Cancel });
  });

  test('every kind is a distinct byte within its table', () => {
    for (const table of [protocol.ArgKind, protocol.ResultKind, protocol.Tag, protocol.RunBatch, protocol.Cancel]) {
      const values = Object.values(table);
      assert.equal(new Set(values).size, values.length);
      for (const v of values) assert.ok(Number.isInteger(v) && v >= 0 && v < 256);
    }
  });

  test('the abort ring layout: counts, then the invoking cell, then the ids, without overlap', () => {
    const { COUNTS, INVOKING, IDS, SLOTS, BYTES } = protocol.AbortRing;
    assert.ok(INVOKING >= COUNTS + 2 * Int32Array.BYTES_PER_ELEMENT && INVOKING % Float64Array.BYTES_PER_ELEMENT === 0);
    assert.ok(IDS >= INVOKING + 2 * Float64Array.BYTES_PER_ELEMENT && IDS % Float64Array.BYTES_PER_ELEMENT === 0);
    assert.equal(BYTES, IDS + SLOTS * Float64Array.BYTES_PER_ELEMENT);
  });

  test('submit refuses an argument kind js/ did not pack, and nothing of the batch runs', async () => {
    const addon = load();
    let completions = 0;
    // No executor: each slot the runtime asks for is reported as failed.
    const poolId = addon.createPool({ min: 1, max: 1, scaling: 'fixed' }, (slot) => addon.slotFailed(poolId, slot),
      (count) => { completions += count; });
    try {
      const fnId = addon.registerFunction(poolId, '() => 1');
      const call = (kind) => addon.submit(poolId, {
        count: 1, ids: new Float64Array([1]), fnIds: new Uint32Array([fnId]), argKinds: new Uint8Array([kind]),
        args: [[1]], priorities: new Uint8Array([1]),
      });
      assert.throws(() => call(protocol.ArgKind.PRIMITIVES), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => call(0), { code: 'ERR_INVALID_ARG_VALUE' });
      // The submission is one object read by name: a missing column is named.
      assert.throws(() => addon.submit(poolId, { count: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /field ids/ });
      assert.throws(() => addon.submit(poolId, 1), { code: 'ERR_INVALID_ARG_TYPE', message: /submission must be an object/ });
    } finally {
      await addon.shutdown(poolId, 'cancel', 5000);
    }
    assert.equal(completions, 0);
  });

  test('a shut-down pool refuses in js/ words, whichever side saw it first', async () => {
    const pool = new Tasklets({ workers: 1 });
    await pool.shutdown();
    const fromJs = await pool.run(() => 1).catch((err) => err);
    assert.equal(fromJs.code, 'ERR_POOL_SHUTDOWN');

    const addon = load();
    const poolId = addon.createPool({ min: 1, max: 1, scaling: 'fixed' }, (slot) => addon.slotFailed(poolId, slot), () => {});
    const fnId = addon.registerFunction(poolId, '() => 1');
    await addon.shutdown(poolId, 'cancel', 5000);
    let fromAddon = null;
    try {
      addon.submit(poolId, {
        count: 1, ids: new Float64Array([1]), fnIds: new Uint32Array([fnId]), argKinds: new Uint8Array([protocol.ArgKind.PACKED]),
        args: [undefined], priorities: new Uint8Array([1]), packed: new Uint8Array([0, 0, 0, 0]), offsets: new Uint32Array([0, 4]),
      });
    } catch (err) {
      fromAddon = err;
    }
    assert.ok(fromAddon instanceof Error, 'the addon refused');
    assert.equal(fromAddon.code, 'ERR_POOL_SHUTDOWN');
    assert.equal(fromAddon.message, fromJs.message);
  });
});
