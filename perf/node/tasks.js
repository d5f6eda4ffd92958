'use strict';
// The task bodies every library runs, so that all of them do the same work.
// Each is self-contained (no closure, no require): tasklets and workerpool
// send a function by its source, and the worker files of the other
// libraries import this module. Each takes one argument and its answer can
// be checked by the caller.

function inc(x) {
  return x + 1;
}

// A fixed amount of integer work (an LCG), `n` rounds. Counting rounds
// instead of watching the clock keeps the work the same when a thread is
// preempted (2 cores, main thread plus workers).
function spin(n) {
  let x = n | 0;
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

// A copy of the bytes with the first one bumped: a result as large as the
// argument, and a cheap way to check both crossed intact.
function echoBytes(bytes) {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  out[0] = (bytes[0] + 1) & 255;
  return out;
}

// The HTTP service's job: SHA-256 of the body, then `rounds` more rounds
// over the hex digest. node:crypto is reached without require, which a
// function sent by source does not have.
function hashBody(input) {
  const get = process.getBuiltinModule;
  if (typeof get === 'function') {
    const crypto = get('node:crypto');
    let h = crypto.createHash('sha256').update(input.body).digest('hex');
    for (let i = 0; i < input.rounds; i++) h = crypto.createHash('sha256').update(h).digest('hex');
    return h;
  }
  return import('node:crypto').then((crypto) => {
    let h = crypto.createHash('sha256').update(input.body).digest('hex');
    for (let i = 0; i < input.rounds; i++) h = crypto.createHash('sha256').update(h).digest('hex');
    return h;
  });
}

module.exports = { inc, spin, echoBytes, hashBody };
