#!/usr/bin/env node
'use strict';
// The perf lab (issue 5): tasklets side by side with piscina, poolifier,
// workerpool, tinypool, a worker_threads baseline and the C++ lab, in one
// run, as ratios.
//
//   node perf/lab.js [--quick] [--only overhead,latency,...] [--out perf/results]
//                    [--workers N] [--libraries tasklets,piscina,...] [--no-report]
//                    [--docs | --no-docs] [--no-cpp]
//
// Writes perf/results/<date>.json (every sample), perf/results/<date>.md with
// its SVG charts, and (full runs of every workload, or --docs) regenerates
// docs/benchmarks.md and docs/benchmarks/*.svg. Exits 1 only when the lab
// itself breaks or tasklets fails or answers wrongly; a library that is not
// installed or not built is reported as skipped.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LIBRARIES, PEERS, ROOT } = require('./node/libs');
const { workloadParams } = require('./node/config');
const { describeMachine, calibrateSpin } = require('./node/machine');
const { Progress } = require('./node/progress');
const { runWorkload, probeLibraries, plannedSamples, resolveParticipants } = require('./node/runner');
const { summarize } = require('./node/report/summaries');
const terminal = require('./node/report/terminal');
const markdown = require('./node/report/markdown');
const { runCpp } = require('./node/cpp');

const WORKLOADS = ['overhead', 'latency', 'breakeven', 'scaling', 'payload', 'http', 'memory', 'startup'];
const ALL_LIBRARIES = ['tasklets', ...PEERS, 'worker_threads'];
const USAGE = `usage: node perf/lab.js [--quick] [--only <workload,...>] [--out <dir>] [--workers N]
       [--libraries <name,...>] [--no-report] [--docs | --no-docs] [--no-cpp]
workloads: ${WORKLOADS.join(', ')}, cpp
libraries: ${ALL_LIBRARIES.join(', ')}`;

