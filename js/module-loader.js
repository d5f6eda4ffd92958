'use strict';
// Loading the export a module task names (js/modules.js resolves the file
// on the main thread; executors load it here, once per thread).
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
const { createRequire } = require('node:module');
const { pathToFileURL } = require('node:url');
const { inspect } = require('node:util');
const errors = require('./errors');

const MAX_LISTED_EXPORTS = 20;  // exports named in a "not a function" error

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

module.exports = { loadExport, loadedExport };
