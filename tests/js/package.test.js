'use strict';
// What the main npm tarball holds (`npm pack --dry-run`): everything its
// install needs, nothing it cannot build. The packed tarball itself is
// installed and used by scripts/user-path.sh (./tasklets.sh test).

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const npmCli = path.join(path.dirname(fs.realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const npm = fs.existsSync(npmCli) ? [process.execPath, [npmCli]] : ['npm', []];

let files = null;

before(() => {
  const [cmd, pre] = npm;
  const r = spawnSync(cmd, [...pre, 'pack', '--dry-run', '--json', '--ignore-scripts'],
                      { cwd: root, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `npm pack --dry-run failed:\n${r.stderr}`);
  files = new Set(JSON.parse(r.stdout)[0].files.map((f) => f.path));
});

// The files a meson.build compiles or links (quoted names ending .c, .cc,
// .cpp or .map, relative to its folder; headers it probes are outside), and
// the subdir() calls that are not behind `if not get_option('runtime_only')`,
// which the npm build sets.
function mesonReferences(file) {
  const dir = path.posix.dirname(file);
  const text = fs.readFileSync(path.join(root, file), 'utf8').replace(/#.*$/gm, '');
  const sources = [...text.matchAll(/'([\w./-]+\.(?:c|cc|cpp|map))'/g)]
    .map((m) => path.posix.normalize(path.posix.join(dir, m[1])));
  const subdirs = [];
  const guards = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (/^if\b/.test(t)) guards.push(/not get_option\('runtime_only'\)/.test(t));
    else if (/^endif\b/.test(t)) guards.pop();
    const m = /^subdir\('([^']+)'\)/.exec(t);
    if (m && !guards.includes(true)) subdirs.push(path.posix.join(dir, m[1], 'meson.build'));
  }
  return { sources, subdirs };
}

test('the main tarball has its install script, LICENSE, bundled node-addon-api and build files', () => {
  for (const f of ['package.json', 'README.md', 'LICENSE', 'scripts/install.js', '.ci/jemalloc.sh', '.ci/deb-src.sh',
                   'meson.build', 'meson_options.txt', 'addon/meson.build', 'js/index.js', 'js/index.d.ts',
                   'node_modules/node-addon-api/napi.h']) {
    assert.ok(files.has(f), `${f} is not in the tarball`);
  }
  assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) 2026 the tasklets authors\n/);
});

test('the main tarball has the tasklets command and the dashboard page; uPlot is a dependency', () => {
  assert.deepEqual(pkg.bin, { tasklets: 'bin/tasklets.js' });
  const { FILES } = require('../../js/dashboard/assets');
  const page = ['js/dashboard/public/index.html', ...Object.values(FILES).map(([file]) => path.relative(root, file))
    .filter((f) => f.startsWith('js/'))];
  for (const f of ['bin/tasklets.js', 'js/cli/top.js', 'js/cli/top-render.js', 'js/cli/sse.js', 'js/dashboard/index.js', ...page]) {
    assert.ok(files.has(f), `${f} is not in the tarball`);
  }
  assert.equal(fs.readFileSync(path.join(root, 'bin', 'tasklets.js'), 'utf8').split('\n')[0], '#!/usr/bin/env node');
  assert.ok(pkg.dependencies.uplot, 'uplot is a runtime dependency (the dashboard serves it)');
});

test('the main tarball ships no tests, benchmarks or examples', () => {
  const extra = [...files].filter((f) => /^(tests|perf|examples|build|dist|npm)\//.test(f));
  assert.deepEqual(extra, []);
});

test('every source a shipped meson.build names is shipped, and every subdir the npm build enters', () => {
  const missing = [];
  for (const file of [...files].filter((f) => f.endsWith('meson.build'))) {
    const { sources, subdirs } = mesonReferences(file);
    for (const ref of [...sources, ...subdirs]) if (!files.has(ref)) missing.push(`${file} -> ${ref}`);
  }
  assert.deepEqual(missing, []);
});

test('package.json: engines, license, install script, platform packages, a test command that works on Node 22+', () => {
  assert.equal(pkg.engines.node, '>=20');
  assert.equal(pkg.license, 'MIT');
  assert.equal(pkg.scripts.install, 'node scripts/install.js');
  assert.match(pkg.scripts.test, /^node --test tests\/js\/\*\.test\.js$/);
  assert.deepEqual(pkg.bundleDependencies, ['node-addon-api']);
  for (const platform of fs.readdirSync(path.join(root, 'npm'))) {
    const sub = JSON.parse(fs.readFileSync(path.join(root, 'npm', platform, 'package.json'), 'utf8'));
    assert.equal(sub.name, `@tasklets/${platform}`);
    assert.equal(pkg.optionalDependencies[sub.name], pkg.version, `${sub.name} is not pinned to ${pkg.version}`);
    const [os, cpu, libc] = platform.split('-');
    assert.deepEqual([sub.os, sub.cpu, sub.libc], [[os], [cpu], [libc === 'gnu' ? 'glibc' : libc]]);
  }
});

test('the install script needs nothing but node: built-ins and this package', () => {
  const text = fs.readFileSync(path.join(root, 'scripts', 'install.js'), 'utf8');
  const required = [...text.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);
  assert.deepEqual(required.filter((r) => !r.startsWith('node:') && !r.startsWith('../')), []);
});
