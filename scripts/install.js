'use strict';
// The npm package's install script. Almost always it only checks that the
// prebuilt binary npm picked for this machine (@tasklets/<platform>, an
// optional dependency) loads, and exits. Only when none fits, or when
// TASKLETS_BUILD_FROM_SOURCE=1 asks for it, it builds the runtime library and
// the addon from the sources in this package into ./build, as the current
// user: it never runs apt-get, never installs anything, and writes only
// inside this package folder (the private jemalloc and the temporary files
// included). When something the build needs is missing it prints one
// message naming it and the apt-get command that installs it.
// docs/building.md ("Installing from npm") describes the whole path.

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const addon = require('../js/addon');

const ROOT = path.join(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
const LOG = path.join(BUILD, 'npm-build.log');
const JEMALLOC_SOURCE = path.join(ROOT, 'vendor', 'jemalloc-5.3.0.tar.gz');
const PLATFORM = `${process.platform}-${process.arch}`;

function say(line) {
  process.stderr.write(`tasklets: ${line}\n`);
}

function fail(message) {
  process.stderr.write(`\ntasklets: ${message}\n\n`);
  process.exit(1);
}

function truthy(value) {
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

// '' when the file loads in a fresh node, else why not (in a child process,
// so a binary that crashes on load cannot take the install down with it).
function loadError(file) {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  if (r.status === 0) return '';
  return ((r.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit ${r.status}`).trim();
}

// Why no prebuilt binary serves this machine, or '' when one does.
function noPrebuiltReason() {
  if (truthy(process.env.TASKLETS_BUILD_FROM_SOURCE)) return 'TASKLETS_BUILD_FROM_SOURCE is set, so no prebuilt binary is used';
  const file = addon.prebuiltPath();
  if (file === null) return `no prebuilt binary for ${PLATFORM} (npm installed no @tasklets/${PLATFORM}-* package)`;
  const why = loadError(file);
  return why ? `the prebuilt binary ${file} does not load here (${why})` : '';
}

function onPath(name) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function commandOf(envName, fallbacks) {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv.split(' ')[0];
  return fallbacks.find(onPath) || fallbacks[0];
}

// The Node.js headers, found where node-gyp looks for an installed copy:
// npm's `nodedir`, next to the running node (official tarballs, nvm, volta,
// the node-linux-* npm packages), then the system's.
function nodeHeaders() {
  const candidates = [];
  if (process.env.npm_config_nodedir) {
    candidates.push(path.join(process.env.npm_config_nodedir, 'include', 'node'));
    candidates.push(path.join(process.env.npm_config_nodedir, 'src'));
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'include', 'node'));
  candidates.push('/usr/include/node', '/usr/local/include/node');
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')) && fs.existsSync(path.join(dir, 'v8.h'))) || null;
}

function hasHeader(relative) {
  return ['/usr/include', '/usr/local/include'].some((dir) => fs.existsSync(path.join(dir, relative)));
}

// [what is missing, the Debian package that provides it] for each missing part.
function missingTools(cxx, cc) {
  const missing = [];
  if (!onPath(cxx)) missing.push(['a C++20 compiler', 'g++']);
  if (!onPath(cc)) missing.push(['a C compiler (for jemalloc)', 'gcc']);
  if (!onPath('make')) missing.push(['make', 'make']);
  if (!onPath('meson')) missing.push(['meson', 'meson']);
  if (!onPath('ninja')) missing.push(['ninja', 'ninja-build']);
  if (!onPath('pkg-config')) missing.push(['pkg-config', 'pkg-config']);
  const hwloc = onPath('pkg-config') && spawnSync('pkg-config', ['--exists', 'hwloc >= 2.0']).status === 0;
  if (!hwloc) missing.push(['hwloc >= 2.0 with its headers', 'libhwloc-dev']);
  if (!hasHeader('concurrentqueue/concurrentqueue.h')) missing.push(['moodycamel ConcurrentQueue', 'libconcurrentqueue-dev']);
  return missing;
}

// Runs one build step with its output in build/npm-build.log; on failure
// the log's tail is the message.
function step(label, command, args, env) {
  say(label);
  const out = fs.openSync(LOG, 'a');
  const r = spawnSync(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', out] });
  fs.closeSync(out);
  if (r.status !== 0) {
    const tail = fs.readFileSync(LOG, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    fail(`the source build failed at "${label}" (full log: ${LOG}):\n${tail}`);
  }
  return String(r.stdout).trim();
}

function buildFromSource(reason) {
  const cxx = commandOf('CXX', ['c++', 'g++']);
  const cc = commandOf('CC', ['cc', 'gcc']);
  const missing = missingTools(cxx, cc);
  const headers = nodeHeaders();
  if (missing.length > 0 || headers === null) {
    const parts = missing.map(([what]) => what);
    if (headers === null) parts.push(`the headers of Node.js ${process.version}`);
    let message = `${reason}; building the addon from source needs ${parts.join(', ')}.`;
    if (missing.length > 0) {
      message += `\nInstall ${missing.length === 1 ? 'it' : 'them'} with:\n` +
        `  sudo apt-get install ${missing.map(([, pkg]) => pkg).join(' ')}`;
    }
    if (headers === null) {
      message += `\nNo node_api.h and v8.h next to ${process.execPath}, in /usr/include/node or in npm's ` +
        'nodedir: install Node.js from an official build, or `npm config set nodedir <its folder>`.';
    }
    fail(`${message}\nThen run npm install again.`);
  }
  fs.mkdirSync(path.join(BUILD, 'tmp'), { recursive: true });
  fs.writeFileSync(LOG, '');
  const env = {
    ...process.env,
    TMPDIR: path.join(BUILD, 'tmp'),
    TASKLETS_DEPS_DIR: path.join(BUILD, 'deps'),
  };
  if (fs.existsSync(JEMALLOC_SOURCE)) env.TASKLETS_JEMALLOC_TARBALL = JEMALLOC_SOURCE;
  say(`${reason}: building from source (log: ${LOG})`);
  const pcdir = step('1/3 building the private jemalloc (about 1-2 min)', 'bash', ['.ci/jemalloc.sh'], env)
    .split('\n').pop();
  env.PKG_CONFIG_PATH = pcdir + (env.PKG_CONFIG_PATH ? path.delimiter + env.PKG_CONFIG_PATH : '');
  const dir = path.join(BUILD, 'npm');
  if (!fs.existsSync(path.join(dir, 'build.ninja'))) {
    step('2/3 configuring (meson)', 'meson', ['setup', dir, '-Druntime_only=true', '-Daddon=enabled',
                                              '-Dbuildtype=release', `-Dnode_headers=${headers}`], env);
  }
  step('3/3 compiling the runtime and the addon (a few minutes)', 'meson', ['compile', '-C', dir], env);
  fs.mkdirSync(path.dirname(addon.LOCAL_BUILD), { recursive: true });
  fs.copyFileSync(path.join(dir, 'addon', 'tasklets.node'), addon.LOCAL_BUILD);
  fs.rmSync(path.join(BUILD, 'tmp'), { recursive: true, force: true });
  const why = loadError(addon.LOCAL_BUILD);
  if (why) fail(`the addon built from source does not load: ${why}`);
  say(`built ${addon.LOCAL_BUILD}`);
}

function main() {
  if (fs.existsSync(path.join(ROOT, 'tasklets.sh'))) {
    say('a checkout, not an installed package: ./tasklets.sh build builds the addon');
    return;
  }
  if (fs.existsSync(addon.LOCAL_BUILD) && loadError(addon.LOCAL_BUILD) === '') return;
  const reason = noPrebuiltReason();
  if (reason) buildFromSource(reason);
}

main();
