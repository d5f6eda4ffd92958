'use strict';
// The TypeScript definitions (js/index.d.ts) compile against a file that uses
// the whole API, and reject what they should (tests/types/api.ts).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const skip = fs.existsSync(tsc) ? false : 'typescript is not installed (npm install)';

test('the type definitions accept the documented API and reject misuse', { skip, timeout: 120000 }, () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
                                         '--moduleResolution', 'nodenext', '--skipLibCheck', 'false',
                                         path.join(root, 'tests', 'types', 'api.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc reported:\n${r.stdout}${r.stderr}`);
});
