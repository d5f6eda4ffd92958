'use strict';
// The dashboard's Server-Sent Events stream: every intervalMs, one
// `snapshot` event per connected client with the state of the pool it
// watches (js/dashboard/snapshot.js) and the list of pools to choose from.
//
//   event: snapshot
//   data: { "pools": ["images", "2"], "snapshot": {...} | null, "error"?: "..." }
//
// A snapshot is built once per pool and tick, whatever the number of
// clients watching it, and only while some client is connected: a
// dashboard nobody looks at costs one idle server.

const { snapshot, listPools } = require('./snapshot');

const RETRY_MS = 2000;   // how soon an EventSource reconnects
const MAX_BUFFERED = 1 << 20;   // bytes written to a client and not yet sent

class Stream {
  // chosen: the pools given to dashboard() (null: every live pool).
  constructor(chosen, intervalMs) {
    this.chosen = chosen;
    this.intervalMs = intervalMs;
    this.clients = new Set();   // { res, key } (key null: the first pool)
    this.timer = null;
  }

  // The current message for each key asked for (built once per key).
  messages(keys) {
    const pools = listPools(this.chosen);
    const names = pools.map((p) => p.key);
    const out = new Map();
    for (const key of keys) {
      if (out.has(key)) continue;
      const entry = key === null ? pools[0] : pools.find((p) => p.key === key);
      let message;
      try {
        message = { pools: names, snapshot: entry === undefined ? null : snapshot(entry.pool, entry.key) };
      } catch (err) {
        message = { pools: names, snapshot: null, error: String(err && err.message) };
      }
      out.set(key, JSON.stringify(message));
    }
    return out;
  }

  // One message, for GET /snapshot.
  current(key) {
    return this.messages([key]).get(key);
  }

  add(res, key) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    const client = { res, key };
    this.clients.add(client);
    const drop = () => {
      this.clients.delete(client);
      if (this.clients.size === 0) this.stop();
    };
    // The response's 'close': the client went away (or close() ended it).
    res.on('close', drop);
    res.on('error', drop);
    this.send(client, this.messages([key]).get(key));
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      // The server (or the user's) keeps the process alive, not the stream.
      this.timer.unref();
    }
  }

  // A client that stopped reading misses updates instead of growing the
  // server's buffers: every event holds the whole state, so the next one it
  // reads is complete.
  send(client, json) {
    if (client.res.writableLength > MAX_BUFFERED) return;
    client.res.write(`event: snapshot\ndata: ${json}\n\n`);
  }

  tick() {
    const messages = this.messages([...this.clients].map((c) => c.key));
    for (const client of this.clients) this.send(client, messages.get(client.key));
  }

  stop() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  // Ends every stream (the server is closing).
  close() {
    this.stop();
    for (const client of this.clients) client.res.end();
    this.clients.clear();
  }
}

module.exports = { Stream };
