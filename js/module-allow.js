'use strict';
// The module allowlist (option `modules: { allow }`, docs/security.md) and
// the registered "source" of a module task, which carries it to executors.
//
// An allow entry is an absolute path or a file: URL (string or URL) of an
// existing directory or file, taken by its real path when the option is
// given: a directory allows every file below it (its real path followed by
// a separator, so '/srv/tasks' never allows '/srv/tasks-evil/x.js'), a file
// allows itself. A module task is allowed when the real path of its file
// (symlinks, '..' and URLs resolved) is one of those. Relative entries are
// refused: they would mean whatever the working directory is at the time.
//
// The check runs twice: on the main thread before a task is submitted
// (on the path js/modules.js resolved, which it caches), and in the executor
// before it loads the file, on the real path taken again then, so that a
// symlink swapped after the first check does not lead outside. Both throw
// ERR_MODULE_NOT_ALLOWED. Only the task's own file is checked: what that
// file imports or requires is not.

const fs = require('node:fs');
const path = require('node:path');
const { fileURLToPath } = require('node:url');
const errors = require('./errors');
const { isPlainObject, rejectUnknownKeys } = require('./validate');

const MODULES_KEYS = ['allow'];
// A module task's registered source: this prefix, then JSON [path,
// exportName, allow]. Never a valid expression, so it cannot be mistaken for
// a function's source.
const MODULE_MARKER = '\u0000module:';
const EXPECTED = 'an array of absolute paths or file: URLs of existing directories or files';

// One allow entry -> its real path, with a trailing separator for a directory.
function allowEntry(entry, name) {
  let text = entry;
  if (entry instanceof URL) text = entry.href;
  if (typeof text !== 'string') throw errors.optionType(name, 'an absolute path or a file: URL', entry);
  let candidate;
  if (text.startsWith('file:')) {
    try {
      candidate = fileURLToPath(text);
    } catch (err) {
      throw errors.optionRange(name, `a valid file: URL (${err.message})`, entry);
    }
  } else if (text.length > 0 && !text.includes('\0') && path.isAbsolute(text)) {
    candidate = text;
  } else {
    throw errors.optionRange(name, 'an absolute path or a file: URL (relative paths depend on the working directory)', entry);
  }
  let real;
  let stat;
  try {
    real = fs.realpathSync(candidate);
    stat = fs.statSync(real);
  } catch (err) {
    throw errors.optionRange(name, `an existing directory or file (${err.code || err.message})`, entry);
  }
  if (stat.isDirectory()) return real.endsWith(path.sep) ? real : real + path.sep;
  if (stat.isFile()) return real;
  throw errors.optionRange(name, 'a directory or a regular file', entry);
}

// The `modules` option -> { allow: null (no restriction) | [real paths] }.
function resolveModules(value) {
  if (!isPlainObject(value)) throw errors.optionType('modules', 'an object { allow }', value);
  rejectUnknownKeys(value, MODULES_KEYS, 'modules.');
  // Own property only: a polluted Object.prototype.allow must not widen or
  // lift the allowlist.
  const allow = Object.hasOwn(value, 'allow') ? value.allow : undefined;
  if (allow === undefined || allow === null) return { allow: null };
  if (!Array.isArray(allow)) throw errors.optionType('modules.allow', EXPECTED, allow);
  const out = [];
  for (let i = 0; i < allow.length; i++) {
    const entry = allowEntry(allow[i], `modules.allow[${i}]`);
    if (!out.includes(entry)) out.push(entry);
  }
  return { allow: out };
}

function isAllowed(realFile, allow) {
  for (const entry of allow) {
    if (entry.endsWith(path.sep) ? realFile.startsWith(entry) : realFile === entry) return true;
  }
  return false;
}

// `file` must be a real path (js/modules.js resolves it so).
function checkAllowed(file, allow) {
  if (allow !== null && !isAllowed(file, allow)) throw errors.moduleNotAllowed(file, allow);
}

// Executor side: the file's real path now, which must still be allowed.
function checkAllowedNow(file, allow) {
  if (allow === null) return;
  let real;
  try {
    real = fs.realpathSync(file);
  } catch {
    // Gone or unreadable: loading it reports Node's own error.
    return;
  }
  if (!isAllowed(real, allow)) throw errors.moduleNotAllowed(real, allow);
}

function moduleTaskSource(file, exportName, allow) {
  return MODULE_MARKER + JSON.stringify([file, exportName, allow]);
}

// A registered source -> { file, exportName, allow }, or null for a function's.
function parseModuleTaskSource(source) {
  if (!source.startsWith(MODULE_MARKER)) return null;
  const [file, exportName, allow] = JSON.parse(source.slice(MODULE_MARKER.length));
  return { file, exportName, allow };
}

module.exports = { resolveModules, checkAllowed, checkAllowedNow, moduleTaskSource, parseModuleTaskSource };
