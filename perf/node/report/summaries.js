'use strict';
// Turns each workload's samples into what the report shows: a table, charts,
// headline ratios (tasklets / peer, measured in the same run) and the
// issue's targets with an honest PASS / MISS.
//
// A figure is the median over repetitions; the spread is half the min-max
// range. An entry that was skipped, failed or gave a wrong answer gets no
// figure, only its reason.

const { summary, median } = require('../stats');
const { PEERS } = require('../libs');
const f = require('./format');
const { barChart, lineChart } = require('./svg');

// --- helpers ----------------------------------------------------------------

function stat(entry, pick) {
  if (!entry || entry.status !== 'ok') return null;
  return summary(entry.samples.filter((s) => s.ok).map((s) => pick(s.data)));
}

// A reason in a table cell: its head ("not built", "not installed"), the
// machine section of the report gives the whole of it.
function shortReason(reason, max = 100) {
  const text = String(reason);
  if (text.length <= 60) return text;
  const head = /^(not built|not installed|does not work here|left out)/.exec(text);
  if (head) return head[1];
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function statusText(e) {
  if (e.status === 'skipped') return `skipped: ${shortReason(e.reason)}`;
  if (e.status === 'wrong') return `no figure: wrong answers (${shortReason(e.reason)})`;
  return `no figure: failed (${shortReason(e.reason)})`;
}

function find(result, library, variant) {
  return result.entries.find((e) => e.participant.library === library && (variant === undefined || e.participant.variant === variant));
}

// Among the peers with a figure: the best by `better(a, b)` ({ entry, value } or null).
function bestPeer(result, valueOf, higherIsBetter, filter = () => true) {
  let best = null;
  for (const e of result.entries) {
    if (!PEERS.includes(e.participant.library) || !filter(e)) continue;
    const v = valueOf(e);
    if (!Number.isFinite(v)) continue;
    if (best === null || (higherIsBetter ? v > best.value : v < best.value)) best = { entry: e, value: v };
  }
  return best;
}

function div(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

// A target line: verdict PASS / MISS, or n/a with the reason.
function target(text, ok, detail, missingReason) {
  if (ok === null) return { verdict: 'n/a', text, detail: missingReason };
  return { verdict: ok ? 'PASS' : 'MISS', text, detail };
}

function taskletsMissing(result, variant) {
  const e = find(result, 'tasklets', variant);
  return e ? statusText(e) : 'tasklets not measured';
}

function withStatus(e, cells, width) {
  if (e.status === 'ok') return [e.label, ...cells];
  return [e.label, statusText(e), ...new Array(width - 2).fill('-')];
}

// --- 1. overhead ------------------------------------------------------------

function overhead(result) {
  const tput = (e) => stat(e, (d) => d.tasksPerSec);
  const med = (e) => tput(e)?.median ?? NaN;
  const runAll = med(find(result, 'tasklets', 'runAll'));
  const run = med(find(result, 'tasklets', 'run'));
  const columns = ['library', 'tasks/s (higher is better)', 'spread', 'tasklets runAll / this', 'tasklets run / this'];
  const rows = result.entries.map((e) => {
    const s = tput(e);
    return withStatus(e, [f.rate(s?.median), f.spread(s), f.ratio(div(runAll, s?.median)), f.ratio(div(run, s?.median))], columns.length);
  });
  // runAll against the best peer by any call (bulk ones included); run
  // against the best peer with one promise per task, like run itself.
  const best = bestPeer(result, med, true);
  const bestSingle = bestPeer(result, med, true, (e) => e.participant.variant !== 'mapExecute');
  const rAll = best ? div(runAll, best.value) : NaN;
  const rRun = bestSingle ? div(run, bestSingle.value) : NaN;
  const bestName = best ? best.entry.label : 'no peer';
  const bestSingleName = bestSingle ? bestSingle.entry.label : 'no peer';
  return {
    columns,
    rows,
    note: 'One call per task (Promise.all over the calls) unless the entry names a bulk call: tasklets runAll / map, poolifier mapExecute.',
    headlines: [
      `tasklets runAll / best peer (${bestName}): ${f.ratio(rAll)}`,
      `tasklets run / best peer with one call per task (${bestSingleName}): ${f.ratio(rRun)}`,
    ],
    targets: [
      target(`no-op throughput through runAll >= 20x the best peer (${bestName})`, Number.isFinite(rAll) ? rAll >= 20 : null, `${f.ratio(rAll)} (${f.rate(runAll)} vs ${f.rate(best?.value)} tasks/s)`, taskletsMissing(result, 'runAll')),
      target(`no-op throughput through single run calls >= 7x the best peer (${bestSingleName})`, Number.isFinite(rRun) ? rRun >= 7 : null, `${f.ratio(rRun)} (${f.rate(run)} vs ${f.rate(bestSingle?.value)} tasks/s)`, taskletsMissing(result, 'run')),
    ],
    charts: [{
      name: 'overhead',
      svg: barChart({
        title: `No-op tasks started at once: tasks/s (${result.params.tasks.toLocaleString('en-US')} tasks, higher is better)`,
        unit: 'tasks per second',
        rows: result.entries.map((e) => {
          const s = tput(e);
          return { label: e.label, values: [s?.median ?? null], ranges: [s ? [s.min, s.max] : null], missing: e.status === 'ok' ? '' : e.status };
        }),
      }),
    }],
  };
}

// --- 2. latency -------------------------------------------------------------

function latency(result) {
  const p = (e, key) => stat(e, (d) => d[key]);
  const p50 = (e) => p(e, 'p50')?.median ?? NaN;
  const t50 = p50(find(result, 'tasklets'));
  const columns = ['library', 'p50', 'p90', 'p99', 'max', 'p50 spread', 'tasklets p50 / this (<1: tasklets faster)'];
  const rows = result.entries.map((e) => withStatus(e, [
    f.us(p(e, 'p50')?.median), f.us(p(e, 'p90')?.median), f.us(p(e, 'p99')?.median), f.us(p(e, 'max')?.median),
    f.spread(p(e, 'p50')), f.ratio(div(t50, p(e, 'p50')?.median)),
  ], columns.length));
  const best = bestPeer(result, p50, false);
  const r = best ? div(t50, best.value) : NaN;
  const bestName = best ? best.entry.label : 'no peer';
  const floor = p50(find(result, 'floor'));
  const rf = div(t50, floor);
  const floorEntry = find(result, 'floor');
  return {
    columns,
    rows,
    note: 'The floor is no pool: one futex wake of a parked Worker and one uv_async wake of the idle main loop, with a trivial JS call on each side (perf/node/workers/floor.js).',
    headlines: [`tasklets p50 / best peer p50 (${bestName}): ${f.ratio(r)}`, `tasklets p50 / floor p50: ${f.ratio(rf)}`],
    targets: [
      target(`p50 round trip <= 1/2 of the best peer's (${bestName})`, Number.isFinite(r) ? r <= 0.5 : null, `${f.ratio(r)} (${f.us(t50)} vs ${f.us(best?.value)})`, taskletsMissing(result)),
      target('p50 round trip <= 2x the floor (futex + uv_async wake)', Number.isFinite(rf) ? rf <= 2 : null, `${f.ratio(rf)} (${f.us(t50)} vs ${f.us(floor)})`,
        Number.isFinite(t50) ? (floorEntry ? statusText(floorEntry) : 'floor not measured') : taskletsMissing(result)),
    ],
    charts: [{
      name: 'latency',
      svg: barChart({
        title: `Round trip of one no-op task awaited at a time (${result.params.samples.toLocaleString('en-US')} tasks, lower is better)`,
        unit: 'microseconds',
        series: ['p50', 'p99'],
        rows: result.entries.map((e) => ({ label: e.label, values: [p(e, 'p50')?.median ?? null, p(e, 'p99')?.median ?? null], missing: e.status })),
      }),
    }],
  };
}

// --- 3. break-even ----------------------------------------------------------

// Smallest task size at which ratio >= 1, interpolated on log-log axes
// between the last size below 1 and the first at or above it.
// { us, below: paid off already at the smallest size, above: never paid off }
function payoffSize(sizes, ratios) {
  for (let i = 0; i < sizes.length; i++) {
    if (!(ratios[i] >= 1)) continue;
    if (i === 0) return { us: sizes[0], below: true };
    const [s0, s1, r0, r1] = [sizes[i - 1], sizes[i], ratios[i - 1], ratios[i]];
    const t = (0 - Math.log(r0)) / (Math.log(r1) - Math.log(r0));
    return { us: Math.exp(Math.log(s0) + t * (Math.log(s1) - Math.log(s0))) };
  }
  return { us: sizes[sizes.length - 1], above: true };
}

function payoffText(p) {
  if (!p) return 'n/a';
  if (p.below) return `<= ${p.us} us`;
  if (p.above) return `never (> ${p.us} us)`;
  return `${p.us.toFixed(p.us < 10 ? 1 : 0)} us`;
}

function breakeven(result) {
  const sizes = result.params.sizesUs;
  const inline = find(result, 'inline');
  const perSize = (e, i) => stat(e, (d) => d.bySize[i].tasksPerSec);
  const inlineRate = sizes.map((_, i) => perSize(inline, i)?.median ?? NaN);
  const ratios = (e) => sizes.map((_, i) => div(perSize(e, i)?.median, inlineRate[i]));
  const payoff = new Map();
  for (const e of result.entries) {
    if (e.status === 'ok' && e.participant.library !== 'inline' && inline?.status === 'ok') payoff.set(e, payoffSize(sizes, ratios(e)));
  }
  const columns = ['library', ...sizes.map((s) => `${s} us`), 'pays off from'];
  const rows = result.entries.map((e) => {
    if (e.participant.library === 'inline') {
      return withStatus(e, [...sizes.map((_, i) => `${f.rate(inlineRate[i])}/s`), '(reference)'], columns.length);
    }
    return withStatus(e, [...ratios(e).map(f.ratio), payoffText(payoff.get(e))], columns.length);
  });
  // Comparable only when both sizes are interpolated, or the bound goes the right way.
  const sizeOf = (e) => payoff.get(e)?.us ?? NaN;
  const best = bestPeer(result, (e) => (payoff.get(e)?.above ? NaN : sizeOf(e)), false);
  const t = find(result, 'tasklets', 'run');
  const tp = payoff.get(t);
  const bestName = best ? best.entry.label : 'no peer';
  let ok = null;
  let detail = '';
  if (tp && best) {
    const bp = payoff.get(best.entry);
    const r = tp.us / bp.us;
    detail = `tasklets run ${payoffText(tp)} vs ${payoffText(bp)} (${f.ratio(r)})`;
    if (tp.above) ok = false;
    else if (r <= 0.1) ok = true;
    else if (tp.below) ok = null; // below the smallest size: the ratio is only a bound
    else ok = false;
    if (ok === null) detail += '; tasklets already pays off at the smallest size measured, so the ratio is an upper bound';
  } else if (tp && !best) {
    detail = `tasklets run ${payoffText(tp)}; no peer paid off within ${sizes[sizes.length - 1]} us`;
    ok = !tp.above;
  }
  const tm = payoff.get(find(result, 'tasklets', 'map'));
  return {
    columns,
    rows,
    note: 'Cells: the pool\'s throughput divided by the same tasks run one after another on the main thread (>1: the pool pays off). The inline row gives its tasks/s.',
    headlines: [
      `break-even task size: tasklets run ${payoffText(tp)}, tasklets map ${payoffText(tm)}; best peer (${bestName}) ${payoffText(best && payoff.get(best.entry))}`,
    ],
    targets: [target(`break-even task size <= 1/10 of the best peer's (${bestName})`, ok, detail, ok === null && detail ? detail : taskletsMissing(result, 'run'))],
    charts: [{
      name: 'breakeven',
      svg: lineChart({
        title: 'Pool throughput / inline throughput by task size (above 1: the pool pays off)',
        xLabel: 'task size (microseconds of work, log scale)',
        yLabel: 'speed-up over inline',
        xLog: true,
        refY: 1,
        series: result.entries.filter((e) => payoff.has(e)).map((e) => ({ name: e.label, points: sizes.map((s, i) => [s, ratios(e)[i]]) })),
      }),
    }],
  };
}

// --- 4. scaling -------------------------------------------------------------

function scaling(result) {
  const inline = find(result, 'inline');
  const serial = stat(inline, (d) => d.ms)?.median ?? NaN;
  const time = (e) => stat(e, (d) => d.ms);
  const columns = ['library, workers', 'wall time', 'spread', 'speedup over serial', 'efficiency (speedup / workers)'];
  const rows = result.entries.map((e) => {
    const s = time(e);
    const sp = div(serial, s?.median);
    const w = e.participant.workers;
    return withStatus(e, [f.ms(s?.median), f.spread(s), e.participant.library === 'inline' ? '1.00x (reference)' : f.ratio(sp), w > 0 ? `${(div(sp, w) * 100).toFixed(0)}%` : '-'], columns.length);
  });
  const counts = [...new Set(result.entries.map((e) => e.participant.workers).filter((w) => w > 0))];
  const libs = [...new Set(result.entries.filter((e) => e.participant.library !== 'inline').map((e) => e.participant.library))];
  const speedOf = (lib, w) => div(serial, time(result.entries.find((e) => e.participant.library === lib && e.participant.workers === w))?.median);
  const top = counts[counts.length - 1];
  const t = speedOf('tasklets', top);
  const best = Math.max(...PEERS.map((p) => speedOf(p, top)).filter(Number.isFinite));
  return {
    columns,
    rows,
    note: `${result.params.tasks} tasks of about ${result.params.taskMs} ms each; serial = the same tasks one after another on the main thread.`,
    headlines: [`speedup with ${top} workers: tasklets ${f.ratio(t)}, best peer ${f.ratio(best)} (tasklets / best peer ${f.ratio(div(t, best))})`],
    targets: [],
    charts: [{
      name: 'scaling',
      svg: barChart({
        title: `Coarse CPU-bound tasks: speedup over serial (higher is better; ideal = workers)`,
        unit: 'speedup over the main thread alone',
        series: counts.map((w) => `${w} worker${w > 1 ? 's' : ''}`),
        rows: libs.map((lib) => ({ label: lib, values: counts.map((w) => speedOf(lib, w)).map((v) => (Number.isFinite(v) ? v : null)) })),
        refLine: 1,
      }),
    }],
  };
}

// --- 5. payload -------------------------------------------------------------

// One row per library and mode: { label, entry, mode } where mode is
// 'copied' or 'transferred' (null figures when the library cannot transfer).
function payloadRows(result) {
  return result.entries.flatMap((e) => ['copied', 'transferred'].map((mode) => ({ label: `${e.label}, ${mode}`, entry: e, mode })));
}

function payload(result) {
  const sizes = result.params.sizes.map((s) => s.bytes);
  const perSize = (row, i, key) => {
    if (!row || row.entry.status !== 'ok') return null;
    const canTransfer = row.entry.samples.every((s) => !s.ok || s.data.transferred !== null);
    if (row.mode === 'transferred' && !canTransfer) return null;
    return stat(row.entry, (d) => d[row.mode][i][key]);
  };
  const list = payloadRows(result);
  const t = list.find((r) => r.entry.participant.library === 'tasklets' && r.mode === 'copied');
  const columns = ['library, mode', ...sizes.map((b) => `${f.bytes(b)}: tasks/s`), `${f.bytes(sizes[sizes.length - 1])}: MB/s both ways`, ...sizes.map((b) => `tasklets / this at ${f.bytes(b)}`)];
  const noTransfer = (r) => r.mode === 'transferred' && r.entry.status === 'ok' && !perSize(r, 0, 'tasksPerSec');
  const rows = list.map((r) => {
    if (noTransfer(r)) return [r.label, `skipped: ${r.entry.participant.library} has no transfer list (always copies)`, ...new Array(columns.length - 2).fill('-')];
    return withStatus({ ...r.entry, label: r.label }, [
      ...sizes.map((_, i) => f.rate(perSize(r, i, 'tasksPerSec')?.median)),
      f.num(perSize(r, sizes.length - 1, 'mbPerSec')?.median, 0),
      ...sizes.map((_, i) => f.ratio(div(perSize(t, i, 'tasksPerSec')?.median, perSize(r, i, 'tasksPerSec')?.median))),
    ], columns.length);
  });
  const headlines = sizes.map((b, i) => {
    let best = null;
    for (const r of list) {
      const v = PEERS.includes(r.entry.participant.library) ? perSize(r, i, 'tasksPerSec')?.median : NaN;
      if (Number.isFinite(v) && (best === null || v > best.value)) best = { label: r.label, value: v };
    }
    return `${f.bytes(b)}: tasklets (copied) / best peer (${best ? best.label : 'none'}): ${f.ratio(div(perSize(t, i, 'tasksPerSec')?.median, best?.value))}`;
  });
  return {
    columns,
    rows,
    note: 'Each task receives a Uint8Array and returns a copy of it: arguments and results of the same size, started at once. "transferred" moves the argument with a transfer list and, where the library can, the result too (piscina, tinypool: move(); the worker_threads baseline: a postMessage transfer list); poolifier and workerpool copy results back. Ratios use tasklets (copied).',
    headlines,
    targets: [],
    charts: [{
      name: 'payload',
      svg: barChart({
        title: 'Payload round trips: MB/s (argument + result) per size (higher is better)',
        unit: 'MB per second, both directions',
        series: sizes.map(f.bytes),
        rows: list.filter((r) => !noTransfer(r)).map((r) => ({ label: r.label, values: sizes.map((_, i) => perSize(r, i, 'mbPerSec')?.median ?? null), missing: r.entry.status })),
      }),
    }],
  };
}

// --- 6. http ----------------------------------------------------------------

function http(result) {
  const rps = (e) => stat(e, (d) => d.rps);
  const lat = (e, k) => stat(e, (d) => d.latencyUs[k]);
  const levels = [...new Set(result.entries.map((e) => e.participant.connections))];
  const atLevel = (c) => ({ ...result, entries: result.entries.filter((e) => e.participant.connections === c) });
  const columns = ['library', 'requests/s', 'spread', 'p50', 'p99', 'max', 'tasklets req/s / this', 'tasklets p99 / this'];
  const rows = [];
  const headlines = [];
  const targets = [];
  for (const c of levels) {
    const level = atLevel(c);
    const t = find(level, 'tasklets');
    const tRps = rps(t)?.median ?? NaN;
    const tP99 = lat(t, 'p99')?.median ?? NaN;
    for (const e of level.entries) {
      rows.push(withStatus(e, [
        f.rate(rps(e)?.median), f.spread(rps(e)), f.us(lat(e, 'p50')?.median), f.us(lat(e, 'p99')?.median), f.us(lat(e, 'max')?.median),
        f.ratio(div(tRps, rps(e)?.median)), f.ratio(div(tP99, lat(e, 'p99')?.median)),
      ], columns.length));
    }
    const best = bestPeer(level, (e) => rps(e)?.median ?? NaN, true);
    const bestP99 = best ? lat(best.entry, 'p99')?.median : NaN;
    // The bar: more requests/s than every peer, and a lower p99 than every peer.
    const peers = level.entries.filter((e) => PEERS.includes(e.participant.library) && Number.isFinite(rps(e)?.median));
    const lowestP99 = Math.min(...peers.map((e) => lat(e, 'p99')?.median ?? Infinity));
    const ok = Number.isFinite(tRps) && best ? tRps >= best.value && tP99 < lowestP99 : null;
    const noPool = rps(find(level, 'inline'))?.median;
    headlines.push(`${c} connections: tasklets / best peer (${best ? best.entry.participant.library : 'none'}): requests/s ${f.ratio(div(tRps, best?.value))}, ` +
      `p99 ${f.ratio(div(tP99, bestP99))}; tasklets / no pool: requests/s ${f.ratio(div(tRps, noPool))}`);
    targets.push(target(`HTTP service at ${c} connections: more requests/s and a lower p99 than every peer`, ok,
      `${f.rate(tRps)} vs ${f.rate(best?.value)} req/s (${best ? best.entry.participant.library : 'none'}), p99 ${f.us(tP99)} vs lowest peer p99 ${f.us(lowestP99)}`,
      taskletsMissing(level)));
  }
  const p = result.params;
  return {
    columns,
    rows,
    note: `node:http on 127.0.0.1; each POST body (${f.bytes(p.bodyBytes)} of JSON) hashed with SHA-256 and ${p.rounds} more rounds (about ${f.us(p.jobUs)} of CPU on the main thread); ${levels.join(', ')} keep-alive connections from a separate load process, ${p.warmupMs / 1000} s warm-up then ${p.durationMs / 1000} s measured; every response checked. The inline rows are the same service without a pool.`,
    headlines,
    targets,
    charts: [
      {
        name: 'http-rps',
        svg: barChart({
          title: 'HTTP service: requests per second (higher is better)',
          unit: 'requests per second',
          rows: result.entries.map((e) => ({ label: e.label, values: [rps(e)?.median ?? null], ranges: [rps(e) ? [rps(e).min, rps(e).max] : null], missing: e.status })),
        }),
      },
      {
        name: 'http-latency',
        svg: barChart({
          title: 'HTTP service: latency (lower is better)',
          unit: 'milliseconds',
          series: ['p50', 'p99'],
          rows: result.entries.map((e) => ({ label: e.label, values: ['p50', 'p99'].map((k) => (lat(e, k) ? lat(e, k).median / 1000 : null)), missing: e.status })),
        }),
      },
    ],
  };
}

// --- 7. memory --------------------------------------------------------------

function memory(result) {
  const one = (e) => (e.status === 'ok' ? e.samples.find((s) => s.ok).data : null);
  const columns = ['library', 'RSS before the pool', 'after 1k tasks', 'peak during', `after ${result.params.tasks.toLocaleString('en-US')} tasks`, 'after / after 1k', 'heap after'];
  const rows = result.entries.map((e) => {
    const d = one(e);
    return withStatus(e, d ? [f.mb(d.before.rssMB), f.mb(d.afterFirstThousand.rssMB), f.mb(d.peakRssMB), f.mb(d.after.rssMB),
      f.ratio(d.after.rssMB / d.afterFirstThousand.rssMB), f.mb(d.after.heapUsedMB)] : [], columns.length);
  });
  // tasklets by default, and with memory.cleanup 'aggressive' (the setting
  // meant for idle RSS): the target is judged on each, said separately.
  const million = result.params.tasks >= 1_000_000;
  const variants = [['run', 'default configuration'], ['run+cleanup', "memory: { cleanup: 'aggressive' }"]];
  const measured = variants.map(([variant, how]) => {
    const t = find(result, 'tasklets', variant) || (variant === 'run' ? find(result, 'tasklets') : undefined);
    const td = t && one(t);
    return { variant, how, td, r: td ? td.after.rssMB / td.afterFirstThousand.rssMB : NaN };
  });
  const tasksText = million ? 'a million' : `${result.params.tasks.toLocaleString('en-US')} (quick mode, not a million)`;
  return {
    columns,
    rows,
    note: `One run per library (memory is not a timing figure). Batches of ${result.params.batch.toLocaleString('en-US')} tasks started at once; "after" is measured after two forced GCs of the main thread (--expose-gc) and 300 ms idle. RSS counts the whole process, workers included. "tasklets, run+cleanup" is tasklets with memory: { cleanup: 'aggressive' }, which releases memory once the pool is idle (a full GC of the main thread included).`,
    headlines: measured.map(({ how, r }) => `tasklets (${how}) RSS after ${result.params.tasks.toLocaleString('en-US')} tasks / after the first thousand: ${f.ratio(r)}`),
    targets: measured.map(({ variant, how, td, r }) => target(
      `RSS after ${tasksText} tasks within 10% of its value after the first thousand (tasklets, ${how})`,
      Number.isFinite(r) ? r <= 1.1 : null, `${f.mb(td?.after.rssMB)} vs ${f.mb(td?.afterFirstThousand.rssMB)} (${f.ratio(r)})`,
      taskletsMissing(result, variant))),
    charts: [{
      name: 'memory',
      svg: lineChart({
        title: 'RSS while running no-op tasks in batches',
        xLabel: 'tasks completed',
        yLabel: 'RSS (MB)',
        series: result.entries.filter((e) => one(e)).map((e) => ({ name: e.label, points: [[0, one(e).before.rssMB], ...one(e).curve.map((c) => [c.tasks, c.rssMB])] })),
      }),
    }],
  };
}

// --- 8. startup -------------------------------------------------------------

function startup(result) {
  const first = (e) => stat(e, (d) => d.firstResultMs);
  const created = (e) => stat(e, (d) => d.createMs);
  const t = first(find(result, 'tasklets'))?.median ?? NaN;
  const columns = ['library', 'to first result', 'spread', 'to pool object', 'tasklets / this (<1: tasklets faster)'];
  const rows = result.entries.map((e) => withStatus(e, [f.ms(first(e)?.median), f.spread(first(e)), f.ms(created(e)?.median), f.ratio(div(t, first(e)?.median))], columns.length));
  const best = bestPeer(result, (e) => first(e)?.median ?? NaN, false);
  return {
    columns,
    rows,
    note: 'A fresh process per sample; the clock starts before the library is loaded (require/import) and stops at the first result of x => x + 1.',
    headlines: [`startup: tasklets / best peer (${best ? best.entry.label : 'none'}): ${f.ratio(div(t, best?.value))}`],
    targets: [],
    charts: [{
      name: 'startup',
      svg: barChart({
        title: 'Startup: loading the library and creating the pool to the first result (lower is better)',
        unit: 'milliseconds',
        rows: result.entries.map((e) => ({ label: e.label, values: [first(e)?.median ?? null], ranges: [first(e) ? [first(e).min, first(e).max] : null], missing: e.status })),
      }),
    }],
  };
}

const SUMMARIZERS = { overhead, latency, breakeven, scaling, payload, http, memory, startup };

function summarize(result) {
  return { id: result.id, title: result.title, repetitions: result.repetitions, ...SUMMARIZERS[result.id](result) };
}

module.exports = { summarize, payoffSize, median };
