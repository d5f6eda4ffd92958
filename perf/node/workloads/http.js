'use strict';
// 6. An HTTP service: node:http in one child process, its handler hashing
// each request body on the pool (or on the event loop: 'inline'); load from
// a second child process over 127.0.0.1 for a fixed time.
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { Child } = require('../proc');

const SERVER = path.join(__dirname, '..', 'http', 'server.js');
const LOAD = path.join(__dirname, '..', 'http', 'load.js');

// A JSON body of roughly `bytes` bytes, the same for every library.
function makeBody(bytes) {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < bytes; i++) items.push({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'] });
  return JSON.stringify({ items });
}

module.exports = {
  makeBody,
  id: 'http',
  title: 'HTTP service: CPU-bound handler offloaded',
  runInParent: true,

  // The job's cost on this machine's main thread, for the report.
  prepare(params) {
    const tasks = require('../tasks');
    const input = { body: makeBody(params.bodyBytes), rounds: params.rounds };
    for (let i = 0; i < 20; i++) tasks.hashBody(input);
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) tasks.hashBody(input);
    return { ...params, jobUs: ((performance.now() - t0) / 100) * 1000 };
  },

  // Every library at every connection level, the no-pool baseline too.
  participants({ pools, params }) {
    const libraries = ['inline', ...pools];
    return params.http.connectionLevels.flatMap((connections) => libraries.map((library) => ({ library, connections })));
  },

  async sample(participant, params) {
    const { rounds, bodyBytes, warmupMs, durationMs } = params;
    const { connections } = participant;
    const lifetimeMs = warmupMs + durationMs + 30_000;
    const server = new Child(SERVER, { ...participant, rounds, lifetimeMs });
    let load = null;
    try {
      const ready = await server.next(30_000);
      if (ready.error) throw new Error(ready.error);
      load = new Child(LOAD, { port: ready.port, warmupMs, durationMs, connections, body: makeBody(bodyBytes), rounds });
      const result = await load.next(warmupMs + durationMs + 20_000);
      if (result.error) throw new Error(result.error);
      server.send({ cmd: 'stop' });
      const stopped = await server.next(10_000);
      if (result.wrong > 0) throw new Error(`wrong answer: ${result.wrong} responses with a wrong digest`);
      if (result.ok === 0) throw new Error(`no successful request (${result.errors} errors)`);
      return { ...result, served: stopped.served, failed: stopped.failed };
    } finally {
      if (load) load.kill();
      server.kill();
    }
  },
};
