'use strict';
// Settlement on the main thread (js/completions.js) and submit batching
// (js/submit-queue.js), driven by hand: no addon needed.

const test = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const { PendingTable, Single, Group } = require('../../js/completions');
const { SubmitQueue, MAX_BATCH } = require('../../js/submit-queue');
const { Packer } = require('../../js/pack');
const { ArgKind } = require('../../js/protocol');
const taskErrors = require('../../js/task-errors');

function deferred(make) {
  let entry;
  const promise = new Promise((resolve, reject) => { entry = make(resolve, reject); });
  return { entry, promise };
}

function completions(table, rows) {
  table.onCompletions(rows.length, Float64Array.from(rows.map((r) => r[0])), Uint8Array.from(rows.map((r) => r[1])),
    rows.map((r) => r[2]), Int32Array.from(rows.map(() => 0)), Float64Array.from(rows.map(() => 1)));
}

test('singles settle by kind; keep-alive follows the table', async () => {
  const keep = [];
  const table = new PendingTable((on) => keep.push(on));
  const a = deferred((res, rej) => new Single(res, rej));
  const b = deferred((res, rej) => new Single(res, rej));
  const c = deferred((res, rej) => new Single(res, rej));
  const d = deferred((res, rej) => new Single(res, rej));
  table.add(1, a.entry);
  table.add(2, b.entry);
  table.add(3, c.entry);
  table.add(4, d.entry);
  assert.deepEqual(keep, [true]);
  completions(table, [[1, 1, 5], [2, 2, v8.serialize(new Map([[1, 2]]))],
    [3, 3, taskErrors.encode(new TypeError('t'))], [4, 4, undefined], [99, 1, 0]]);
  assert.equal(await a.promise, 5);
  assert.deepEqual(await b.promise, new Map([[1, 2]]));
  await assert.rejects(c.promise, { name: 'TypeError', message: 't', taskId: 3 });
  await assert.rejects(d.promise, { code: 'ERR_POOL_SHUTDOWN', taskId: 4 });
  assert.equal(table.size, 0);
  assert.deepEqual(keep, [true, false]);
});

test('keep-alive stays on when the next task comes in the turn its predecessor settled in', async () => {
  const keep = [];
  let kept = false;  // as js/pool.js: only changes reach the addon
  const table = new PendingTable((on) => {
    if (on !== kept) keep.push(kept = on);
  });
  const a = deferred((res, rej) => new Single(res, rej));
  table.add(1, a.entry);
  // As a caller awaiting each task: its continuation is registered before the completion comes.
  const next = a.promise.then(() => {
    const b = deferred((res, rej) => new Single(res, rej));
    table.add(2, b.entry);
    return b;
  });
  completions(table, [[1, 1, 5]]);
  const b = await next;
  assert.deepEqual(keep, [true], 'no keepAlive(false) while a task was added in the same turn');
  completions(table, [[2, 1, 6]]);
  assert.equal(await b.promise, 6);
  await null;
  assert.deepEqual(keep, [true, false]);
});

test('a group resolves in order once all succeeded, and rejects on its first failure', async () => {
  const table = new PendingTable(() => {});
  const ok = deferred((res, rej) => new Group(10, 3, false, res, rej));
  table.addGroup(ok.entry);
  completions(table, [[12, 1, 'c'], [10, 1, 'a']]);
  completions(table, [[11, 1, 'b']]);
  assert.deepEqual(await ok.promise, ['a', 'b', 'c']);

  const flat = deferred((res, rej) => new Group(20, 2, true, res, rej));
  table.addGroup(flat.entry);
  completions(table, [[21, 2, v8.serialize([3])], [20, 2, v8.serialize([1, 2])]]);
  assert.deepEqual(await flat.promise, [1, 2, 3]);

  const bad = deferred((res, rej) => new Group(30, 3, false, res, rej));
  table.addGroup(bad.entry);
  completions(table, [[31, 3, taskErrors.encode(new RangeError('first'))], [30, 3, taskErrors.encode(new Error('second'))], [32, 1, 1]]);
  await assert.rejects(bad.promise, { name: 'RangeError', message: 'first', taskId: 31 });
  assert.equal(table.size, 0);
});

test('each id settles once; abandon rejects what will never complete', async () => {
  const keep = [];
  const table = new PendingTable((on) => keep.push(on));
  const a = deferred((res, rej) => new Single(res, rej));
  const g = deferred((res, rej) => new Group(2, 3, false, res, rej));
  table.add(1, a.entry);
  table.addGroup(g.entry);
  assert.equal(table.size, 4);
  completions(table, [[3, 1, 'x'], [3, 1, 'again']]);
  assert.equal(table.size, 3);
  table.abandonAll((id) => Object.assign(new Error('gone'), { taskId: id }));
  await assert.rejects(a.promise, { message: 'gone', taskId: 1 });
  await assert.rejects(g.promise, { message: 'gone', taskId: 2 });
  assert.equal(table.size, 0);
  assert.equal(table.groups.length, 0);
  assert.deepEqual(keep, [true, false]);
});

