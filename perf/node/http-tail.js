'use strict';
// Where a request of the lab's HTTP service waits: the service of
// perf/node/http/server.js run in this process with a probe on each request
// (body received -> pool call -> settled -> response), the main thread's
// event-loop delay and GC pauses, and the runtime's queue-wait and run-time
// histograms (tasklets only), under the lab's load generator.
//
//   node perf/node/http-tail.js [connections=32] [library=tasklets]
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { monitorEventLoopDelay, PerformanceObserver, performance } = require('node:perf_hooks');
const { LIBRARIES } = require('./libs');
const { percentile } = require('./stats');
const { makeBody } = require('./workloads/http');

const ROUNDS = 1000;
const WARMUP_MS = 1000;
const DURATION_MS = 5000;
const ms = (us) => (us / 1000).toFixed(1);

// The smallest histogram bound (seconds) under which a fraction q of the counts fall.
function bucketBound(h, bounds, q) {
  let seen = 0;
  for (let i = 0; i < h.buckets.length; i++) {
    seen += h.buckets[i];
    if (seen >= q * h.count) return i < bounds.length ? `${(bounds[i] * 1000).toFixed(1)} ms` : 'above the last bound';
  }
  return '-';
}

async function main() {
  const connections = Number(process.argv[2] || 32);
  const library = process.argv[3] || 'tasklets';
  const pool = await LIBRARIES[library].open({ workers: 2 });
  for (let i = 0; i < 20; i++) await pool.call('hashBody', { body: `warm-up ${i}`, rounds: ROUNDS });
  let measuring = false;
  const inServer = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const t0 = performance.now();
      pool.call('hashBody', { body: Buffer.concat(chunks).toString('utf8'), rounds: ROUNDS }).then((digest) => {
        if (measuring) inServer.push((performance.now() - t0) * 1000);
        res.end(digest);
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pauses = [];
  const gc = new PerformanceObserver((list) => {
    if (measuring) for (const e of list.getEntries()) pauses.push(e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const load = fork(path.join(__dirname, 'http', 'load.js'), [JSON.stringify({
    port: server.address().port, warmupMs: WARMUP_MS, durationMs: DURATION_MS, connections, body: makeBody(4096), rounds: ROUNDS,
  })]);
  setTimeout(() => {
    measuring = true;
    delay.enable();
  }, WARMUP_MS);
  const result = await new Promise((resolve) => load.once('message', resolve));
  measuring = false;
  delay.disable();
  gc.disconnect();
  const out = [
    `${library}, ${connections} connections: ${result.rps.toFixed(0)} requests/s; client p50 ${ms(result.latencyUs.p50)} ms, p99 ${ms(result.latencyUs.p99)} ms`,
    `  pool call (body received -> result): p50 ${ms(percentile(inServer, 0.5))} ms, p99 ${ms(percentile(inServer, 0.99))} ms`,
    `  main event-loop delay: p50 ${(delay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`,
    `  main-thread GC: ${pauses.length} pauses, ${pauses.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(0, ...pauses).toFixed(1)} ms`,
  ];
  if (pool.stats) {
    const { histograms: h } = pool.stats();
    out.push(`  runtime (whole run): queue wait p50 <= ${bucketBound(h.queueWait, h.bounds, 0.5)}, p99 <= ${bucketBound(h.queueWait, h.bounds, 0.99)}; ` +
      `run time p50 <= ${bucketBound(h.runTime, h.bounds, 0.5)}, p99 <= ${bucketBound(h.runTime, h.bounds, 0.99)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  server.closeAllConnections();
  server.close();
  await pool.close();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
