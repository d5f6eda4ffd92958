'use strict';
// Scaling past one machine: a BullMQ queue on Redis feeds several worker
// processes (each standing in for a machine, each with its own tasklets
// pool). Midway, one worker is killed (SIGKILL, as a machine that loses
// power); BullMQ hands its unfinished jobs to the others. At the end every
// job is accounted for exactly once.
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq/run.js [--jobs N] [--workers N] [--rounds N]
// Needs a Redis server it may write to (it empties its own queue's keys
// first). Prints a JSON summary line; exits 1 if the accounting is wrong.

const path = require('node:path');
const { fork } = require('node:child_process');
const { once } = require('node:events');
const { Queue, QueueEvents } = require('bullmq');
const { connectionOf, keysOf, work } = require('./shared');

function parseArgs(argv) {
  const opts = { jobs: 60, workers: 3, rounds: 20000000 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts)) throw new RangeError(`unknown option ${argv[i]}`);
    opts[key] = Number(argv[i + 1]);
    if (!Number.isInteger(opts[key]) || opts[key] < 1) throw new RangeError(`${argv[i]} needs a positive integer`);
  }
  if (opts.workers < 2) throw new RangeError('--workers must be at least 2: one of them is killed');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const queueName = `tasklets-jobs-${process.pid}`;
  const connection = connectionOf(url);
  const keys = keysOf(queueName);
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const redis = await queue.client;
  await queue.obliterate({ force: true });
  await redis.del(keys.results, keys.attempts, keys.counted);

  const env = { ...process.env, REDIS_URL: url, QUEUE: queueName, CONCURRENCY: '2' };
  const started = new Map();   // jobId -> worker that started it last
  const finished = new Set();
  const children = Array.from({ length: opts.workers }, (_, i) => {
    const child = fork(path.join(__dirname, 'worker.js'), { env: { ...env, WORKER_NAME: `machine-${i}` } });
    child.on('message', (m) => {
      if (m.started !== undefined) started.set(m.started, m.worker);
      if (m.finished !== undefined) finished.add(m.finished);
    });
    return child;
  });
  await Promise.all(children.map((child) => new Promise((resolve, reject) => {
    child.on('message', (m) => m.ready && resolve());
    child.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before it was ready`)));
  })));

  const t0 = performance.now();
  await queue.addBulk(Array.from({ length: opts.jobs }, (_, n) => ({
    name: 'work', data: { n, rounds: opts.rounds }, opts: { jobId: `job-${n}`, attempts: 3 },
  })));

  // Kill machine-0 while it holds jobs it has started and not finished.
  const victim = children[0];
  const heldAtKill = await new Promise((resolve) => {
    const check = setInterval(() => {
      const held = [...started].filter(([id, w]) => w === 'machine-0' && !finished.has(id)).map(([id]) => id);
      if (held.length > 0) {
        clearInterval(check);
        victim.kill('SIGKILL');
        resolve(held);
      }
    }, 5);
  });
  await once(victim, 'exit');

  // Every job completes (or fails for good): counts from Redis itself.
  let counts;
  for (;;) {
    counts = await queue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
    if (counts.completed + counts.failed === opts.jobs) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ms = performance.now() - t0;

  const results = await redis.hgetall(keys.results);
  const attempts = await redis.hgetall(keys.attempts);
  const counted = Number(await redis.get(keys.counted));
  const wrong = [];
  for (let n = 0; n < opts.jobs; n++) {
    const r = results[`job-${n}`];
    if (r === undefined || JSON.parse(r).value !== work(n, opts.rounds)) wrong.push(`job-${n}`);
  }
  const byWorker = {};
  for (const r of Object.values(results)) byWorker[JSON.parse(r).by] = (byWorker[JSON.parse(r).by] || 0) + 1;
  const summary = {
    jobs: opts.jobs,
    completed: counts.completed,
    failed: counts.failed,
    counted,
    results: Object.keys(results).length,
    wrong,
    killed: 'machine-0',
    heldAtKill,
    redoneAfterKill: heldAtKill.filter((id) => results[id] !== undefined && JSON.parse(results[id]).by !== 'machine-0'),
    finishedTwice: Object.entries(attempts).filter(([, a]) => Number(a) > 1).map(([id]) => id),
    byWorker,
    ms: Math.round(ms),
  };
  console.log(JSON.stringify(summary));

  for (const child of children.slice(1)) child.kill('SIGTERM');
  await Promise.all(children.slice(1).map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
  await queue.obliterate({ force: true });
  await redis.del(keys.results, keys.attempts, keys.counted);
  await events.close();
  await queue.close();
  const ok = summary.completed === opts.jobs && summary.counted === opts.jobs && summary.results === opts.jobs &&
             wrong.length === 0 && summary.redoneAfterKill.length === heldAtKill.length;
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
