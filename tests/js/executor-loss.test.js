'use strict';
// An executor that dies inside a task (process.exit in a Worker ends that
// Worker) costs only that task: the runtime asks for a replacement and the
// pool keeps its size.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

describe('executor loss', { skip }, () => {
  test('a task that exits its executor rejects, and the next tasks run on a replacement', async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      assert.equal(await pool.run(() => 1), 1);
      await assert.rejects(pool.run(() => process.exit(3)), (err) => {
        assert.equal(typeof err.code, 'string');
        return true;
      });
      const results = await Promise.all([pool.run(() => 2), pool.run((x) => x * 2, { args: [21] })]);
      assert.deepEqual(results, [2, 42]);
      const stats = pool.getStats();
      assert.equal(stats.replacedWorkers, 1);
      assert.equal(stats.workers[0].running, true);
    } finally {
      await pool.shutdown();
    }
  });
});
