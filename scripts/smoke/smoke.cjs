'use strict';
// The user-path smoke test: run from an app that installed the packed
// tarballs (scripts/user-path.sh, scripts/test-install.sh). It checks what a
// first user would try, and which binary served it.
const assert = require('node:assert/strict');
const path = require('node:path');
const tasklets = require('tasklets');

async function main() {
  tasklets.config({ workers: 2 });
  assert.equal(await tasklets.run((a, b) => a + b, { args: [2, 3] }), 5);
  assert.deepEqual(await tasklets.runAll([() => 1, { task: (x) => x * 2, args: [21] }]), [1, 42]);
  assert.deepEqual(await tasklets.map((x) => x * x, [1, 2, 3, 4, 5], { chunkSize: 2 }), [1, 4, 9, 16, 25]);

  // A task's own error comes back with its class, message and code.
  await assert.rejects(tasklets.run(() => {
    const e = new RangeError('too big');
    e.code = 'E_TOO_BIG';
    throw e;
  }), (err) => err instanceof RangeError && err.message === 'too big' && err.code === 'E_TOO_BIG');
  // Misuse is a typed error with a Node-style code.
  await assert.rejects(tasklets.run(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });

  // The tasks really ran on executor threads placed by the native runtime.
  const stats = tasklets.getStats();
  assert.ok(stats.workers.length >= 1, 'no executor in getStats()');
  await tasklets.shutdown();

  const { addonPath } = require(path.join(path.dirname(require.resolve('tasklets')), 'addon.js'));
  console.log(`smoke ok: Node ${process.version}, addon ${addonPath()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
