#!/usr/bin/env node
'use strict';
// Instructions per task on the hot paths, counted by valgrind's callgrind,
// against the baseline committed in perf/instructions-baseline.json.
// Wall-clock figures on a shared 2-core machine move by 2-3x from day to
// day; the instruction count of the same code moves by well under 1%, so a
// change that makes a hot path do more work shows here and nowhere else.
//
//   node perf/instructions.js            print the counts and the baseline's
//   node perf/instructions.js --check    exit 1 if a count grew more than the tolerance
//   node perf/instructions.js --update   write the counts as the new baseline
//   [--build DIR]                        the meson build directory (default: build)
//
// Updating the baseline is a deliberate act: commit the new
// perf/instructions-baseline.json on its own, with the reason in the commit
// message (`./tasklets.sh perf-baseline` rebuilds and rewrites it).
//
// Each program runs once under callgrind; a count is the inclusive cost of
// one function (its own instructions and everything it calls) divided by the
// tasks the program ran, minus the calls into JavaScript it makes (their
// cost depends on when V8 optimizes the callback, not on this code), and
// minus the waking of a parked worker after a push (WAKE): whether a submit
// finds its worker parked depends on timing, and under callgrind, which runs
// one thread at a time, on how many instructions the other threads run
// (merging unrelated executor-side JavaScript moved addon.submit_one by 16%
// through this alone). In these programs only the submitting thread pushes,
// so the profile's whole WAKE cost is the submits'. The wake protocol's cost
// is measured where it is deterministic: test_sleep and the wake-to-run
// benchmark.

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { execFileSync, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const BASELINE = path.join(__dirname, 'instructions-baseline.json');
// How much a count may grow before --check fails. The C++ counts repeat
// within 0.3%; the addon's within about 2%, because whether a submit finds
// its executor parked (and wakes it) or still polling depends on timing.
const TOLERANCE = { core: 0.03, addon: 0.05 };
const SHRINK_NOTE = 0.10;        // a count this much below the baseline: say the baseline could be updated
const JS_CALL = /^napi_call_function('\d+)?$/;
const WAKE = /^tasklets::Scheduler::wake_after_push\(/;

// One program run under callgrind, and the counts read from its profile.
// `fn`: the function, matched against its name without the file prefix.
const RUNS = [
  {
    id: 'core-single',
    command: (build) => [path.join(build, 'perf', 'instructions_core'), 'single', '20000'],
    tasks: 20000,
    counts: {
      'core.submit': { fn: /^\(anonymous namespace\)::measured_submit\(/, withoutWake: true, what: 'Pool::submit of one task (acquire, construct, enqueue; not the wake)' },
      'core.execute': { fn: /^tasklets::Scheduler::execute\(/, what: 'the worker runs it: claim, run, publish, complete, release' },
    },
  },
  {
    id: 'core-bulk',
    command: (build) => [path.join(build, 'perf', 'instructions_core'), 'bulk', '204800'],
    tasks: 204800,
    counts: {
      'core.post_batch': { fn: /^\(anonymous namespace\)::measured_post_batch\(/, what: 'Pool::post_batch, per callable' },
      'core.execute_batch': { fn: /^tasklets::Scheduler::execute\(/, what: 'running the segments, per callable' },
    },
  },
  {
    id: 'addon-round-trip',
    command: () => [process.execPath, '--max-semi-space-size=64', path.join(__dirname, 'instructions-node.js'), 'round-trip', '1000'],
    tasks: 1000,
    counts: {
      'addon.submit_one': { fn: /^tasklets_addon::submit_one\(/, withoutWake: true, what: 'addon submitOne: one task with packed arguments (main thread; not the wake)' },
      'addon.deliver': { fn: /^tasklets_addon::deliver_completions\(/, exclude: JS_CALL, what: 'delivering one completion (main thread, without the JS callback)' },
      'addon.finish': { fn: /^tasklets::AttachedWorker::finish\(tasklets::detail::TaskBase\*, tasklets::TaskStatus, unsigned long, long\)/, what: 'an executor settles a task and asks for delivery' },
    },
  },
  {
    id: 'addon-bulk',
    command: () => [process.execPath, '--max-semi-space-size=64', path.join(__dirname, 'instructions-node.js'), 'bulk', '8192'],
    tasks: 8192,
    counts: {
      'addon.submit_bulk': { fn: /^tasklets_addon::submit\(/, what: 'addon submit of runAll batches (4,096 tasks a call), per task' },
    },
  },
];

function parseArgs(argv) {
  const opts = { mode: 'print', build: path.join(ROOT, 'build') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.mode = 'check';
    else if (a === '--update') opts.mode = 'update';
    else if (a === '--build' && i + 1 < argv.length) opts.build = path.resolve(argv[++i]);
    else throw new Error(`unknown argument '${a}' (usage: node perf/instructions.js [--check | --update] [--build DIR])`);
  }
  return opts;
}

function requireTool(name) {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error) throw new Error(`${name} is not installed (Debian: apt-get install valgrind)`);
}

// callgrind_annotate's caller/callee tree: for each function, its inclusive
// cost and the inclusive cost of each function it calls.
function parseTree(text) {
  const functions = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+([*<>])\s+(.*)$/.exec(line);
    if (m === null) {
      if (line.trim() === '') current = null;
      continue;
    }
    const cost = Number(m[1].replace(/,/g, ''));
    const name = m[3].replace(/ \(\d[\d,]*x\)/, '').replace(/ \[[^\]]*\]$/, '').replace(/^[^:]*:/, '');
    if (m[2] === '*') {
      current = { name, cost, callees: [] };
      if (!functions.has(name)) functions.set(name, current);
    } else if (m[2] === '>' && current !== null) {
      current.callees.push({ name, cost });
    }
  }
  return functions;
}

function profile(run, build) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-instructions-'));
  const out = path.join(dir, 'callgrind.out');
  try {
    const [cmd, ...args] = run.command(build);
    if (!fs.existsSync(cmd)) throw new Error(`${cmd} is not built (meson compile -C ${path.relative(ROOT, build)})`);
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, cmd, ...args], {
      encoding: 'utf8',
      // hwloc's x86 backend cannot read CPUID under valgrind and says so.
      env: { ...process.env, HWLOC_COMPONENTS: '-x86' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`${run.id}: ${cmd} ${args.join(' ')} failed under valgrind:\n${r.stdout}${r.stderr}`);
    const tree = execFileSync('callgrind_annotate', ['--tree=calling', '--inclusive=yes', '--threshold=100', out], {
      encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
    });
    return parseTree(tree);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function count(functions, spec, runId, key) {
  const found = [...functions.values()].filter((f) => spec.fn.test(f.name));
  if (found.length !== 1) {
    throw new Error(`${key}: ${found.length === 0 ? 'no' : 'more than one'} function matching ${spec.fn} in the ${runId} profile ` +
      '(a renamed or inlined function: update RUNS in perf/instructions.js)');
  }
  const f = found[0];
  let excluded = spec.exclude === undefined ? 0 : f.callees.filter((c) => spec.exclude.test(c.name)).reduce((s, c) => s + c.cost, 0);
  if (spec.withoutWake) {
    // Absent when no submit found a worker to wake (or it was inlined).
    for (const g of functions.values()) if (WAKE.test(g.name)) excluded += g.cost;
  }
  return f.cost - excluded;
}

function measure(build) {
  requireTool('valgrind');
  const counts = {};
  for (const run of RUNS) {
    const functions = profile(run, build);
    for (const [key, spec] of Object.entries(run.counts)) counts[key] = Math.round((10 * count(functions, spec, run.id, key)) / run.tasks) / 10;
  }
  return counts;
}

function describe(key) {
  for (const run of RUNS) if (run.counts[key] !== undefined) return run.counts[key].what;
  return '';
}

// The addon's counts include Node-API's own code: they compare only with a
// baseline taken on the same Node major.
function comparable(key, baseline) {
  return !key.startsWith('addon.') || nodeMajor(baseline.node) === nodeMajor(process.version);
}

function nodeMajor(version) {
  return Number(/^v(\d+)/.exec(String(version))?.[1]);
}

function toleranceOf(key) {
  return TOLERANCE[key.split('.')[0]];
}

function compare(counts, baseline) {
  const rows = [];
  let grown = 0;
  for (const [key, value] of Object.entries(counts)) {
    const tolerance = toleranceOf(key);
    const base = baseline === null ? undefined : baseline.counts[key];
    let verdict = 'no baseline';
    if (base !== undefined && !comparable(key, baseline)) {
      verdict = `not compared (baseline from Node ${baseline.node})`;
    } else if (base !== undefined) {
      const ratio = value / base;
      verdict = `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
      if (ratio > 1 + tolerance) {
        verdict += `  GREW more than ${tolerance * 100}%`;
        grown++;
      } else if (ratio < 1 - SHRINK_NOTE) {
        verdict += '  (fewer: the baseline may be updated)';
      }
    } else if (baseline !== null) {
      grown++;
    }
    rows.push(`${key.padEnd(20)} ${String(value).padStart(8)} ${String(base === undefined ? '-' : base).padStart(8)}  ${verdict.padEnd(16)}  ${describe(key)}`);
  }
  return { rows, grown };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const counts = measure(opts.build);
  if (opts.mode === 'update') {
    const data = {
      about: 'Instructions per task on the hot paths (valgrind --tool=callgrind), checked by ./tasklets.sh test (node perf/instructions.js --check). ' +
        'Regenerate with ./tasklets.sh perf-baseline and commit this file alone, saying why the counts changed.',
      tolerance: TOLERANCE,
      node: process.version,
      counts,
    };
    fs.writeFileSync(BASELINE, `${JSON.stringify(data, null, 2)}\n`);
    process.stdout.write(`wrote ${path.relative(ROOT, BASELINE)}\n`);
  }
  const baseline = fs.existsSync(BASELINE) ? JSON.parse(fs.readFileSync(BASELINE, 'utf8')) : null;
  const { rows, grown } = compare(counts, baseline);
  process.stdout.write(`${'count'.padEnd(20)} ${'now'.padStart(8)} ${'baseline'.padStart(8)}  change\n${rows.join('\n')}\n`);
  if (opts.mode === 'check' && (baseline === null || grown > 0)) {
    process.stdout.write(baseline === null
      ? `no baseline: run node perf/instructions.js --update and commit ${path.relative(ROOT, BASELINE)}\n`
      : `${grown} count(s) grew past the baseline (C++ +${TOLERANCE.core * 100}%, addon +${TOLERANCE.addon * 100}%). If the extra work is intended, update the ` +
        'baseline deliberately: ./tasklets.sh perf-baseline, then commit perf/instructions-baseline.json alone with the reason.\n');
    process.exitCode = 1;
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  }
}

module.exports = { parseTree, compare, TOLERANCE };