function parseArgs(argv) {
  const opts = { quick: false, only: null, out: path.join(ROOT, 'perf', 'results'), workers: os.availableParallelism(),
    libraries: ALL_LIBRARIES, report: true, docs: null, cpp: true };
  const value = (i) => {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const list = (s, allowed, what) => {
    const items = s.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of items) if (!allowed.includes(x)) throw new Error(`unknown ${what} '${x}' (one of ${allowed.join(', ')})`);
    return items;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') opts.only = list(value(i++), [...WORKLOADS, 'cpp'], 'workload');
    else if (a === '--out') opts.out = path.resolve(value(i++));
    else if (a === '--workers') {
      opts.workers = Number(value(i++));
      if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error('--workers needs a positive integer');
    } else if (a === '--libraries') opts.libraries = list(value(i++), ALL_LIBRARIES, 'library');
    else if (a === '--no-report') opts.report = false;
    else if (a === '--docs') opts.docs = true;
    else if (a === '--no-docs') opts.docs = false;
    else if (a === '--no-cpp') opts.cpp = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument '${a}'`);
  }
  return opts;
}

// Worker counts for the scaling workload: 1, 2, 4, ... up to the machine's.
function workerCounts(max) {
  const counts = [];
  for (let w = 1; w < max; w *= 2) counts.push(w);
  counts.push(max);
  return counts;
}

function stamp(date) {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function writeReport(dir, base, chartDir, args) {
  fs.mkdirSync(path.join(dir, chartDir), { recursive: true });
  for (const s of args.summaries) {
    for (const c of s.charts) fs.writeFileSync(path.join(dir, chartDir, `${c.name}.svg`), c.svg);
  }
  const md = markdown.build({ ...args, chartPath: (name) => `${chartDir}/${name}.svg` });
  const file = path.join(dir, `${base}.md`);
  fs.writeFileSync(file, md);
  return file;
}

function closingNote() {
  const file = path.join(__dirname, 'node', 'closing-note.md');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : null;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const date = new Date();
  const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const workloads = WORKLOADS.filter((w) => !opts.only || opts.only.includes(w));
  const withCpp = opts.cpp && (!opts.only || opts.only.includes('cpp'));
  const progress = new Progress({ total: 0 });
  process.stderr.write(`tasklets perf lab: ${opts.quick ? 'quick' : 'full'} mode, ${opts.workers} workers per pool, ` +
    `workloads: ${[...workloads, ...(withCpp ? ['cpp'] : [])].join(', ')}\n`);

  const names = workloads.length ? [...opts.libraries, 'inline', ...(workloads.includes('latency') ? ['floor'] : [])] : [];
  const { unavailable, versions } = await probeLibraries(names, opts.workers, progress);
  for (const lib of ALL_LIBRARIES) if (!opts.libraries.includes(lib)) unavailable[lib] = 'left out (--libraries)';
  const itersPerUs = calibrateSpin();
  const ctx = {
    quick: opts.quick,
    workers: opts.workers,
    workerCounts: workerCounts(opts.workers),
    pools: opts.libraries,
    unavailable,
    params: workloadParams(opts.quick, itersPerUs),
  };
  const modules = Object.fromEntries(workloads.map((w) => [w, require(`./node/workloads/${w}`)]));
  for (const w of workloads) if (modules[w].prepare) ctx.params[w] = modules[w].prepare(ctx.params[w]);
  progress.total = workloads.reduce((n, w) => n + plannedSamples(modules[w], ctx), 0) + (withCpp ? 1 : 0);

  const results = [];
  for (const w of workloads) results.push(await runWorkload(modules[w], ctx, progress));
  let cpp = null;
  if (withCpp) {
    progress.step('C++ lab: build/perf/bench_core');
    cpp = await runCpp({ quick: opts.quick, workers: opts.workers });
    progress.advance();
    if (cpp.status !== 'ok') progress.note(`C++ lab ${cpp.status}: ${cpp.reason}`);
  }
  progress.finish();

  const summaries = results.map(summarize);
  const targets = summaries.flatMap((s) => s.targets);
  process.stdout.write(terminal.render(summaries, cpp, targets));

  const meta = {
    date: date.toISOString(),
    argv: process.argv.slice(2),
    quick: opts.quick,
    workers: opts.workers,
    machine: describeMachine(),
    loadAtStart,
    versions,
    unavailable,
    itersPerUs,
  };
  if (opts.report) {
    fs.mkdirSync(opts.out, { recursive: true });
    const base = stamp(date);
    const json = {
      meta,
      params: ctx.params,
      workloads: results.map((r) => ({
        ...r,
        entries: r.entries.map((e) => ({ ...e, spec: { workload: r.id, participant: e.participant, params: r.params } })),
      })),
      targets,
      cpp,
    };
    fs.writeFileSync(path.join(opts.out, `${base}.json`), `${JSON.stringify(json, null, 1)}\n`);
    const args = { meta, summaries, targets, cpp, closingNote: closingNote() };
    const report = writeReport(opts.out, base, `${base}-charts`, args);
    process.stdout.write(`\nsamples: ${path.relative(process.cwd(), path.join(opts.out, `${base}.json`))}\nreport:  ${path.relative(process.cwd(), report)}\n`);
    const docs = opts.docs ?? (!opts.quick && !opts.only && opts.libraries === ALL_LIBRARIES);
    if (docs) {
      const file = writeReport(path.join(ROOT, 'docs'), 'benchmarks', 'benchmarks', args);
      process.stdout.write(`docs:    ${path.relative(process.cwd(), file)}\n`);
    }
  }
  // Any participant that failed or answered wrong fails the run: a
  // comparison that silently drops a peer is not one (a peer that is not
  // installed is listed as unavailable instead, and does not count here).
  const broken = results.flatMap((r) => r.entries).filter((e) => e.status === 'failed' || e.status === 'wrong');
  for (const e of broken) process.stderr.write(`perf lab: ${e.label} ${e.status}: ${e.reason}\n`);
  return broken.length ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err) => {
    process.stderr.write(`perf lab: ${err && err.message}\n${USAGE}\n`);
    process.exit(1);
  });
}

module.exports = { parseArgs, WORKLOADS, LIBRARIES, resolveParticipants };
