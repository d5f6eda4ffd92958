'use strict';
// Tasks given as a module and an export name: { module, export }.
//
// A function passed to run() travels as source text, so it cannot take its
// closure or its imports along to the executor. Real services keep task code
// in files instead; a task may then be named by where it lives:
//
//   { module: '/abs/tasks.js' | 'file:///abs/tasks.mjs' | new URL(...) | './tasks.js' | 'some-package',
//     export: 'resize' }                    (export defaults to 'default')
//
// Main thread:
//   resolveModuleTask(spec, callerFile, label) -> { path, exportName, key }
//       validates the spec and finds the file (absolute and real: symlinks
//       resolved). Absolute paths and file: URLs are taken as they are;
//       relative paths ('./x.js', '../x.js') are relative to the file of the
//       caller (never to the working directory), taken literally as ESM does
//       (no extension or index.js probing); bare names ('lodash',
//       'pkg/sub.js') resolve like require.resolve from the caller's
//       directory (from the working directory when the caller is unknown).
//       `callerFile` is a path, a file: URL, null, or a function returning
//       one of those, called only when the spec needs it (a relative path or
//       a package name), so that the stack is not captured for absolute
//       paths. `key` ('module:<path>#<export>') names the task canonically.
//       Throws ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE naming
//       `<label>`, `<label>.module`, `<label>.export`. A successful
//       resolution is remembered (a bounded cache): a file removed later is
//       reported by the executor that fails to load it.
//   callerFile(skip = 0) -> the file of the innermost stack frame that is
//       neither in this package's js/ directory nor Node's own, after
//       skipping `skip` more such frames (a library wrapping tasklets passes
//       1 to name its own caller); null when there is none (e.g. eval).
//   wrapModule(run, modulePath, options) -> a Proxy: `obj.name(...args)`
//       returns run({ module: <path>, export: 'name' }, { args, ...options }).
//
// Executor side (also usable on the main thread, which is how it is tested):
//   loadExport(path, exportName) -> Promise<function>
//   loadedExport(path, exportName) -> function | undefined (not loaded yet)
//       A module is loaded once per thread: CommonJS with require; ESM
//       (.mjs, or .js under a package.json with "type": "module", or when
//       require refuses the file with ERR_REQUIRE_ESM) with import(). A
//       failed load is not remembered: the next task tries again, and gets
//       Node's own error (MODULE_NOT_FOUND, a SyntaxError ...) as its error.
//       The export must be a function, else a TypeError with code
//       ERR_INVALID_ARG_VALUE saying which export of which module it is, what
//       it is instead, and which exports the module has.
//
// Which export: ESM -> the namespace's binding ('default' is the default
// export). CommonJS -> module.exports[name]; 'default' is module.exports
// itself when that is a function, else module.exports.default when there is
// one (transpiled ESM), else module.exports (then "not a function").
// Properties inherited from Object.prototype or Function.prototype ('toString',
// 'call' ...) are never exports. A method found on the prototype of an
// exported instance (module.exports = new Service()) is bound to it, since
// such methods use `this`; own properties are called as they are.

const fs = require('node:fs');
const path = require('node:path');
const { createRequire, isBuiltin } = require('node:module');
const { pathToFileURL, fileURLToPath } = require('node:url');
const { inspect } = require('node:util');
const errors = require('./errors');
const { isPlainObject, checkOneOf, resolvePositiveMs } = require('./validate');
const { PRIORITY_NAMES } = require('./task-options');

const SPEC_KEYS = ['module', 'export'];
const WRAP_KEYS = ['priority', 'timeout'];
const JS_DIR = __dirname + path.sep;
const RESOLVED_CACHE_LIMIT = 1024;
const MAX_LISTED_EXPORTS = 20;
// Names a Proxy from wrapModule does not turn into tasks: what `await`,
// JSON.stringify, inspection and string conversion look up on any object.
const RESERVED = new Set(['then', 'toJSON', 'constructor', 'toString', 'valueOf']);

function badValue(message, cause) {
  const err = new RangeError(message);
  err.code = 'ERR_INVALID_ARG_VALUE';
  if (cause !== undefined) err.cause = cause;
  return err;
}

// ---------------------------------------------------------------------------
// Resolution (main thread)

const resolved = new Map();   // cache key -> absolute real path

function remember(key, file) {
  if (resolved.size >= RESOLVED_CACHE_LIMIT) resolved.clear();
  resolved.set(key, file);
}

function isRelative(text) {
  return text === '.' || text === '..' || text.startsWith('./') || text.startsWith('../') ||
    (path.sep === '\\' && (text.startsWith('.\\') || text.startsWith('..\\')));
}

const SCHEME = /^[a-zA-Z][a-zA-Z\d+.-]*:/;

