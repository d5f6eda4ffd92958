// The ESM entry point of the installed package: named and default imports.
import assert from 'node:assert/strict';
import tasklets, { run, map, shutdown } from 'tasklets';

assert.equal(typeof tasklets.runAll, 'function');
assert.equal(await run((s) => s.toUpperCase(), { args: ['esm'] }), 'ESM');
assert.deepEqual(await map((x) => x + 1, [1, 2, 3]), [2, 3, 4]);
await shutdown();
console.log('smoke ok: ESM import');