test('run() calls of one turn are submitted in one call; a full batch goes at once', async () => {
  const calls = [];
  const ones = [];
  const queue = new SubmitQueue(({ count, ids, argKinds: kinds, args, priorities: prios, packed, offsets }) => {
    calls.push({
      count,
      ids: Array.from(ids.subarray(0, count)),
      kinds: Array.from(kinds.subarray(0, count)),
      slices: Array.from({ length: count }, (_, i) => Array.from(packed.subarray(offsets[i], offsets[i + 1]))),
      args: args.slice(0, count),
      prio: prios[0],
    });
  }, () => assert.fail('no failure expected'), (id, fnId, priority, timeout, packed) => {
    ones.push({ id, fnId, priority, timeout, bytes: Array.from(packed) });
  });
  const packedOf = (list) => {
    const p = new Packer();
    p.list(list);
    return Array.from(p.bytes.subarray(0, p.size));
  };
  const first = [1, 'one'];
  const serialized = v8.serialize([{ a: 1 }]);
  queue.push(1, 1, 1, first, 1);
  queue.push(2, 1, 2, serialized, 0);
  queue.push(3, 1, 1, [3n, null], 0);
  first[0] = 99;  // after run() returned: the task must still get 1
  assert.equal(calls.length, 0);
  await null;
  assert.deepEqual(calls, [{
    count: 3,
    ids: [1, 2, 3],
    kinds: [ArgKind.PACKED, ArgKind.SERIALIZED, ArgKind.PACKED],
    slices: [packedOf([1, 'one']), [], packedOf([3n, null])],
    args: [undefined, serialized, undefined],
    prio: 1,
  }]);
  calls.length = 0;
  for (let i = 0; i < MAX_BATCH + 1; i++) queue.push(i, 1, 1, [], 1, Infinity);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].count, MAX_BATCH);
  await null;
  assert.equal(calls.length, 1, 'a flush of one packed task goes through submitOne');
  assert.deepEqual(ones, [{ id: MAX_BATCH, fnId: 1, priority: 1, timeout: 0, bytes: packedOf([]) }],
    'the packer starts empty again after a flush');
  ones.length = 0;
  queue.push(7, 2, 1, [5, 'x'], 0, 250);
  await null;
  assert.deepEqual(ones, [{ id: 7, fnId: 2, priority: 0, timeout: 250, bytes: packedOf([5, 'x']) }]);
  queue.push(8, 2, 2, serialized, 1);
  await null;
  assert.equal(calls.length, 2, 'one serialized task goes through submit');
  assert.deepEqual(calls[1].args, [serialized]);
});

test('a failed submit is reported with the ids of its tasks', async () => {
  let failed;
  const queue = new SubmitQueue(() => { throw Object.assign(new Error('closed'), { code: 'ERR_POOL_SHUTDOWN' }); },
    (ids, count, err) => { failed = { ids: Array.from(ids), count, code: err.code }; });
  queue.push(5, 1, 1, [], 1);
  queue.push(6, 1, 1, [], 1);
  queue.flush();
  assert.deepEqual(failed, { ids: [5, 6], count: 2, code: 'ERR_POOL_SHUTDOWN' });
});

test('a failed one-task submit is reported with the id of its task', () => {
  let failed;
  const queue = new SubmitQueue(() => assert.fail('submitOne expected'),
    (ids, count, err) => { failed = { ids: Array.from(ids), count, code: err.code }; },
    () => { throw Object.assign(new Error('closed'), { code: 'ERR_POOL_SHUTDOWN' }); });
  queue.push(9, 1, 1, [1], 1);
  queue.flush();
  assert.deepEqual(failed, { ids: [9], count: 1, code: 'ERR_POOL_SHUTDOWN' });
});

test('pending runs are found by id however long they stay unsettled', () => {
  const table = new PendingTable(() => {});
  const settled = [];
  const n = 200000;  // more than the ring: the oldest become stragglers
  for (let id = 1; id <= n; id++) {
    table.add(id, { succeed: (i, v) => settled.push([i, v]), fail: () => assert.fail('no failure expected') });
  }
  assert.equal(table.size, n);
  // Settle newest first, then the oldest: both halves must be found once.
  const ids = new Float64Array(n);
  const kinds = new Uint8Array(n).fill(1);
  const values = new Array(n);
  for (let k = 0; k < n; k++) {
    ids[k] = n - k;
    values[k] = n - k;
  }
  table.onCompletions(n, ids, kinds, values, new Int32Array(n), new Float64Array(n));
  assert.equal(table.size, 0);
  assert.equal(settled.length, n);
  assert.ok(settled.every(([id, v]) => id === v));
  table.onCompletions(1, Float64Array.of(1), Uint8Array.of(1), [1], Int32Array.of(0), Float64Array.of(0));
  assert.equal(settled.length, n, 'a second completion of the same id is ignored');
});
