'use strict';
// Finds and loads the native addon, the same file in the main thread and in
// every executor (the path travels to executors in workerData).

const path = require('node:path');
const errors = require('./errors');

const DEFAULT_PATH = path.join(__dirname, '..', 'build', 'addon', 'tasklets.node');

function addonPath() {
  const override = process.env.TASKLETS_ADDON;
  return override ? path.resolve(override) : DEFAULT_PATH;
}

let loaded = null;

// The main-thread calls whose refusals users meet, and what a shut-down
// pool refused. The addon reports a refusal as a code and facts; the words
// are js/errors.js's, whichever side saw it first.
const WORDED = {
  submit: 'The pool is shut down and accepts no new tasks',
  registerFunction: 'The pool is shut down and accepts no new tasks',
  resize: 'The pool is shut down; its configuration cannot change',
  cancel: 'The pool is shut down',
  cancelRange: 'The pool is shut down',
  stats: 'The pool is shut down',
};

function worded(native) {
  const addon = { ...native };
  for (const [name, shutDown] of Object.entries(WORDED)) {
    const fn = native[name];
    addon[name] = (...args) => {
      try {
        return Reflect.apply(fn, native, args);
      } catch (err) {
        throw errors.fromNative(err, shutDown);
      }
    };
  }
  return addon;
}

// Loads once per thread; throws ERR_TASKLETS_NOT_BUILT when the file is
// missing or does not load (the loader's message is kept as the cause).
function load(file = addonPath()) {
  if (loaded !== null && loaded.file === file) return loaded.addon;
  let addon;
  try {
    addon = require(file);
  } catch (err) {
    const e = errors.notBuilt(file, err && err.code === 'MODULE_NOT_FOUND' ? 'not found' : String(err && err.message));
    e.cause = err;
    throw e;
  }
  loaded = { file, addon: worded(addon) };
  return loaded.addon;
}

module.exports = { load, addonPath };