// A caller given as path, file: URL string or URL (or a function returning
// one) -> an absolute path, or null.
function callerPath(caller) {
  let value = typeof caller === 'function' ? caller() : caller;
  if (value === null || value === undefined) return null;
  if (value instanceof URL) value = value.href;
  if (typeof value !== 'string' || value.length === 0) return null;
  if (value.startsWith('file:')) {
    try {
      return fileURLToPath(value);
    } catch {
      return null;
    }
  }
  return path.isAbsolute(value) ? value : null;
}

// The file must exist and be a file; -> its real path.
function existingFile(candidate, name, how) {
  let stat;
  try {
    stat = fs.statSync(candidate, { throwIfNoEntry: false });
  } catch (err) {
    throw badValue(`Cannot use the module of "${name}": ${candidate}${how}: ${err.message}`, err);
  }
  if (stat === undefined) throw badValue(`The module of "${name}" does not exist: ${candidate}${how}`);
  if (!stat.isFile()) throw badValue(`The module of "${name}" is not a file: ${candidate}${how}`);
  return fs.realpathSync(candidate);
}

// A module specifier -> the absolute real path of its file. `name` names the
// value in errors.
function resolveModulePath(specifier, caller, name) {
  let text = specifier;
  if (specifier instanceof URL) text = specifier.href;
  else if (typeof specifier !== 'string') {
    throw errors.optionType(name, 'a file path, a file: URL or a package name', specifier);
  }
  if (text.length === 0 || text.includes('\0')) {
    throw errors.optionRange(name, 'a file path, a file: URL or a package name', specifier);
  }

  if (path.isAbsolute(text) || text.startsWith('file:')) {
    const hit = resolved.get(text);
    if (hit !== undefined) return hit;
    let candidate;
    if (text.startsWith('file:')) {
      try {
        candidate = fileURLToPath(text);
      } catch (err) {
        throw badValue(`The "${name}" value ${JSON.stringify(text)} is not a valid file: URL: ${err.message}`, err);
      }
    } else {
      candidate = path.resolve(text);
    }
    const file = existingFile(candidate, name, '');
    remember(text, file);
    return file;
  }

  if (SCHEME.test(text) || isBuiltin(text)) {
    throw badValue(`The "${name}" value ${JSON.stringify(text)} is not supported: a task module must be a file ` +
      '(an absolute path, a file: URL, a path relative to the calling file, or an installed package), not a Node builtin or another kind of URL.');
  }

  const from = callerPath(caller);
  if (isRelative(text)) {
    if (from === null) {
      throw badValue(`The "${name}" value ${JSON.stringify(text)} is a relative path, but the file that called tasklets is not known, ` +
        `so it cannot be resolved. Pass an absolute path instead: require.resolve(${JSON.stringify(text)}) in CommonJS, ` +
        `or new URL(${JSON.stringify(text)}, import.meta.url) in an ES module.`);
    }
    const dir = path.dirname(from);
    const key = `${dir}\0${text}`;
    const hit = resolved.get(key);
    if (hit !== undefined) return hit;
    const file = existingFile(path.resolve(dir, text), name, ` (${JSON.stringify(text)} relative to ${from})`);
    remember(key, file);
    return file;
  }

  // A package name, resolved as require.resolve would from the caller.
  const base = from === null ? path.join(process.cwd(), '[tasklets]') : from;
  const key = `${path.dirname(base)}\0${text}`;
  const hit = resolved.get(key);
  if (hit !== undefined) return hit;
  let candidate;
  try {
    candidate = createRequire(base).resolve(text);
  } catch (err) {
    throw badValue(`The "${name}" value ${JSON.stringify(text)} was taken as a package name and cannot be found from ` +
      `${path.dirname(base)}: ${err.message.split('\n')[0]}`, err);
  }
  const file = existingFile(candidate, name, ` (package ${JSON.stringify(text)})`);
  remember(key, file);
  return file;
}

function moduleKey(file, exportName) {
  return `module:${file}#${exportName}`;
}

function resolveModuleTask(spec, caller, label = 'task') {
  if (!isPlainObject(spec)) throw errors.argType(label, 'an object { module, export }', spec);
  for (const key of Object.keys(spec)) if (!SPEC_KEYS.includes(key)) throw errors.unknownOption(`${label}.${key}`, SPEC_KEYS);
  let exportName = spec.export;
  if (exportName === undefined) {
    exportName = 'default';
  } else if (typeof exportName !== 'string') {
    throw errors.optionType(`${label}.export`, 'the name of an export (a string)', exportName);
  } else if (exportName.length === 0) {
    throw errors.optionRange(`${label}.export`, 'the name of an export (a non-empty string)', exportName);
  }
  if (spec.module === undefined) throw errors.optionType(`${label}.module`, 'a file path, a file: URL or a package name', undefined);
  const file = resolveModulePath(spec.module, caller, `${label}.module`);
  return { path: file, exportName, key: moduleKey(file, exportName) };
}

