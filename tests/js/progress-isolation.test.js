'use strict';
// A task reports its own progress only (docs/security.md). Inside an
// executor: workerData no longer holds the progress port or the abort ring,
// and patching MessagePort.prototype.postMessage or Function.prototype.call
// after the executor started does not change what it sends. On the main
// thread: a report naming a task that another executor runs is dropped,
// shown with an executor whose protections were bypassed (a preloaded
// module rewrites report ids; fixtures/progress/), in a child process with a
// hard timeout.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { noChildNode } = require('./fixtures/child-node');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { unsupported } = require('./fixtures/control/shared');

const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`) || unsupported;
const FIXTURES = path.join(__dirname, 'fixtures', 'progress');

describe('progress isolation', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 1 });
  });
  after(() => pool.shutdown());

  test('workerData holds neither the progress port nor the abort ring', async () => {
    const keys = await pool.run(() => Object.keys(process.getBuiltinModule('node:worker_threads').workerData).sort());
    assert.deepEqual(keys, ['addonPath', 'functionCache', 'poolId', 'slot']);
  });

  test('patching postMessage or Function.prototype.call inside a task does not redirect reports', async () => {
    const victimEvents = [];
    const ownEvents = [];
    // The victim waits (asynchronously) on the same executor as the attacker.
    const victim = pool.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return 'victim';
    }, { onProgress: (e) => victimEvents.push(e) });
    const attacker = pool.run((victimId) => {
      const { MessagePort } = process.getBuiltinModule('node:worker_threads');
      const post = MessagePort.prototype.postMessage;
      const call = Function.prototype.call;
      let seen = 0;
      MessagePort.prototype.postMessage = function patched(message, ...rest) {
        seen++;
        return post.apply(this, [{ ...message, id: victimId }, ...rest]);
      };
      // eslint-disable-next-line no-extend-native
      Function.prototype.call = function patchedCall(self, ...args) {
        seen++;
        if (args[0] !== null && typeof args[0] === 'object' && 'percent' in args[0]) args[0].id = victimId;
        return call.apply(this, [self, ...args]);
      };
      try {
        tasklet.progress(50, 'mine');
      } finally {
        MessagePort.prototype.postMessage = post;
        // eslint-disable-next-line no-extend-native
        Function.prototype.call = call;
      }
      return seen;
    }, { args: [victim.taskId], onProgress: (e) => ownEvents.push(e) });
    assert.equal(await attacker, 0, 'the executor called a patched function');
    assert.equal(await victim, 'victim');
    assert.deepEqual(ownEvents, [{ taskId: attacker.taskId, percent: 50, detail: 'mine' }]);
    assert.deepEqual(victimEvents, []);
  });

  test('a report naming a task of another executor is dropped by the main thread', { timeout: 60000, skip: noChildNode }, async () => {
    const { stdout, stderr } = await new Promise((resolve, reject) => {
      execFile(process.execPath, ['--require', path.join(FIXTURES, 'forge-preload.cjs'), path.join(FIXTURES, 'forge-child.cjs')],
        { timeout: 45000 }, (err, out, errText) => (err ? reject(Object.assign(err, { stderr: errText })) : resolve({ stdout: out, stderr: errText })));
    });
    const report = JSON.parse(stdout);
    assert.equal(report.result, 'victim');
    assert.equal(report.attacker, 'attacked');
    // Only the victim's own report; the two forged ones (one on its own, one
    // with the attacker's completion) were dropped and logged.
    assert.deepEqual(report.events, [{ taskId: report.victimId, percent: 10, detail: 'own' }]);
    assert.deepEqual(report.attackerEvents, []);
    assert.equal(stderr.match(/progress report for a task of another executor ignored/g).length, 2, stderr);
  });
});
