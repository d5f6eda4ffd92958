'use strict';
// Tasks given as { module, export } (js/modules.js): resolution of absolute,
// relative, file: URL and package specs, their errors, loading CommonJS and
// ES module exports (on the main thread, the same code executors run, and
// once in real executors), callerFile and wrapModule.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { addonPath } = require('../../js/addon');
const { resolveModuleTask, moduleKey, callerFile, wrapModule } = require('../../js/modules');
const { loadExport, loadedExport } = require('../../js/module-loader');

const FIXTURES = path.join(__dirname, 'fixtures');
const CJS = path.join(FIXTURES, 'tasks.cjs');
const MJS = path.join(FIXTURES, 'tasks.mjs');
const PKG_JS = path.join(FIXTURES, 'esm-pkg', 'sub', 'tasks.js');
const PACKAGE_MAIN = path.join(FIXTURES, 'node_modules', 'fixture-tasks', 'main.js');
const IN_FIXTURES = path.join(FIXTURES, 'any-file.js');   // a caller file in fixtures/

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

function throwsCoded(fn, Class, code, pattern) {
  assert.throws(fn, (err) => {
    assert.equal(err.constructor, Class, `expected ${Class.name}, got ${err.constructor.name}: ${err.message}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('resolveModuleTask', () => {
  test('an absolute path, with the export defaulting to default', () => {
    assert.deepEqual(resolveModuleTask({ module: CJS, export: 'add' }, null),
      { path: CJS, exportName: 'add', key: `module:${CJS}#add` });
    assert.deepEqual(resolveModuleTask({ module: MJS }, null), { path: MJS, exportName: 'default', key: moduleKey(MJS, 'default') });
  });

  test('an unnormalized absolute path is normalized', () => {
    const messy = path.join(FIXTURES, 'esm-pkg', '..', 'tasks.cjs').replace('fixtures', `fixtures${path.sep}.`);
    assert.equal(resolveModuleTask({ module: messy }, null).path, CJS);
  });

  test('file: URLs, as strings and URL objects', () => {
    assert.equal(resolveModuleTask({ module: pathToFileURL(MJS).href, export: 'shout' }, null).path, MJS);
    assert.equal(resolveModuleTask({ module: pathToFileURL(MJS), export: 'shout' }, null).path, MJS);
    assert.equal(resolveModuleTask({ module: new URL('./fixtures/tasks.cjs', pathToFileURL(__filename)) }, null).path, CJS);
  });

  test('relative paths resolve from the caller file (a path, a file: URL, or a function giving one)', () => {
    assert.equal(resolveModuleTask({ module: './tasks.cjs' }, IN_FIXTURES).path, CJS);
    assert.equal(resolveModuleTask({ module: './fixtures/tasks.mjs' }, __filename).path, MJS);
    assert.equal(resolveModuleTask({ module: '../../tasks.cjs' }, path.join(FIXTURES, 'esm-pkg', 'sub', 'x.js')).path, CJS);
    assert.equal(resolveModuleTask({ module: './tasks.js' }, pathToFileURL(path.join(FIXTURES, 'esm-pkg', 'sub', 'x.mjs')).href).path, PKG_JS);
    assert.equal(resolveModuleTask({ module: '../fixtures/tasks.cjs' }, () => IN_FIXTURES).path, CJS);
  });

  test('the caller function is only called when the spec needs it', () => {
    let calls = 0;
    const caller = () => {
      calls++;
      return IN_FIXTURES;
    };
    resolveModuleTask({ module: CJS }, caller);
    resolveModuleTask({ module: pathToFileURL(MJS).href }, caller);
    assert.equal(calls, 0);
    resolveModuleTask({ module: './tasks.mjs' }, caller);
    assert.equal(calls, 1);
  });

  test('package names resolve like require.resolve from the caller directory', () => {
    assert.equal(resolveModuleTask({ module: 'fixture-tasks', export: 'hello' }, IN_FIXTURES).path, PACKAGE_MAIN);
    assert.equal(resolveModuleTask({ module: 'fixture-tasks/extra.js' }, IN_FIXTURES).path,
      path.join(FIXTURES, 'node_modules', 'fixture-tasks', 'extra.js'));
    // Not found from a directory outside the fixtures.
    throwsCoded(() => resolveModuleTask({ module: 'fixture-tasks' }, path.join(os.tmpdir(), 'x.js')),
      RangeError, 'ERR_INVALID_ARG_VALUE', /"task\.module".*"fixture-tasks".*package name.*cannot be found/);
  });

  test('a relative path without a known caller: a clear error saying what to pass', () => {
    for (const caller of [null, undefined, () => null, 'not/absolute.js']) {
      throwsCoded(() => resolveModuleTask({ module: './tasks.cjs' }, caller), RangeError, 'ERR_INVALID_ARG_VALUE',
        /"task\.module".*relative path.*require\.resolve\("\.\/tasks\.cjs"\).*new URL\("\.\/tasks\.cjs", import\.meta\.url\)/);
    }
  });

  test('a missing file, a directory, builtins and other URL schemes are refused', () => {
    throwsCoded(() => resolveModuleTask({ module: path.join(FIXTURES, 'nope.js') }, null),
      RangeError, 'ERR_INVALID_ARG_VALUE', /"task\.module" does not exist: .*nope\.js/);
    throwsCoded(() => resolveModuleTask({ module: './nope.mjs' }, IN_FIXTURES),
      RangeError, 'ERR_INVALID_ARG_VALUE', /does not exist: .*nope\.mjs \("\.\/nope\.mjs" relative to .*any-file\.js\)/);
    throwsCoded(() => resolveModuleTask({ module: FIXTURES }, null), RangeError, 'ERR_INVALID_ARG_VALUE', /is not a file/);
    throwsCoded(() => resolveModuleTask({ module: 'node:fs', export: 'readFileSync' }, __filename),
      RangeError, 'ERR_INVALID_ARG_VALUE', /not supported.*builtin/);
    throwsCoded(() => resolveModuleTask({ module: 'fs' }, __filename), RangeError, 'ERR_INVALID_ARG_VALUE', /not supported/);
    throwsCoded(() => resolveModuleTask({ module: 'https://example.com/tasks.js' }, __filename),
      RangeError, 'ERR_INVALID_ARG_VALUE', /not supported/);
    throwsCoded(() => resolveModuleTask({ module: 'file://remote-host/tasks.js' }, null),
      RangeError, 'ERR_INVALID_ARG_VALUE', /not a valid file: URL/);
  });

  test('bad specs name the offending key, with the given label', () => {
    throwsCoded(() => resolveModuleTask('tasks.cjs', null), TypeError, 'ERR_INVALID_ARG_TYPE', /"task"/);
    throwsCoded(() => resolveModuleTask(null, null, 'tasks[2]'), TypeError, 'ERR_INVALID_ARG_TYPE', /"tasks\[2\]"/);
    throwsCoded(() => resolveModuleTask({ module: CJS, exports: 'add' }, null), TypeError, 'ERR_INVALID_ARG_VALUE', /"task\.exports"/);
    throwsCoded(() => resolveModuleTask({ module: CJS, export: 5 }, null), TypeError, 'ERR_INVALID_ARG_VALUE', /"task\.export"/);
    throwsCoded(() => resolveModuleTask({ module: CJS, export: '' }, null), RangeError, 'ERR_INVALID_ARG_VALUE', /"task\.export"/);
    throwsCoded(() => resolveModuleTask({ export: 'add' }, null), TypeError, 'ERR_INVALID_ARG_VALUE', /"task\.module"/);
    throwsCoded(() => resolveModuleTask({ module: 7 }, null, 'options.task'), TypeError, 'ERR_INVALID_ARG_VALUE', /"options\.task\.module"/);
    throwsCoded(() => resolveModuleTask({ module: '' }, null), RangeError, 'ERR_INVALID_ARG_VALUE', /"task\.module"/);
  });

  test('a file created after a failed resolution resolves', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-modules-'));
    try {
      const file = path.join(dir, 'late.cjs');
      assert.throws(() => resolveModuleTask({ module: file }, null), /does not exist/);
      fs.writeFileSync(file, 'exports.x = () => 1;');
      assert.equal(resolveModuleTask({ module: file }, null).path, fs.realpathSync(file));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('callerFile', () => {
  test('names this test file when called from it', () => {
    assert.equal(callerFile(), __filename);
  });

  test('skips frames inside the package js/ directory (resolution through wrapModule)', () => {
    const calls = [];
    const wrapped = wrapModule((spec, options) => calls.push([spec, options]), './fixtures/tasks.cjs');
    wrapped.add(1, 2);
    assert.deepEqual(calls, [[{ module: CJS, export: 'add' }, { args: [1, 2] }]]);
  });

  test('from an ES module (file: URL frames), and skip counts frames outward', async () => {
    const { whoCalls, resolveHere } = await import(pathToFileURL(path.join(FIXTURES, 'caller.mjs')).href);
    assert.equal(whoCalls(0), path.join(FIXTURES, 'caller.mjs'));
    assert.equal(whoCalls(1), __filename);
    assert.equal(resolveHere({ module: './tasks.mjs' }).path, MJS, 'relative to the ES module');
    assert.equal(whoCalls(10000), null);
    assert.throws(() => callerFile(-1), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('loadExport (on this thread)', () => {
  test('CommonJS: named and async exports, loaded once', async () => {
    const add = await loadExport(CJS, 'add');
    assert.equal(add(2, 3), 5);
    assert.equal(await (await loadExport(CJS, 'slowDouble'))(21), 42);
    assert.equal(await loadExport(CJS, 'add'), add, 'the same function');
    assert.equal((await loadExport(CJS, 'evaluations'))(), 1, 'the module was evaluated once');
  });

  test('loadedExport: undefined before loading, the function after, no promise', async () => {
    const file = path.join(FIXTURES, 'default.cjs');
    assert.equal(loadedExport(file, 'shout'), undefined);
    const shout = await loadExport(file, 'shout');
    assert.equal(loadedExport(file, 'shout'), shout);
    const greet = loadedExport(file, 'default');
    assert.equal(typeof greet, 'function', 'another export of a loaded module, synchronously');
    assert.equal(greet('you'), 'hello you', 'module.exports itself is the default export');
    throwsCoded(() => loadedExport(CJS, 'version'), TypeError, 'ERR_INVALID_ARG_VALUE', /'version'.*not a function/);
  });

  test('ES modules: .mjs named and default exports', async () => {
    assert.equal((await loadExport(MJS, 'shout'))('hi'), 'HI');
    assert.equal((await loadExport(MJS, 'default'))(1), 2);
    assert.equal(await (await loadExport(MJS, 'later'))(1), 2);
    assert.equal(typeof loadedExport(MJS, 'shout'), 'function');
  });

  test('a .js file under "type": "module" loads as ESM', async () => {
    assert.equal((await loadExport(PKG_JS, 'triple'))(3), 9);
    assert.equal((await loadExport(PKG_JS, 'default'))(3), -3);
  });

  test('concurrent first loads of an ES module share one import', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-modules-'));
    try {
      const file = path.join(dir, 'count.mjs');
      fs.writeFileSync(file, 'globalThis.countMjs = (globalThis.countMjs || 0) + 1;\nexport const a = () => 1;\nexport const b = () => 2;\n');
      const [a, b] = await Promise.all([loadExport(file, 'a'), loadExport(file, 'b')]);
      assert.equal(a() + b(), 3);
      assert.equal(globalThis.countMjs, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a method of an exported instance is bound to it', async () => {
    const plus = await loadExport(path.join(FIXTURES, 'instance.cjs'), 'plus');
    assert.equal(plus(5), 15);
  });

  test('not a function, missing exports and inherited names: a TypeError saying which and what', async () => {
    await assert.rejects(loadExport(CJS, 'version'), (err) => {
      assert.equal(err.constructor, TypeError);
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
      assert.equal(err.message,
        `The export 'version' of module ${CJS} is not a function: it is number 3 (the module exports: add, slowDouble, evaluations, version)`);
      return true;
    });
    await assert.rejects(loadExport(CJS, 'nope'), { code: 'ERR_INVALID_ARG_VALUE', message: /'nope'.*undefined \(no such export\)/ });
    await assert.rejects(loadExport(CJS, 'toString'), { code: 'ERR_INVALID_ARG_VALUE', message: /'toString'.*not a function/ });
    await assert.rejects(loadExport(CJS, 'default'), { code: 'ERR_INVALID_ARG_VALUE', message: /'default'.*not a function: it is \{/ });
    await assert.rejects(loadExport(MJS, 'answer'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /'answer' of module .*tasks\.mjs.*number 42.*answer, default, later, shout/ });
    await assert.rejects(loadExport(MJS, 'missing'), { code: 'ERR_INVALID_ARG_VALUE', message: /'missing'.*no such export/ });
  });

  test("a module that fails to load rejects with Node's error, and is tried again", async () => {
    const broken = path.join(FIXTURES, 'broken.cjs');
    await assert.rejects(loadExport(broken, 'x'), /broken module fixture/);
    await assert.rejects(loadExport(broken, 'x'), /broken module fixture/);
    assert.equal(loadedExport(broken, 'x'), undefined);
    await assert.rejects(loadExport(path.join(FIXTURES, 'gone.cjs'), 'x'), { code: 'MODULE_NOT_FOUND' });
    await assert.rejects(loadExport(path.join(FIXTURES, 'gone.mjs'), 'x'), { code: 'ERR_MODULE_NOT_FOUND' });
  });

  test('bad arguments reject', async () => {
    await assert.rejects(loadExport('relative.js', 'x'), { code: 'ERR_INVALID_ARG_TYPE', message: /"path"/ });
    await assert.rejects(loadExport(CJS, 1), { code: 'ERR_INVALID_ARG_TYPE', message: /"exportName"/ });
  });
});

describe('loadExport in executors', { skip, timeout: 60000 }, () => {
  let pool;
  before(() => {
    const { Tasklets } = require('../../js/pool');
    pool = new Tasklets({ workers: 2 });
  });
  after(() => pool.shutdown());

  test('tasks load CommonJS and ES module exports in their executor, once per thread', async () => {
    const modulesUrl = pathToFileURL(path.join(__dirname, '..', '..', 'js', 'module-loader.js')).href;
    const call = (file, name, args) => pool.run(async (url, f, n, a) => {
      const { loadExport: load } = (await import(url)).default;
      return (await load(f, n))(...a);
    }, { args: [modulesUrl, file, name, args] });
    const results = await Promise.all([
      call(CJS, 'add', [2, 3]),
      call(MJS, 'shout', ['x']),
      call(PKG_JS, 'triple', [2]),
      ...Array.from({ length: 8 }, () => call(CJS, 'evaluations', [])),
    ]);
    assert.deepEqual(results.slice(0, 3), [5, 'X', 6]);
    assert.deepEqual(results.slice(3), Array(8).fill(1), 'each executor evaluated the module once');
    await assert.rejects(call(CJS, 'version', []), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /'version'/ });
  });
});

describe('wrapModule', () => {
  function recorder(result) {
    const calls = [];
    return { calls, run: (spec, options) => { calls.push([spec, options]); return result(spec, options); } };
  }

  test('obj.name(...args) runs { module, export: name } with the args and the options', async () => {
    const r = recorder((spec, options) => Promise.resolve(`${spec.export}:${options.args.join(',')}`));
    const tasks = wrapModule(r.run, MJS, { priority: 'high' });
    assert.equal(await tasks.shout('a', 'b'), 'shout:a,b');
    assert.equal(await tasks.default(), 'default:');
    assert.deepEqual(r.calls, [
      [{ module: MJS, export: 'shout' }, { priority: 'high', args: ['a', 'b'] }],
      [{ module: MJS, export: 'default' }, { priority: 'high', args: [] }],
    ]);
    assert.equal(tasks.shout, tasks.shout, 'one function per name');
    assert.equal(tasks.shout.name, 'shout');
  });

  test('the promise run returns is the one the caller gets (taskId kept)', () => {
    const p = Promise.resolve(1);
    p.taskId = 9;
    const tasks = wrapModule(() => p, CJS);
    assert.equal(tasks.add(1, 2).taskId, 9);
  });

  test('a run that throws gives a rejected promise', async () => {
    const tasks = wrapModule(() => { throw new Error('sync'); }, CJS);
    await assert.rejects(tasks.add(), /sync/);
  });

  test('awaiting, inspecting and printing the proxy run nothing', async () => {
    const r = recorder(() => Promise.resolve());
    const tasks = wrapModule(r.run, pathToFileURL(CJS));
    assert.equal(await tasks, tasks, 'not a thenable');
    assert.match(require('node:util').inspect(tasks), /TaskModule .*tasks\.cjs/);
    assert.match(String(tasks), /TaskModule/);
    assert.equal(JSON.stringify({ tasks }), '{"tasks":{}}');
    assert.equal(r.calls.length, 0);
    assert.throws(() => { 'use strict'; tasks.add = 1; }, TypeError);
  });

  test('resolution errors are thrown at wrap time', () => {
    const run = () => Promise.resolve();
    throwsCoded(() => wrapModule(run, './fixtures/missing.cjs'), RangeError, 'ERR_INVALID_ARG_VALUE', /"modulePath" does not exist/);
    throwsCoded(() => wrapModule(run, 42), TypeError, 'ERR_INVALID_ARG_TYPE', /"modulePath"/);
    throwsCoded(() => wrapModule(null, CJS), TypeError, 'ERR_INVALID_ARG_TYPE', /"run"/);
    throwsCoded(() => wrapModule(run, CJS, { args: [] }), TypeError, 'ERR_INVALID_ARG_VALUE', /"options\.args"/);
    throwsCoded(() => wrapModule(run, CJS, 'high'), TypeError, 'ERR_INVALID_ARG_TYPE', /"options"/);
  });
});
