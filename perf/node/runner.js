'use strict';
// Runs the workloads: every participant once per repetition, in an order
// rotated each repetition (round robin), so that machine drift hits every
// library alike. Each sample runs in a fresh child process.
const path = require('node:path');
const { LIBRARIES } = require('./libs');
const { runOnce } = require('./proc');
const { repetitions, sampleTimeoutMs } = require('./config');

const CHILD = path.join(__dirname, 'child.js');

function participantKey(p) {
  return [p.library, p.variant, p.workers !== undefined && `w${p.workers}`, p.connections !== undefined && `c${p.connections}`]
    .filter(Boolean).join(':');
}

function participantLabel(p, showWorkers) {
  const base = {
    inline: 'inline (main thread, no pool)',
    worker_threads: 'worker_threads (1 Worker)',
    floor: 'floor (futex wake + uv_async wake)',
  }[p.library] || p.library;
  const parts = [base];
  if (p.variant) parts.push(p.variant);
  if (showWorkers && p.workers > 0) parts.push(`${p.workers} worker${p.workers > 1 ? 's' : ''}`);
  if (p.connections !== undefined) parts.push(`${p.connections} connections`);
  return parts.join(', ');
}

// Fills in the worker count: the library's fixed count (inline 0,
// worker_threads 1), the workload's choice, or the lab's.
function resolveParticipants(workload, ctx) {
  return workload.participants(ctx).map((p) => {
    const fixed = LIBRARIES[p.library].fixedWorkers;
    const participant = { ...p, workers: fixed ?? p.workers ?? ctx.workers };
    return { key: participantKey(participant), label: participantLabel(participant, workload.id === 'scaling'), participant };
  });
}

function rotate(list, by) {
  if (list.length === 0) return list;
  const k = by % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

// Planned sample count of a workload (for the progress display).
function plannedSamples(workload, ctx) {
  const entries = resolveParticipants(workload, ctx).filter((e) => !skipReason(workload, e, ctx));
  return entries.length * repetitions(ctx.quick, workload.id);
}

function skipReason(workload, entry, ctx) {
  const lib = entry.participant.library;
  if (ctx.unavailable[lib]) return ctx.unavailable[lib];
  return workload.skipReason ? workload.skipReason(entry.participant) : null;
}

async function takeSample(workload, participant, params, ctx) {
  const t0 = Date.now();
  try {
    if (workload.runInParent) return { ok: true, data: await workload.sample(participant, params), wallMs: Date.now() - t0 };
    const m = await runOnce(CHILD, { workload: workload.id, participant, params }, {
      execArgv: workload.execArgv || [],
      timeoutMs: sampleTimeoutMs(ctx.quick, workload.id),
    });
    return { ...m, wallMs: Date.now() - t0 };
  } catch (err) {
    return { ok: false, error: String(err && err.message), wallMs: Date.now() - t0 };
  }
}

async function runWorkload(workload, ctx, progress) {
  const params = ctx.params[workload.id];
  const entries = resolveParticipants(workload, ctx).map((e) => ({ ...e, status: 'ok', reason: null, samples: [] }));
  for (const e of entries) {
    const reason = skipReason(workload, e, ctx);
    if (reason) Object.assign(e, { status: 'skipped', reason });
  }
  const reps = repetitions(ctx.quick, workload.id);
  for (let rep = 0; rep < reps; rep++) {
    for (const e of rotate(entries, rep)) {
      if (e.status !== 'ok') continue;
      progress.step(`${workload.id} · ${e.label} · repetition ${rep + 1}/${reps}`);
      const s = await takeSample(workload, e.participant, params, ctx);
      progress.advance();
      e.samples.push({ rep, ...s });
      if (!s.ok) {
        Object.assign(e, { status: /^wrong answer/.test(s.error) ? 'wrong' : 'failed', reason: s.error });
        progress.note(`  ${workload.id}: ${e.label} ${e.status === 'wrong' ? 'gave a wrong answer' : 'failed'}: ${s.error}`);
      }
    }
  }
  const seconds = entries.flatMap((e) => e.samples).reduce((t, s) => t + s.wallMs, 0) / 1000;
  progress.note(`${workload.id}: ${seconds.toFixed(1)} s`);
  return { id: workload.id, title: workload.title, params, repetitions: reps, entries, seconds };
}

// Whether each library loads, starts a pool and answers inc(1) correctly.
async function probeLibraries(names, workers, progress) {
  const unavailable = {};
  const versions = {};
  for (const name of names) {
    const lib = LIBRARIES[name];
    const a = lib.availability();
    if (!a.ok) {
      unavailable[name] = a.reason;
      progress.note(`skipping ${name}: ${a.reason}`);
      continue;
    }
    versions[name] = a.version;
    if (name === 'inline') continue;
    progress.step(`checking ${name}`);
    const participant = { library: name, workers: lib.fixedWorkers ?? workers };
    const m = await runOnce(CHILD, { workload: 'probe', participant }, { timeoutMs: 15_000 }).catch((err) => ({
      ok: false,
      error: String(err.message),
    }));
    if (!m.ok) {
      unavailable[name] = m.code === 'ERR_TASKLETS_NOT_BUILT' ? `not built: ${m.error}` : `does not work here: ${m.error}`;
      progress.note(`skipping ${name}: ${unavailable[name]}`);
    }
  }
  return { unavailable, versions };
}

module.exports = { runWorkload, probeLibraries, plannedSamples, resolveParticipants };