// ---------------------------------------------------------------------------
// The caller's file

function stackSites() {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 64;
    Error.prepareStackTrace = (_, sites) => sites;
    const holder = {};
    Error.captureStackTrace(holder, stackSites);
    const sites = holder.stack;   // formatted now, with the function above
    return Array.isArray(sites) ? sites : [];
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}

function callerFile(skip = 0) {
  if (!Number.isInteger(skip) || skip < 0) throw errors.argType('skip', 'a non-negative integer', skip);
  let toSkip = skip;
  for (const site of stackSites()) {
    let file;
    try {
      file = site.getFileName();
    } catch {
      continue;
    }
    if (typeof file !== 'string' || file.length === 0 || file.startsWith('node:')) continue;
    if (file.startsWith('file:')) {
      try {
        file = fileURLToPath(file);
      } catch {
        continue;
      }
    }
    if (!path.isAbsolute(file) || file.startsWith(JS_DIR)) continue;
    if (toSkip > 0) {
      toSkip--;
      continue;
    }
    return file;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Loading (any thread)

const modules = new Map();     // path -> { exports, esm }
const loading = new Map();     // path -> Promise of the record, while loading
const exported = new Map();    // path -> Map(export name -> function)
const packageTypes = new Map(); // directory -> 'module' | 'commonjs'

// The "type" of the package.json nearest to `dir` (Node's package scope:
// the search stops at a node_modules directory).
function packageType(dir) {
  const cached = packageTypes.get(dir);
  if (cached !== undefined) return cached;
  let type = 'commonjs';
  let text = null;
  try {
    text = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
  } catch {
    // No package.json here.
  }
  if (text !== null) {
    try {
      if (JSON.parse(text).type === 'module') type = 'module';
    } catch {
      // Unparsable: require or import will say so.
    }
  } else {
    const parent = path.dirname(dir);
    if (parent !== dir && path.basename(dir) !== 'node_modules') type = packageType(parent);
  }
  packageTypes.set(dir, type);
  return type;
}

function isEsm(file) {
  const ext = path.extname(file);
  if (ext === '.mjs') return true;
  if (ext === '.js') return packageType(path.dirname(file)) === 'module';
  return false;
}

function importModule(file) {
  return import(pathToFileURL(file).href).then((namespace) => ({ exports: namespace, esm: true }));
}

// -> a Promise of { exports, esm }. CommonJS loads synchronously (so the
// record is there before the promise settles).
function loadModule(file) {
  const record = modules.get(file);
  if (record !== undefined) return Promise.resolve(record);
  let pending = loading.get(file);
  if (pending !== undefined) return pending;
  if (!isEsm(file)) {
    try {
      const loaded = { exports: require(file), esm: false };
      modules.set(file, loaded);
      return Promise.resolve(loaded);
    } catch (err) {
      if (err === null || typeof err !== 'object' || (err.code !== 'ERR_REQUIRE_ESM' && err.code !== 'ERR_REQUIRE_ASYNC_MODULE')) {
        return Promise.reject(err);
      }
    }
  }
  pending = importModule(file).then((loaded) => {
    loading.delete(file);
    modules.set(file, loaded);
    return loaded;
  }, (err) => {
    loading.delete(file);
    throw err;
  });
  loading.set(file, pending);
  return pending;
}

const INHERITED = (name) => name in Object.prototype || name in Function.prototype;

// record, name -> { value, holder } (holder: the object to bind to, or null).
function lookup(record, name) {
  const target = record.exports;
  if (record.esm) return { value: target[name], holder: null };
  if (name === 'default') {
    if (typeof target === 'function') return { value: target, holder: null };
    if (target !== null && typeof target === 'object' && 'default' in target) return { value: target.default, holder: null };
    return { value: target, holder: null };
  }
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return { value: undefined, holder: null };
  if (Object.prototype.hasOwnProperty.call(target, name)) return { value: target[name], holder: null };
  if (INHERITED(name)) return { value: undefined, holder: null };
  return { value: target[name], holder: target };
}

function exportNames(record) {
  const target = record.exports;
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return [];
  const names = Object.keys(target);
  if (!record.esm && typeof target === 'function') names.unshift('default');
  return names;
}

function describe(value) {
  if (value === undefined) return 'undefined (no such export)';
  if (value === null) return 'null';
  const type = typeof value;
  let shown = inspect(value, { depth: 0, breakLength: Infinity });
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return type === 'object' ? shown : `${type} ${shown}`;
}

function notAFunction(file, exportName, value, record) {
  const names = exportNames(record);
  const listed = names.length > MAX_LISTED_EXPORTS ? `${names.slice(0, MAX_LISTED_EXPORTS).join(', ')}, ...` : names.join(', ');
  const err = new TypeError(`The export '${exportName}' of module ${file} is not a function: it is ${describe(value)}` +
    ` (the module exports: ${listed || 'nothing'})`);
  err.code = 'ERR_INVALID_ARG_VALUE';
  err.module = file;
  err.export = exportName;
  return err;
}

// The export as a function, remembered; throws when it is not one.
function exportOf(record, file, exportName) {
  const { value, holder } = lookup(record, exportName);
  if (typeof value !== 'function') throw notAFunction(file, exportName, value, record);
  const fn = holder === null ? value : value.bind(holder);
  let byName = exported.get(file);
  if (byName === undefined) {
    byName = new Map();
    exported.set(file, byName);
  }
  byName.set(exportName, fn);
  return fn;
}

// The export when its module is already loaded in this thread, else
// undefined. Throws (synchronously) when the module is loaded but the export
// is not a function.
function loadedExport(file, exportName) {
  const byName = exported.get(file);
  if (byName !== undefined) {
    const fn = byName.get(exportName);
    if (fn !== undefined) return fn;
  }
  const record = modules.get(file);
  if (record === undefined) return undefined;
  return exportOf(record, file, exportName);
}

function loadExport(file, exportName) {
  try {
    if (typeof file !== 'string' || !path.isAbsolute(file)) throw errors.argType('path', 'an absolute path', file);
    if (typeof exportName !== 'string') throw errors.argType('exportName', 'a string', exportName);
    const fn = loadedExport(file, exportName);
    if (fn !== undefined) return Promise.resolve(fn);
  } catch (err) {
    return Promise.reject(err);
  }
  return loadModule(file).then((record) => exportOf(record, file, exportName));
}

// ---------------------------------------------------------------------------
// wrapModule
//
// A Proxy rather than an object built from the module's export names: to know
// the names, the main thread would have to load the module, running its
// top-level code (and loading its dependencies, maybe native ones) in the
// thread that should stay free, only to read a list. The Proxy loads nothing;
// the price is that it cannot list the exports (Object.keys is empty, `in`
// is false) and that an unknown name fails when called (the executor reports
// "not a function"), and that the names in RESERVED are not tasks (use
// run({ module, export }) for an export with one of those names).

function wrapModule(run, modulePath, options) {
  if (typeof run !== 'function') throw errors.argType('run', 'a function', run);
  if (typeof modulePath !== 'string' && !(modulePath instanceof URL)) {
    throw errors.argType('modulePath', 'a file path, a file: URL or a package name', modulePath);
  }
  const taskOptions = {};
  if (options !== undefined && options !== null) {
    if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
    for (const key of Object.keys(options)) if (!WRAP_KEYS.includes(key)) throw errors.unknownOption(`options.${key}`, WRAP_KEYS);
    // The form is checked here, once, so that a bad option fails the
    // module() call and not every later call of its functions (whether the
    // pool allows per-task timeouts is run()'s to say).
    if (options.priority !== undefined) taskOptions.priority = checkOneOf('options.priority', options.priority, PRIORITY_NAMES);
    if (options.timeout !== undefined) taskOptions.timeout = resolvePositiveMs('options.timeout', options.timeout);
  }
  const file = resolveModulePath(modulePath, () => callerFile(), 'modulePath');
  const functions = new Map();
  const describeSelf = () => `[TaskModule ${file}]`;

  function taskFunction(exportName) {
    const spec = { module: file, export: exportName };
    const fn = {
      [exportName](...args) {
        try {
          return Promise.resolve(run({ ...spec }, { ...taskOptions, args }));
        } catch (err) {
          return Promise.reject(err);
        }
      },
    }[exportName];
    return fn;
  }

  // util.inspect looks at a Proxy's target, not through its traps: the
  // description lives on the target.
  const target = Object.create(null);
  Object.defineProperty(target, inspect.custom, { value: describeSelf });
  Object.defineProperty(target, Symbol.toStringTag, { value: 'TaskModule' });
  return new Proxy(target, {
    get(_, prop) {
      if (typeof prop !== 'string') return target[prop];
      if (RESERVED.has(prop)) return prop === 'toString' ? describeSelf : undefined;
      let fn = functions.get(prop);
      if (fn === undefined) {
        fn = taskFunction(prop);
        functions.set(prop, fn);
      }
      return fn;
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

module.exports = {
  resolveModuleTask,
  resolveModulePath,
  moduleKey,
  callerFile,
  loadExport,
  loadedExport,
  wrapModule,
};
