'use strict';
// perf/dashboard-cost.js keeps working: a tiny run, checked for its shape
// (the figures themselves are only meaningful in a full run on a quiet
// machine).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { addonPath } = require('../../js/addon');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;
const script = path.join(__dirname, '..', '..', 'perf', 'dashboard-cost.js');

test('perf/dashboard-cost.js measures a closed and an open dashboard', { skip, timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, [script, '--rounds', '2', '--tasks', '300', '--window', '120', '--interval', '50', '--json'],
                      { encoding: 'utf8', timeout: 110000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(report.summary), ['closed', 'dashboard + client', 'closed (control)']);
  for (const s of Object.values(report.samples)) {
    assert.equal(s.runAll.length, 2);
    assert.equal(s.run.length, 2);
    assert.ok([...s.runAll, ...s.run, ...s.cpuNs].every((x) => x > 0));
  }
  assert.deepEqual(Object.keys(report.cost), ['dashboard + client', 'closed (control)']);
  assert.ok(report.snapshotUs > 0 && report.snapshotUs < 1e6, `${report.snapshotUs} us per snapshot`);
  const bad = spawnSync(process.execPath, [script, '--interval', '0'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--interval needs a positive integer/);
});
