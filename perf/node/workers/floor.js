'use strict';
// The machine's floor for one round trip (the latency workload, issue 15):
// this Worker parks in Atomics.wait (a futex wait), the main thread wakes it
// with Atomics.notify, it runs the task (a trivial JS call), stores the
// answer and notifies; the main thread was waiting with Atomics.waitAsync,
// whose promise V8 resolves through a task posted to the main thread's idle
// event loop (a uv_async wake). No pool does less per round trip.
// Layout of the shared Int32Array: [0] state (0 idle, 1 task, 2 exit),
// [1] argument, [2] answer, [3] answered (0 / 1).
const { workerData } = require('node:worker_threads');
const tasks = require('../tasks');

const cell = new Int32Array(workerData.shared);
for (;;) {
  Atomics.wait(cell, 0, 0);
  if (Atomics.load(cell, 0) === 2) break;
  cell[2] = tasks.inc(cell[1]);
  Atomics.store(cell, 0, 0);
  Atomics.store(cell, 3, 1);
  Atomics.notify(cell, 3);
}
