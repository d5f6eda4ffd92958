'use strict';
// What the producer and the workers agree on: the Redis connection, the
// accounting keys and the job's work.

function connectionOf(url = 'redis://127.0.0.1:6379') {
  const { hostname, port } = new URL(url);
  // BullMQ workers block on Redis: their connection must not give up.
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

function keysOf(queueName) {
  return {
    results: `${queueName}:accounting:results`,     // jobId -> { value, by }
    attempts: `${queueName}:accounting:attempts`,   // jobId -> times the work finished
    counted: `${queueName}:accounting:counted`,     // jobs counted (once each)
  };
}

// A job's CPU work, run on a tasklets executor: `rounds` rounds of an
// xorshift mix seeded by n. Pure: the same n gives the same value anywhere.
function work(n, rounds) {
  let x = (n * 2654435761) >>> 0 || 1;
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
  }
  return x;
}

module.exports = { connectionOf, keysOf, work };
