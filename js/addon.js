'use strict';
// Finds and loads the native addon, the same file in the main thread and in
// every executor (the path travels to executors in workerData).
//
// Where it looks, first match wins (docs/building.md, "How the binary is
// chosen"):
//   1. TASKLETS_ADDON, when set: that file and nothing else;
//   2. build/addon/tasklets.node of this package: a source build exists only
//      when the install script made one (no prebuilt fitted, or
//      TASKLETS_BUILD_FROM_SOURCE asked for it) or a developer built it, so
//      it is the one meant to run;
//   3. the prebuilt binary of the platform package npm installed for this
//      machine, @tasklets/<platform>-<arch>-<libc>.

const fs = require('node:fs');
const path = require('node:path');
const errors = require('./errors');

const LOCAL_BUILD = path.join(__dirname, '..', 'build', 'addon', 'tasklets.node');
const PLATFORM = `${process.platform}-${process.arch}`;
// npm installs only the package whose os/cpu/libc fields match the machine,
// so trying both libc flavours needs no libc detection here.
const PLATFORM_PACKAGES = [`@tasklets/${PLATFORM}-gnu`, `@tasklets/${PLATFORM}-musl`];

function prebuiltPath() {
  for (const name of PLATFORM_PACKAGES) {
    try {
      return path.join(path.dirname(require.resolve(`${name}/package.json`)), 'tasklets.node');
    } catch {
      // not installed for this machine: try the next flavour
    }
  }
  return null;
}

// The file load() will try: never null, so tests can name it when skipping.
function addonPath() {
  const override = process.env.TASKLETS_ADDON;
  if (override) return path.resolve(override);
  if (fs.existsSync(LOCAL_BUILD)) return LOCAL_BUILD;
  return prebuiltPath() || LOCAL_BUILD;
}

function missingReason(file) {
  if (file !== LOCAL_BUILD) return 'not found';
  return `no prebuilt binary for ${PLATFORM} (package ${PLATFORM_PACKAGES[0]} is not installed) ` +
    'and no source build; reinstall tasklets on a machine with a C++ compiler, meson and ' +
    'ninja: its install script builds from source and names any missing package';
}

let loaded = null;

// Every function js/ calls on the addon (addon/exports.h).
const EXPORTS = [
  'attach', 'cancel', 'cancelRange', 'createPool', 'detach', 'finishAsync', 'functionSource', 'registerFunction',
  'releaseFunctions', 'resize', 'runBatch', 'setKeepAlive', 'shutdown', 'slotFailed', 'stats', 'submit', 'submitOne',
  'taskSlot', 'trimMemory',
];

// The main-thread calls whose refusals users meet, and what a shut-down
// pool refused. The addon reports a refusal as a code and facts; the words
// are js/errors.js's, whichever side saw it first.
const WORDED = {
  submit: 'The pool is shut down and accepts no new tasks',
  submitOne: 'The pool is shut down and accepts no new tasks',
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
    const notFound = err && err.code === 'MODULE_NOT_FOUND';
    const e = errors.notBuilt(file, notFound ? missingReason(file) : String(err && err.message));
    e.cause = err;
    throw e;
  }
  // A binary of another version (a stale build, a platform package that
  // does not match the main one) fails here, not at its first missing call.
  const missing = EXPORTS.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0) {
    throw errors.notBuilt(file, `it is a build of another version of tasklets (it lacks ${missing.join(', ')}); ` +
      'install matching versions of tasklets and its platform package, or rebuild');
  }
  loaded = { file, addon: worded(addon) };
  return loaded.addon;
}

module.exports = { load, addonPath, prebuiltPath, LOCAL_BUILD };
