'use strict';
// Load generator (a child process of the lab): `connections` keep-alive
// clients over 127.0.0.1, each sending the next POST as soon as the last
// answer arrived, for a warm-up then a fixed measured time. Every answer is
// checked against the digest computed here. Reports over IPC.
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const tasks = require('../tasks');
const { latencySummary } = require('../stats');

async function main() {
  const { port, warmupMs, durationMs, connections, body, rounds } = JSON.parse(process.argv[2]);
  const expected = tasks.hashBody({ body, rounds });
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const payload = Buffer.from(body);
  const latenciesUs = [];
  let ok = 0;
  let errors = 0;
  let wrong = 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + durationMs;

  const once = () => new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent,
      headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= stopAt) {
          if (res.statusCode !== 200) errors++;
          else if (text !== expected) wrong++;
          else { ok++; latenciesUs.push((t1 - t0) * 1000); }
        }
        resolve();
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => { if (t0 >= measureFrom) errors++; resolve(); });
    req.end(payload);
  });

  const client = async () => {
    while (performance.now() < stopAt) await once();
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  const summary = latenciesUs.length ? latencySummary(latenciesUs) : null;
  process.send({ ok, errors, wrong, durationMs, rps: (ok / durationMs) * 1000, latencyUs: summary },
    () => process.exit(0));
}

main().catch((err) => process.send({ error: String((err && err.stack) || err) }, () => process.exit(1)));
