'use strict';
// The HTTP service under test (a child process of the lab): node:http on
// 127.0.0.1, each POST body hashed by tasks.hashBody on the pool (or on the
// event loop for the 'inline' baseline). Reports its port over IPC once warm,
// stops on { cmd: 'stop' } or by itself after `lifetimeMs`.
const http = require('node:http');
const { LIBRARIES } = require('../libs');

async function main() {
  const { library, variant, workers, rounds, lifetimeMs } = JSON.parse(process.argv[2]);
  const pool = await LIBRARIES[library].open({ workers, variant });
  for (let i = 0; i < 20; i++) await pool.call('hashBody', { body: `warm-up ${i}`, rounds });
  let served = 0;
  let failed = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      pool.call('hashBody', { body: Buffer.concat(chunks).toString('utf8'), rounds }).then(
        (digest) => {
          served++;
          res.end(digest);
        },
        (err) => {
          failed++;
          res.statusCode = 500;
          res.end(String(err && err.message));
        });
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    await pool.close();
    process.send({ stopped: true, served, failed }, () => process.exit(0));
  };
  setTimeout(stop, lifetimeMs).unref();
  process.on('message', (m) => m && m.cmd === 'stop' && stop());
  process.on('disconnect', () => process.exit(0));
  process.send({ port: server.address().port });
}

main().catch((err) => {
  process.send({ error: String((err && err.stack) || err) }, () => process.exit(1));
});
