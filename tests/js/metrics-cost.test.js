'use strict';
// perf/metrics-cost.js keeps working: a tiny run, checked for its shape (the
// figures themselves are only meaningful in a full run on a quiet machine).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { addonPath } = require('../../js/addon');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;
const script = path.join(__dirname, '..', '..', 'perf', 'metrics-cost.js');

test('perf/metrics-cost.js measures every configuration', { skip, timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, [script, '--rounds', '2', '--tasks', '300', '--json'], { encoding: 'utf8', timeout: 110000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(report.summary), ['off', 'on', 'on+tracing', 'off (control)']);
  for (const s of Object.values(report.samples)) {
    assert.equal(s.runAll.length, 2);
    assert.equal(s.run.length, 2);
    assert.equal(s.cpuNs.length, 2);
    assert.ok([...s.runAll, ...s.run].every((x) => x > 0));
  }
  assert.deepEqual(Object.keys(report.cost), ['on', 'on+tracing', 'off (control)']);
  assert.ok(Object.values(report.summary).every((s) => s.cpuNs > 0));
  const bad = spawnSync(process.execPath, [script, '--rounds', '0'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--rounds needs a positive integer/);
});
