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
// Loading a module task's export (any thread; executors use it):
// js/module-loader.js.

const fs = require('node:fs');
const path = require('node:path');
const { createRequire, isBuiltin } = require('node:module');
const { fileURLToPath } = require('node:url');
const { inspect } = require('node:util');
const errors = require('./errors');
const { isPlainObject, checkOneOf, resolvePositiveMs } = require('./validate');
const { PRIORITY_NAMES } = require('./task-options');

const SPEC_KEYS = ['module', 'export'];
const WRAP_KEYS = ['priority', 'timeout'];
const JS_DIR = __dirname + path.sep;
const RESOLVED_CACHE_LIMIT = 1024;
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
  wrapModule,
};
