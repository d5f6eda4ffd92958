'use strict';
// An HTTP service that moves its CPU work off the event loop onto a tasklets
// pool, and stays responsive under overload:
//
//   POST /hash?rounds=N   hashes the body N times (SHA-256) on the pool
//   GET  /health          getHealth(): 200 when it can take work, 503 when not
//   GET  /metrics         getStats() and getHealth() as JSON
//
// Backpressure: while the pool's backlog is at maxQueue (`pool.needsDrain`)
// a request is answered 503 with Retry-After at once, before any work is
// queued; a task that runs past its timeout answers 504. SIGTERM/SIGINT
// stop accepting connections, let the queued work finish (at most 10 s) and
// exit.
//
//   PORT=8080 MAX_QUEUE=64 TIMEOUT_MS=2000 node examples/http-service/server.js
// It prints one JSON line { listening: port } once it accepts connections.

const http = require('node:http');
const { Tasklets } = require('tasklets');

const PORT = Number(process.env.PORT || 8080);
const MAX_QUEUE = Number(process.env.MAX_QUEUE || 64);
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 2000);
const MAX_BODY = 1 << 20;
const MAX_ROUNDS = 1e7;

const pool = new Tasklets({
  workers: { min: 1, max: 'auto', scaling: 'adaptive' },  // one executor per CPU at most
  maxQueue: MAX_QUEUE,
  timeout: TIMEOUT_MS,
  logging: 'warn',
});

// Runs on an executor: it sees only its arguments and the globals.
function hashRounds(body, rounds) {
  const { createHash } = process.getBuiltinModule('node:crypto');
  let digest = createHash('sha256').update(body).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function overloaded(res) {
  send(res, 503, { error: 'overloaded, retry later' }, { 'retry-after': '1' });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function hash(req, res, url) {
  const rounds = Number(url.searchParams.get('rounds') || 1000);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    send(res, 400, { error: `rounds must be an integer from 1 to ${MAX_ROUNDS}` });
    return;
  }
  // Refused before reading the body: an overloaded service does the least work.
  if (pool.needsDrain) {
    overloaded(res);
    req.resume();
    return;
  }
  const body = await readBody(req);
  try {
    const digest = await pool.run(hashRounds, body, rounds);
    send(res, 200, { digest, rounds });
  } catch (err) {
    if (err.code === 'ERR_QUEUE_FULL') overloaded(res);       // filled up while the body arrived
    else if (err.code === 'ERR_TASK_TIMEOUT') send(res, 504, { error: `the work took more than ${TIMEOUT_MS} ms` });
    else if (err.code === 'ERR_POOL_SHUTDOWN') send(res, 503, { error: 'shutting down' });
    else throw err;
  }
}

function health(res) {
  const h = pool.getHealth();
  send(res, h.status === 'healthy' || h.status === 'degraded' ? 200 : 503, h);
}

function metrics(res) {
  const s = pool.getStats();
  send(res, 200, {
    stats: {
      activeWorkers: s.activeWorkers, executed: s.executed, failed: s.failed, timedOut: s.timedOut,
      pending: s.pending, maxQueue: s.maxQueue, needsDrain: s.needsDrain,
      throughput: s.throughput, meanTaskTimeUs: s.meanTaskTime, queueWaitP99Us: s.queueWait.p99, runTimeP99Us: s.runTime.p99,
    },
    health: pool.getHealth(),
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let handled;
  if (req.method === 'POST' && url.pathname === '/hash') handled = hash(req, res, url);
  else if (req.method === 'GET' && url.pathname === '/health') handled = health(res);
  else if (req.method === 'GET' && url.pathname === '/metrics') handled = metrics(res);
  else send(res, 404, { error: 'not found' });
  Promise.resolve(handled).catch((err) => {
    if (!res.headersSent) send(res, err.status || 500, { error: err.message });
    else res.destroy(err);
  });
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeIdleConnections();
  const report = await pool.shutdown({ mode: 'drain', timeout: 10000 });
  console.log(JSON.stringify({ stopped: signal, ...report }));
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

server.listen(PORT, '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
