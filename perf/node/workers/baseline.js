'use strict';
// The worker_threads baseline: one Worker, one message per task and one per
// answer, nothing else.
const { parentPort } = require('node:worker_threads');
const tasks = require('../tasks');

function reply(id, result, transfer) {
  if (transfer && result instanceof Uint8Array) parentPort.postMessage({ id, result }, [result.buffer]);
  else parentPort.postMessage({ id, result });
}

parentPort.on('message', ({ id, task, arg, transfer }) => {
  let result;
  try {
    result = tasks[task](arg);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.stack) });
    return;
  }
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    result.then((r) => reply(id, r, transfer), (err) => parentPort.postMessage({ id, error: String(err && err.stack) }));
  } else {
    reply(id, result, transfer);
  }
});
