'use strict';
// The parts of trace files that need no pool: slice names from registered
// expressions, the bounded event ring, the executor's record ring read by
// the main thread (in one thread here), the merge of several pools, and the
// clock the threads share.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const { toExpression, mapChunkExpression } = require('../../js/functions');
const { moduleTaskSource } = require('../../js/module-allow');
const { nameOfExpression, FunctionNames } = require('../../js/trace-file-names');
const { mergeTraces } = require('../../js/trace-file-document');
const { TaskStore, STATUS_CODE } = require('../../js/trace-file-store');
const { createTraceControl, createRing, sendRing, TraceWriter, TraceReader } = require('../../js/trace-file-executor');
const { monotonicMs } = require('../../js/trace-file-clock');
const { ResultKind } = require('../../js/protocol');

describe('trace file parts', { timeout: 30000 }, () => {
  test('slice names', () => {
    const cases = [
      [function resize(img) { return img; }, 'resize'],
      [async function* pages() {}, 'pages'],
      [{ hash(x) { return x; } }.hash, 'hash'],
      [{ async load() {} }.load, 'load'],
      [(x) => x + 1, '(x) => x + 1'],
      [(a) => { const long = a * 2; return `${long} is a rather long result of an anonymous function`; },
        '(a) => { const long = a * 2; return `${long} ...'],
    ];
    for (const [fn, name] of cases) assert.equal(nameOfExpression(toExpression(fn)), name);
    assert.equal(nameOfExpression(mapChunkExpression(toExpression(function double(x) { return 2 * x; }))), 'map: double');
    assert.equal(nameOfExpression(moduleTaskSource('/srv/app/tasks.js', 'thumbnail', null)), 'thumbnail (tasks.js)');
    const known = new Map([[1, { expression: toExpression((x) => x), name: 'identity' }], [2, { expression: mapChunkExpression('(x => x)'), name: 'inc' }]]);
    const names = new FunctionNames((id) => known.get(id));
    assert.deepEqual([names.of(1), names.of(2), names.of(3)], ['identity', 'map: inc', 'function 3']);
  });

  test('the task store drops whole tasks, oldest first, and counts their events', () => {
    const store = new TaskStore(7);
    const add = (id, ran, status = STATUS_CODE.succeeded) => {
      Object.assign(store.next, { id, submit: id, start: ran ? id + 0.5 : NaN, end: id + 0.9, promiseEnd: NaN, slot: ran ? 0 : -1, name: -1, status, errorCode: null });
      return store.add();
    };
    add(1, true);                           // 3 events
    add(2, false, STATUS_CODE.cancelled);   // 3 events: queue slice and its instant
    assert.equal(store.events, 6);
    add(3, false);                          // 2 events: task 1 goes
    assert.equal(store.droppedEvents, 3);
    assert.equal(store.droppedTasks, 1);
    const events = store.toEvents(1, 1, []);
    assert.deepEqual(events.map((e) => e.ph), ['b', 'e', 'i', 'b', 'e']);
    assert.deepEqual(events.map((e) => e.args && e.args.taskId).filter(Boolean), [2, 2, 3]);
    for (let id = 4; id < 3000; id++) add(id, true);   // grows, then wraps
    assert.equal(store.size, 2);
    assert.deepEqual(store.toEvents(1, 1, []).filter((e) => e.ph === 'X').map((e) => e.args.taskId), [2998, 2999]);
  });

  test("the executor's records, read by the main thread; overwritten ones are counted lost", () => {
    const control = createTraceControl();
    const outcome = new Int32Array(2);
    const invoke = (fnId, argKind, args, id) => {
      outcome[0] = id % 2 === 0 ? ResultKind.PENDING : ResultKind.PRIMITIVE;
      return id;
    };
    const writer = new TraceWriter({ ...control.workerData }, invoke, outcome);
    assert.equal(writer.run(5, 3, [], 1), 1);   // no recording yet
    const ring = createRing(4);
    sendRing(control, ring);
    const reader = new TraceReader(ring, 0);
    const before = monotonicMs();
    for (let id = 2; id <= 4; id++) writer.run(7, 3, [], id);
    reader.drain();
    const first = { ...reader.take(2) };   // the reader reuses its object
    assert.equal(first.fnId, 7);
    assert.ok(before <= first.start && first.start <= first.end && first.end <= monotonicMs());
    assert.equal(first.async, true);
    const second = reader.take(3);
    assert.equal(second.async, false);
    assert.equal(first.next, second.start);
    for (let id = 5; id <= 20; id++) writer.run(7, 3, [], id);
    reader.drain();
    assert.equal(reader.take(5), undefined);
    assert.equal(reader.lost, 12);
    assert.equal(reader.take(20).fnId, 7);
    sendRing(control, null);
    writer.run(7, 3, [], 21);
    reader.drain();
    assert.equal(reader.take(21), undefined);
    control.port.close();
  });

  test('merged documents keep one of each metadata event and sum the drops', () => {
    const doc = (pool, dropped) => ({
      traceEvents: [{ ph: 'M', name: 'process_name', pid: 1, tid: 0, args: { name: 'p' } }, { ph: 'i', name: 'x', pid: 1, tid: pool, ts: 1 }],
      metadata: { clock: 'c', droppedEvents: dropped, droppedTasks: 1, recordedTasks: 2 },
    });
    const merged = mergeTraces([doc(1, 3), doc(2, 4)]);
    assert.equal(merged.traceEvents.length, 3);
    assert.equal(merged.metadata.droppedEvents, 7);
    assert.equal(merged.metadata.recordedTasks, 4);
    assert.equal(merged.metadata.pools.length, 2);
  });

  test('threads agree on the clock', async () => {
    const clock = path.join(__dirname, '..', '..', 'js', 'trace-file-clock.js');
    const shared = new Int32Array(new SharedArrayBuffer(8));
    const times = new Float64Array(new SharedArrayBuffer(16));
    const worker = new Worker(`
      const { workerData } = require('node:worker_threads');
      const { monotonicMs } = require(${JSON.stringify(clock)});
      const [flag, times] = workerData;
      for (let i = 0; i < 200; i++) {
        while (Atomics.load(flag, 0) !== 2 * i + 1) Atomics.wait(flag, 0, 2 * i);
        times[1] = monotonicMs();
        Atomics.store(flag, 0, 2 * i + 2);
        Atomics.notify(flag, 0);
      }`, { eval: true, workerData: [shared, times] });
    // Ping-pong: each side reads its clock after it saw the other's reading.
    for (let i = 0; i < 200; i++) {
      times[0] = monotonicMs();
      Atomics.store(shared, 0, 2 * i + 1);
      Atomics.notify(shared, 0);
      while (Atomics.load(shared, 0) !== 2 * i + 2) Atomics.wait(shared, 0, 2 * i + 1, 10);
      const back = monotonicMs();
      assert.ok(times[0] <= times[1] && times[1] <= back, `main ${times[0]} <= worker ${times[1]} <= main ${back}`);
    }
    await new Promise((resolve) => worker.once('exit', resolve));
  });
});
