'use strict';
// The module allowlist (`modules: { allow }`, js/module-allow.js): the
// option's validation, and each way out of an allowed directory (a symlink
// to a file or a directory outside, '..', a file: URL, a sibling whose name
// starts with the allowed one, a directory given as the module, relative
// paths), refused on the main thread before anything reaches an executor;
// and the executor's own check when the file changed after the main
// thread's (a symlink swapped in). A refused module that was loaded anyway
// would write a marker file: none may appear.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { addonPath } = require('../../js/addon');
const { Tasklets } = require('../../js/index');
const { resolveModulePath } = require('../../js/modules');
const { resolveOptions } = require('../../js/options');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-allow-')));
const ALLOWED = path.join(root, 'allowed');
const OUTSIDE = path.join(root, 'outside');
const EVIL = path.join(root, 'allowed-evil');
const MARKER = path.join(root, 'loaded-outside');
const OK = path.join(ALLOWED, 'ok.cjs');
const SECRET = path.join(OUTSIDE, 'secret.cjs');
const SWAP = path.join(ALLOWED, 'swap.cjs');

function secretSource() {
  return `require('node:fs').writeFileSync(${JSON.stringify(MARKER)}, 'x');\nexports.add = (a, b) => a + b;\n`;
}

before(() => {
  for (const dir of [ALLOWED, OUTSIDE, EVIL, path.join(ALLOWED, 'sub')]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(OK, 'exports.add = (a, b) => a + b;\n');
  fs.writeFileSync(SECRET, secretSource());
  fs.writeFileSync(path.join(EVIL, 'bad.cjs'), secretSource());
  fs.writeFileSync(SWAP, 'exports.add = (a, b) => a + b;\n');
  fs.symlinkSync(SECRET, path.join(ALLOWED, 'link.cjs'));
  fs.symlinkSync(OUTSIDE, path.join(ALLOWED, 'linkdir'));
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

function notAllowed(err) {
  assert.equal(err.code, 'ERR_MODULE_NOT_ALLOWED', err.stack);
  assert.ok(err instanceof Error);
  return true;
}

describe('modules.allow: the option', () => {
  test('absent: no restriction; entries resolve to real paths, directories with a separator', () => {
    assert.deepEqual(resolveOptions({}, 2).resolved.modules, { allow: null });
    const { modules } = resolveOptions({ modules: { allow: [ALLOWED, pathToFileURL(OK), pathToFileURL(OUTSIDE).href] } }, 2).resolved;
    assert.deepEqual(modules.allow, [ALLOWED + path.sep, OK, OUTSIDE + path.sep]);
    // A symlinked directory is allowed by its target.
    assert.deepEqual(resolveOptions({ modules: { allow: [path.join(ALLOWED, 'linkdir')] } }, 2).resolved.modules.allow,
      [OUTSIDE + path.sep]);
  });

  test('bad values are typed errors', () => {
    const bad = [
      [{ modules: 'x' }, TypeError],
      [{ modules: { allow: ALLOWED } }, TypeError],
      [{ modules: { allow: [42] } }, TypeError],
      [{ modules: { allow: ['relative/dir'] } }, RangeError],
      [{ modules: { allow: ['./x'] } }, RangeError],
      [{ modules: { allow: [path.join(root, 'missing')] } }, RangeError],
      [{ modules: { allow: ['file://host/x'] } }, RangeError],
      [{ modules: { deny: [] } }, TypeError],
    ];
    for (const [options, Class] of bad) {
      assert.throws(() => resolveOptions(options, 2), (err) => err instanceof Class && err.code === 'ERR_INVALID_ARG_VALUE',
        JSON.stringify(options));
    }
  });
});

test('a polluted Object.prototype neither sets nor lifts the allowlist', () => {
  const base = resolveOptions({ modules: { allow: [ALLOWED] } }, 2).options;
  Object.prototype.modules = { allow: null };  // eslint-disable-line no-extend-native
  Object.prototype.allow = [root];             // eslint-disable-line no-extend-native
  Object.prototype.workers = 64;               // eslint-disable-line no-extend-native
  try {
    assert.deepEqual(resolveOptions({}, 2, base).resolved.modules.allow, [ALLOWED + path.sep]);
    assert.deepEqual(resolveOptions({ modules: {} }, 2).resolved.modules, { allow: null });
    assert.equal(resolveOptions({}, 2).resolved.workers.max, 2);
  } finally {
    delete Object.prototype.modules;
    delete Object.prototype.allow;
    delete Object.prototype.workers;
  }
});

describe('modules.allow on a pool', { skip }, () => {
  let pool;
  before(() => {
    pool = new Tasklets({ workers: 1, modules: { allow: [ALLOWED] } });
  });
  after(() => pool.shutdown());

  test('a file in an allowed directory runs (path, file: URL, ".." that stays inside)', async () => {
    assert.equal(await pool.run({ module: OK, export: 'add' }, { args: [1, 2] }), 3);
    assert.equal(await pool.run({ module: pathToFileURL(OK).href, export: 'add' }, { args: [2, 2] }), 4);
    assert.equal(await pool.run({ module: path.join(ALLOWED, 'sub', '..', 'ok.cjs'), export: 'add' }, { args: [3, 2] }), 5);
    assert.equal(await pool.module(OK).add(4, 4), 8);
  });

  test('each escape is refused before anything runs', async () => {
    const escapes = [
      path.join(ALLOWED, 'link.cjs'),                      // symlink to a file outside
      path.join(ALLOWED, 'linkdir', 'secret.cjs'),         // through a symlinked directory
      `${ALLOWED}/../outside/secret.cjs`,                  // '..'
      pathToFileURL(SECRET).href,                          // a file: URL
      new URL(`file://${ALLOWED}/../outside/secret.cjs`),  // a URL object with '..'
      path.join(EVIL, 'bad.cjs'),                          // '/allowed-evil' is not '/allowed'
    ];
    for (const module of escapes) {
      await assert.rejects(pool.run({ module, export: 'add' }, { args: [1, 1] }), notAllowed, String(module));
      await assert.rejects(pool.runAll([{ task: { module, export: 'add' }, args: [1, 1] }]), notAllowed, String(module));
      await assert.rejects(pool.module(module).add(1, 1), notAllowed, String(module));
    }
    assert.equal(fs.existsSync(MARKER), false, 'a refused module was loaded');
    assert.equal(pool.getStats().pending, 0);
  });

  test('a directory given as the module is refused, even inside an allowed one', async () => {
    await assert.rejects(pool.run({ module: path.join(ALLOWED, 'sub') }),
      (err) => err.code === 'ERR_INVALID_ARG_VALUE' && /not a file/.test(err.message));
  });

  test('relative paths are resolved from the calling file, then checked', async () => {
    const local = new Tasklets({ workers: 1, modules: { allow: [path.join(__dirname, 'fixtures', 'control')] } });
    try {
      assert.equal(await local.run({ module: './fixtures/control/ops.cjs', export: 'add' }, { args: [5, 6] }), 11);
      await assert.rejects(local.run({ module: './fixtures/tasks.cjs', export: 'add' }), notAllowed);
      await assert.rejects(local.run({ module: './fixtures/control/../tasks.cjs', export: 'add' }), notAllowed);
    } finally {
      await local.shutdown();
    }
  });

  test('configure() turns the allowlist on and off on a running pool', async () => {
    const open = new Tasklets({ workers: 1 });
    try {
      assert.equal(await open.run({ module: OK, export: 'add' }, { args: [1, 1] }), 2);
      open.configure({ modules: { allow: [EVIL] } });
      await assert.rejects(open.run({ module: OK, export: 'add' }, { args: [1, 1] }), notAllowed);
      open.configure({ modules: {} });
      assert.equal(await open.run({ module: OK, export: 'add' }, { args: [2, 1] }), 3);
      assert.deepEqual(open.options.modules, { allow: null });
    } finally {
      await open.shutdown();
    }
  });

  test('the executor checks again: a file swapped for a symlink after the main thread resolved it', async () => {
    // The main thread resolved (and cached) the file while it was inside.
    assert.equal(resolveModulePath(SWAP, null, 'module'), SWAP);
    fs.rmSync(SWAP);
    fs.symlinkSync(SECRET, SWAP);
    await assert.rejects(pool.run({ module: SWAP, export: 'add' }, { args: [1, 1] }), (err) => {
      notAllowed(err);
      assert.equal(err.module, SECRET);
      return true;
    });
    assert.equal(fs.existsSync(MARKER), false, 'the executor loaded a module outside the allowlist');
  });
});
