'use strict';
// The C++ lab: build/perf/bench_core (Google Benchmark; tasklets vs oneTBB
// and a mutex pool). Its JSON goes into the lab's JSON; the Markdown tables
// and PASS/MISS targets it prints at the end go into the report as they are.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { ROOT } = require('./libs');

const BINARY = path.join(ROOT, 'build', 'perf', 'bench_core');

function runCpp({ quick, workers }) {
  if (!fs.existsSync(BINARY)) {
    return Promise.resolve({ status: 'skipped', reason: `${path.relative(ROOT, BINARY)} not built (./tasklets.sh build with benchmarks on)` });
  }
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-lab-')), 'bench_core.json');
  const env = { ...process.env, TASKLETS_BENCH_WORKERS: String(workers) };
  if (quick) env.TASKLETS_BENCH_QUICK = '1';
  else delete env.TASKLETS_BENCH_QUICK;
  return new Promise((resolve) => {
    execFile(BINARY, [`--benchmark_out=${out}`, '--benchmark_out_format=json'],
      { env, timeout: quick ? 90_000 : 900_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
        let json = null;
        try {
          json = JSON.parse(fs.readFileSync(out, 'utf8'));
        } catch {
          // no JSON: reported below
        }
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        if (err) {
          resolve({ status: 'failed', reason: `${err.killed ? 'timed out' : `exit ${err.code}`}: ${String(stderr).trim().split('\n').slice(-3).join(' | ')}`, json });
          return;
        }
        resolve({ status: 'ok', ...parseConsole(stdout), json });
      });
  });
}

// The Markdown part of the console output (from the first "### " heading)
// and its target lines ("- PASS ..." / "- MISS ...").
function parseConsole(stdout) {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('### '));
  const markdown = start < 0 ? '' : lines.slice(start).join('\n').trim();
  const t = lines.findIndex((l) => l.trim() === '### Targets');
  const targets = [];
  if (t >= 0) {
    for (const l of lines.slice(t + 1)) {
      const m = /^- (PASS|MISS|n\/a)\s+(.*)$/.exec(l.trim());
      if (m) targets.push({ verdict: m[1], text: m[2] });
    }
  }
  const header = lines.find((l) => l.startsWith('workers:')) || '';
  return { markdown, targets, header };
}

module.exports = { runCpp, BINARY };
