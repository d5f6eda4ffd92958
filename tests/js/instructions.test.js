'use strict';
// The instruction-count regression check (perf/instructions.js): how it
// reads callgrind's profile and when it fails. The counts themselves are
// checked against perf/instructions-baseline.json by `./tasklets.sh test`
// (under valgrind, about a minute), and by the last test here when
// TASKLETS_INSTRUCTIONS=1.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseTree, compare, TOLERANCE } = require('../../perf/instructions');

const TREE = `
--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
 5,000 ( 1.00%)  *  ???:tasklets_addon::deliver_completions(napi_env__*, napi_value__*, tasklets_addon::PoolState&) [/x/tasklets.node]
 3,000 ( 0.60%)  >   ???:napi_call_function (10x) [/usr/bin/node]
   500 ( 0.10%)  >   ???:napi_call_function'2 (2x) [/usr/bin/node]
   400 ( 0.08%)  >   ???:napi_set_element (10x) [/usr/bin/node]

 7,000 ( 1.40%)  <   ???:main [/x/a.out]
 6,000 ( 1.20%)  *  ./src/pool.cpp:tasklets::Pool::submit(int) [/x/a.out]
 1,000 ( 0.20%)  >   ???:operator new(unsigned long) (3x) [/usr/lib/libstdc++.so.6]
`;

test('parseTree reads each function with its inclusive cost and its callees', () => {
  const f = parseTree(TREE);
  const d = f.get('tasklets_addon::deliver_completions(napi_env__*, napi_value__*, tasklets_addon::PoolState&)');
  assert.strictEqual(d.cost, 5000);
  assert.deepStrictEqual(d.callees.map((c) => [c.name, c.cost]),
    [['napi_call_function', 3000], ["napi_call_function'2", 500], ['napi_set_element', 400]]);
  const s = f.get('tasklets::Pool::submit(int)');
  assert.strictEqual(s.cost, 6000, 'the file prefix is dropped; a caller line (<) is not a function block');
  assert.deepStrictEqual(s.callees, [{ name: 'operator new(unsigned long)', cost: 1000 }]);
});

test(`compare fails a count that grew more than its tolerance (C++ ${TOLERANCE.core * 100}%) and passes one within it`, () => {
  const baseline = { node: process.version, counts: { 'core.submit': 1000, 'core.execute': 1000 } };
  const within = compare({ 'core.submit': Math.floor(1000 * (1 + TOLERANCE.core)), 'core.execute': 900 }, baseline);
  assert.strictEqual(within.grown, 0);
  const grown = compare({ 'core.submit': Math.ceil(1000 * (1 + TOLERANCE.core)) + 1, 'core.execute': 1000 }, baseline);
  assert.strictEqual(grown.grown, 1);
  assert.match(grown.rows[0], /GREW/);
  assert.strictEqual(compare({ 'core.new': 5 }, baseline).grown, 1, 'a count the baseline lacks fails');
});

test('addon counts from another Node major are not compared', () => {
  const baseline = { node: 'v1.0.0', counts: { 'addon.submit': 10, 'core.submit': 10 } };
  const r = compare({ 'addon.submit': 100, 'core.submit': 100 }, baseline);
  assert.strictEqual(r.grown, 1, 'only the core count fails');
  assert.match(r.rows[0], /not compared/);
});

test('the hot paths stay within the committed baseline', { skip: process.env.TASKLETS_INSTRUCTIONS !== '1' && 'set TASKLETS_INSTRUCTIONS=1 (./tasklets.sh test runs it as its own step)', timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'perf', 'instructions.js'), '--check'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
});
