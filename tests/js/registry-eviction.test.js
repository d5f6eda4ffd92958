'use strict';
// The function registry is bounded (functions.cacheSize, js/functions.js):
// the least recently used functions are evicted on the main thread and in
// each executor, and the addon frees a function's source once no submitted
// task uses it. Eviction never costs a task its function: a task queued
// behind a blocked executor while its function is evicted still runs, as do
// runAll groups and map() chunks with more distinct functions than the
// cache holds. The memory figure: 20,000 distinct sources in a child process
// (--expose-gc), whose growth must stay under a bound that the unbounded
// registry exceeded.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { noChildNode } = require('./fixtures/child-node');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { FunctionRegistry } = require('../../js/functions');
const { unsupported, sharedCells, blocker, waitFor } = require('./fixtures/control/shared');

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`) || unsupported;
const shared = skip ? null : sharedCells('tasklets-test:registry-eviction');
const GROWTH = path.join(__dirname, 'fixtures', 'registry', 'growth.cjs');

// A function whose source is unique to `i`, returning x + i.
function distinct(i) {
  // eslint-disable-next-line no-new-func
  return new Function('x', `return x + ${i}`);
}

test('the registry keeps the most recently used and releases the rest after a microtask', async () => {
  const registered = [];
  const released = [];
  let flushes = 0;
  const registry = new FunctionRegistry((source) => registered.push(source) - 1, (ids) => released.push(...ids), 8, () => flushes++);
  const hot = (x) => x;
  const hotId = registry.idOf(hot);
  for (let i = 0; i < 20; i++) {
    registry.idOf(distinct(i));
    assert.equal(registry.idOf(hot), hotId, 'a function in use is never evicted');
  }
  assert.ok(registry.size <= 8);
  assert.deepEqual(released, [], 'nothing is released before the microtask');
  await Promise.resolve();
  assert.ok(flushes >= 1, 'the queued tasks are submitted before a release');
  assert.equal(released.length, 21 - registry.size);
  assert.ok(!released.includes(hotId));
  // An evicted function used again is registered again.
  const again = registry.idOf(distinct(0));
  assert.equal(registered[again], registered[released[0]]);
  assert.throws(() => new FunctionRegistry(() => 0, () => {}, 8).idOf(class {}), { code: 'ERR_INVALID_ARG_VALUE' });
});

describe('eviction on a pool', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 1, functions: { cacheSize: 4 } });
  });
  after(() => pool.shutdown());

  test('a task queued while its function is evicted still runs it', { timeout: 60000 }, async () => {
    shared.reset();
    const blocked = pool.run(blocker, { args: [shared.key] });
    await waitFor(() => shared.started === 1, 'the blocker to start');
    const victim = pool.run((x) => x * 1000, { args: [7] });
    // Many other functions: the victim's is evicted here, released in the
    // addon (which keeps it for the queued task) and never compiled yet.
    const others = [];
    for (let i = 0; i < 40; i++) others.push(pool.run(distinct(i), { args: [1] }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(pool.getStats().registeredFunctions > 4, 'the queued tasks hold their functions');
    shared.open();
    assert.equal(await victim, 7000);
    assert.deepEqual(await Promise.all(others), Array.from({ length: 40 }, (_, i) => i + 1));
    await blocked;
    await waitFor(() => pool.getStats().registeredFunctions <= 4, 'the addon to free the released functions');
  });

  test('runAll and map with more distinct functions than the cache holds', async () => {
    const tasks = Array.from({ length: 50 }, (_, i) => ({ task: distinct(i), args: [100] }));
    assert.deepEqual(await pool.runAll(tasks), Array.from({ length: 50 }, (_, i) => i + 100));
    // map with concurrency 1 looks its function up per chunk; other
    // registrations in between evict it.
    const mapped = pool.map((x) => x * 2, [1, 2, 3, 4, 5, 6], { chunkSize: 1, concurrency: 1 });
    const noise = [];
    for (let i = 0; i < 30; i++) {
      noise.push(pool.run(distinct(i + 1000), { args: [0] }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await mapped, [2, 4, 6, 8, 10, 12]);
    assert.deepEqual(await Promise.all(noise), Array.from({ length: 30 }, (_, i) => i + 1000));
  });

  test('an executor recompiles a function it evicted', async () => {
    const f = (x) => `f${x}`;
    assert.equal(await pool.run(f, { args: [1] }), 'f1');
    for (let i = 0; i < 20; i++) await pool.run(distinct(i + 2000), { args: [0] });
    assert.equal(await pool.run(f, { args: [2] }), 'f2');
  });

  test('configure() changes the cache size of a running pool', async () => {
    pool.configure({ functions: { cacheSize: 2 } });
    for (let i = 0; i < 10; i++) assert.equal(await pool.run(distinct(i + 3000), { args: [0] }), i + 3000);
    await waitFor(() => pool.getStats().registeredFunctions <= 2, 'the registry to shrink');
    assert.equal(pool.options.functions.cacheSize, 2);
    pool.configure({ functions: { cacheSize: 4 } });
  });
});

test('20,000 distinct sources: memory stays bounded', { skip: skip || noChildNode, timeout: 120000 }, async () => {
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', GROWTH, '20000', '256'], { timeout: 100000 },
      (err, stdout, stderr) => (err ? reject(Object.assign(err, { stderr })) : resolve(stdout)));
  });
  const figures = JSON.parse(out);
  // Unbounded, the same run grew by 22 MB of RSS and 6.6 MB of main heap.
  assert.ok(figures.registered <= 256, JSON.stringify(figures));
  assert.ok(figures.heapMB < 3, JSON.stringify(figures));
  // AddressSanitizer keeps freed memory in quarantine (256 MB) instead of
  // reusing it: RSS says nothing there, the registered count and the heap do.
  if (process.env.TASKLETS_SANITIZER_PRELOAD === undefined) assert.ok(figures.rssMB < 12, JSON.stringify(figures));
});
