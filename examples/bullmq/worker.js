'use strict';
// One "machine" of the cluster: a BullMQ worker whose jobs run on a local
// tasklets pool. BullMQ spreads jobs over machines and retries the jobs of
// a machine that dies; tasklets spreads each machine's jobs over its cores
// and keeps its event loop free, so BullMQ's lock renewals never starve
// behind CPU work.
//
// Accounting is exactly-once although delivery is at-least-once: a job's
// result is recorded with HSETNX under its id, and counted only by the
// write that created it. A job run twice (its first machine died after the
// work, before BullMQ heard of it) is not counted twice.
//
//   REDIS_URL=redis://127.0.0.1:6379 QUEUE=tasklets-jobs node examples/bullmq/worker.js
// Tells its parent (when forked) { started: jobId } and { finished: jobId }.

const { Worker } = require('bullmq');
const { Tasklets } = require('tasklets');
const { connectionOf, keysOf, work } = require('./shared');

const name = process.env.WORKER_NAME || `worker-${process.pid}`;
const queueName = process.env.QUEUE || 'tasklets-jobs';
const connection = connectionOf(process.env.REDIS_URL);
const keys = keysOf(queueName);
const tell = (message) => process.send && process.send({ worker: name, ...message });

const pool = new Tasklets({ workers: 'auto', timeout: 30000 });

const worker = new Worker(queueName, async (job) => {
  tell({ started: job.id });
  const value = await pool.run(work, job.data.n, job.data.rounds);
  const redis = await worker.client;
  await redis.hincrby(keys.attempts, job.id, 1);
  // One result per job, whoever computed it first; counted once.
  if (await redis.hsetnx(keys.results, job.id, JSON.stringify({ value, by: name })) === 1) {
    await redis.incr(keys.counted);
  }
  tell({ finished: job.id });
  return value;
}, {
  connection,
  concurrency: Number(process.env.CONCURRENCY || 4),
  // A machine that stops answering loses its jobs after 2 s, found by
  // the others' stalled-job check (every second).
  lockDuration: 2000,
  stalledInterval: 1000,
  maxStalledCount: 5,
});

worker.on('error', (err) => console.error(`${name}: ${err.message}`));
worker.on('ready', () => tell({ ready: true }));

async function stop() {
  await worker.close();   // waits for its active jobs
  await pool.shutdown();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
