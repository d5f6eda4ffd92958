'use strict';
// pool.profile(): a CPU profile of every executor, taken by V8's profiler
// inside each executor's isolate through node:inspector
// (docs/observability.md, "Profiles").
//
// The requests come from an inspector session on the pool's thread, through
// the NodeWorker domain (the one DevTools uses for a process's Workers),
// and not from a message the executor would handle itself: an executor
// reads its messages only between tasks, so one stuck in a long synchronous
// task would answer after the task, while the inspector dispatches a
// Worker's protocol messages from a V8 interrupt, in the middle of running
// JavaScript. Executors are found among the process's Workers by thread id.

const errors = require('./errors');
const { executorName } = require('./executors');
const { isPlainObject, rejectUnknownKeys } = require('./validate');

const KEYS = ['durationMs', 'samplingIntervalUs'];
const DEFAULT_DURATION_MS = 1000;
const MAX_DURATION_MS = 600000;
const DEFAULT_INTERVAL_US = 1000;
const ATTACH_TIMEOUT_MS = 5000;   // for the inspector to report the executors that exist
const THREAD_IN_TITLE = /^\[worker (\d+)\]/;

function integer(name, value, fallback, min, max, unit) {
  if (value === undefined) return fallback;
  const expected = `an integer from ${min} to ${max} (${unit})`;
  if (typeof value !== 'number') throw errors.optionType(name, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) throw errors.optionRange(name, expected, value);
  return value;
}

function resolveProfileOptions(value) {
  if (value === undefined) value = {};
  if (!isPlainObject(value)) throw errors.optionType('options', 'an object { durationMs, samplingIntervalUs }', value);
  rejectUnknownKeys(value, KEYS, '');
  return {
    durationMs: integer('durationMs', value.durationMs, DEFAULT_DURATION_MS, 1, MAX_DURATION_MS, 'milliseconds'),
    samplingIntervalUs: integer('samplingIntervalUs', value.samplingIntervalUs, DEFAULT_INTERVAL_US, 1, 1000000, 'microseconds'),
  };
}

function post(session, method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// The Workers the inspector reported, and requests to them by session.
class WorkerSessions {
  constructor(session) {
    this.session = session;
    this.byThread = new Map();   // thread id (string) -> inspector session id
    this.pending = new Map();    // request id -> { resolve, reject, sessionId }
    this.nextId = 1;
    this.onAttach = null;
    session.on('NodeWorker.attachedToWorker', ({ params }) => {
      // The inspector's workerId is its own count; the title starts with
      // the thread id ("[worker 3] tasklets executor 0 (pool 1)").
      const thread = THREAD_IN_TITLE.exec(params.workerInfo.title);
      if (thread !== null) this.byThread.set(thread[1], params.sessionId);
      if (this.onAttach !== null) this.onAttach();
    });
    session.on('NodeWorker.detachedFromWorker', ({ params }) => this.failAll(params.sessionId));
    session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => this.received(params.message));
  }

  // Resolves once every thread of `threadIds` was reported, or after
  // ATTACH_TIMEOUT_MS (a Worker that exited meanwhile never is).
  attached(threadIds) {
    const all = () => threadIds.every((id) => this.byThread.has(id));
    if (all()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ATTACH_TIMEOUT_MS);
      this.onAttach = () => {
        if (!all()) return;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  send(sessionId, method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, sessionId });
      this.session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (err) => {
        if (err && this.pending.delete(id)) reject(err);
      });
    });
  }

  received(text) {
    const message = JSON.parse(text);
    const request = this.pending.get(message.id);
    if (request === undefined) return;
    this.pending.delete(message.id);
    if (message.error !== undefined) request.reject(new Error(`inspector: ${message.error.message}`));
    else request.resolve(message.result);
  }

  failAll(sessionId) {
    for (const [id, request] of this.pending) {
      if (request.sessionId !== sessionId) continue;
      this.pending.delete(id);
      request.reject(new Error('the executor exited during the profile'));
    }
  }
}

// One executor: profiler started, then stopped after the wait; null if it
// exited meanwhile.
async function startProfiler(workers, sessionId, samplingIntervalUs) {
  await workers.send(sessionId, 'Profiler.enable');
  await workers.send(sessionId, 'Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await workers.send(sessionId, 'Profiler.start');
}

async function stopProfiler(workers, sessionId) {
  const { profile } = await workers.send(sessionId, 'Profiler.stop');
  await workers.send(sessionId, 'Profiler.disable');
  return profile;
}

// [{ executor, threadId, name, profile }] for every executor running now,
// by slot. `executors`: js/executors.js; `label`: the pool's.
async function profileExecutors(executors, label, options) {
  const inspector = require('node:inspector');  // throws ERR_INSPECTOR_NOT_AVAILABLE in a Node built without it
  const targets = [...executors.records].map((r) => ({ slot: r.slot, threadId: r.worker.threadId }));
  if (targets.length === 0) return [];
  const session = new inspector.Session();
  session.connect();
  // Inspector replies do not keep the process alive, and an idle pool
  // does not either: without this, the process could end mid-profile.
  const alive = setInterval(() => {}, MAX_DURATION_MS);
  try {
    const workers = new WorkerSessions(session);
    await post(session, 'NodeWorker.enable', { waitForDebuggerOnStart: false });
    await workers.attached(targets.map((t) => String(t.threadId)));
    const running = [];
    await Promise.all(targets.map(async (target) => {
      const sessionId = workers.byThread.get(String(target.threadId));
      if (sessionId === undefined) return;
      try {
        await startProfiler(workers, sessionId, options.samplingIntervalUs);
        running.push({ target, sessionId });
      } catch {
        // It exited before its profiler started: no profile of it.
      }
    }));
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    const out = [];
    await Promise.all(running.map(async ({ target, sessionId }) => {
      try {
        const profile = await stopProfiler(workers, sessionId);
        out.push({ executor: target.slot, threadId: target.threadId, name: executorName(target.slot, label), profile });
      } catch {
        // It exited during the profile: what it sampled went with it.
      }
    }));
    return out.sort((a, b) => a.executor - b.executor);
  } finally {
    try {
      await post(session, 'NodeWorker.disable');
    } finally {
      session.disconnect();
      clearInterval(alive);
    }
  }
}

module.exports = { profileExecutors, resolveProfileOptions };
