'use strict';
// The Markdown report: machine, targets, then one section per workload with
// its table, charts (SVG files next to the report) and headline ratios, the
// C++ lab's tables, and the method.

// Figures right-aligned, the first column (names) left; `allLeft` for text tables.
function mdTable(columns, rows, allLeft = false) {
  const cell = (c) => String(c ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `| ${columns.map((_, i) => (i === 0 || allLeft ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function machineSection(meta) {
  const m = meta.machine;
  const versions = Object.entries(meta.versions).filter(([k]) => k !== 'inline').map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    '## Machine and run',
    '',
    `- Date: ${meta.date}`,
    `- Mode: ${meta.quick ? 'quick (`--quick`: fewer tasks, fewer repetitions; figures are indicative)' : 'full'}`,
    `- CPU: ${m.cpuModel}, ${m.logicalCpus} logical CPUs (os.availableParallelism() = ${m.availableParallelism}), ${m.totalMemGiB} GiB`,
    `- OS: ${m.platform}; Node.js ${m.node} (V8 ${m.v8})`,
    `- Load average (1, 5, 15 min) at the start: ${meta.loadAtStart.join(', ')}; at the end: ${m.loadAverage.join(', ')} (other work on the machine shows here)`,
    `- Workers per pool: ${meta.workers} (every library alike; the worker_threads baseline is one Worker by design)`,
    `- Libraries: ${versions}`,
  ];
  for (const [lib, reason] of Object.entries(meta.unavailable)) lines.push(`- Not measured: ${lib}: ${reason}`);
  lines.push(`- Spin calibration: ${meta.itersPerUs.toFixed(1)} rounds of the spin task per microsecond (main thread)`);
  if (m.hwloc) lines.push('', 'Topology (`hwloc-ls --of console --no-io`):', '', '```', m.hwloc, '```');
  return lines.join('\n');
}

function targetsSection(targets, cpp) {
  const lines = ['## Targets', '', 'From issues 5 and 15, judged on the medians of this run.', ''];
  lines.push(mdTable(['', 'target', 'measured'], targets.map((t) => [t.verdict === 'PASS' ? '**PASS**' : t.verdict === 'MISS' ? '**MISS**' : 'n/a', t.text, t.detail]), true));
  if (cpp && cpp.status === 'ok' && cpp.targets.length) {
    lines.push('', 'C++ runtime (bench_core, its own targets):', '');
    lines.push(mdTable(['', 'target'], cpp.targets.map((t) => [t.verdict === 'n/a' ? 'n/a' : `**${t.verdict}**`, t.text]), true));
  }
  const missed = targets.filter((t) => t.verdict !== 'PASS');
  if (missed.length) {
    lines.push('', 'Where a target is missed or could not be judged, the figures above say by how much; the',
      'closing note of this page is where the profile that explains it belongs.');
  }
  return lines.join('\n');
}

function workloadSection(s, i, chartPath) {
  const lines = [`## ${i + 1}. ${s.title}`, ''];
  lines.push(`Median of ${s.repetitions} repetition${s.repetitions > 1 ? 's' : ''}; spread = half the min-max range.`);
  if (s.note) lines.push('', s.note);
  lines.push('', mdTable(s.columns, s.rows), '');
  for (const c of s.charts) lines.push(`![${c.name}](${chartPath(c.name)})`, '');
  for (const h of s.headlines) lines.push(`- ${h}`);
  return lines.join('\n');
}

const METHOD = `## Running the lab

- \`npm run bench\` (= \`node perf/lab.js\`): every workload and the C++ lab, full size (under
  20 minutes on 2 cores); regenerates this page and \`docs/benchmarks/*.svg\`.
- \`node perf/lab.js --quick\`: the same in under 2 minutes, figures indicative; writes only
  \`perf/results/\` (add \`--docs\` to regenerate this page from it).
- \`node perf/lab.js --quick --only overhead --no-report\`: the CI smoke test (< 60 s, no file).
- \`--only <workload,...>\`, \`--libraries <name,...>\`, \`--workers N\`, \`--no-cpp\`, \`--out <dir>\`.
  A library that is not installed, a tasklets that is not built (\`TASKLETS_ADDON\` picks
  another addon file) or a missing \`build/perf/bench_core\` is reported as skipped.

## Method

- Every sample runs in a fresh Node.js process (\`perf/node/child.js\`), so libraries cannot
  disturb each other (threads left behind, heap, JIT state) and a crash costs one sample.
- Libraries alternate within one run: each repetition runs every library once, in an order
  rotated by one each repetition, so machine drift hits all of them alike.
- Every library gets the same number of workers. Peers are used the way their documentation
  recommends: a worker file for piscina, tinypool and poolifier (\`perf/node/workers/\`),
  \`exec(fn)\` for workerpool, \`run\`/\`runAll\`/\`map\` for tasklets. All run the same task
  bodies (\`perf/node/tasks.js\`).
- Every answer is checked; a library with a wrong answer gets no figure.
- The spin task does a fixed number of integer rounds (calibrated on the main thread), not
  a wall-clock wait, so preemption on 2 shared cores does not shorten the work.
- To profile one sample, run it alone: \`node --cpu-prof perf/node/child.js '<spec>'\`
  where \`<spec>\` is one \`spec\` of the JSON results file (it prints its result).`;

function build({ meta, summaries, targets, cpp, chartPath, closingNote }) {
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (\`node perf/lab.js${meta.argv.length ? ` ${meta.argv.join(' ')}` : ''}\`) on ${meta.date}.`,
    'Do not edit by hand: run the lab again. Ratios are tasklets / peer measured in this run;',
    'compare ratios, not absolute figures across runs or machines.',
    '',
    machineSection(meta),
    '',
    targetsSection(targets, cpp),
  ];
  summaries.forEach((s, i) => parts.push('', workloadSection(s, i, chartPath)));
  parts.push('', '## C++ runtime: tasklets vs oneTBB and a mutex pool (bench_core)', '');
  if (!cpp) parts.push('Not run (`--only` left it out).');
  else if (cpp.status !== 'ok') parts.push(`Not measured: ${cpp.status}: ${cpp.reason}`);
  else parts.push(`\`build/perf/bench_core\` (${cpp.header || 'Google Benchmark'}), its own summary:`, '', cpp.markdown.replace(/^### /gm, '### C++: '));
  parts.push('', METHOD);
  if (closingNote) parts.push('', '## Closing note', '', closingNote);
  return `${parts.join('\n')}\n`;
}

module.exports = { build, mdTable };
