'use strict';
// The last failures of a pool, newest last, with the executor that ran each
// (for the dashboard's error list). getHealth().errors.recent lists the
// same rejections as the caller saw them; this one is fed by the
// settlements observer (js/metrics/settlements.js), which knows the slot a
// completion came from. Only failures cost anything: a ring of CAPACITY
// plain objects.

const CAPACITY = 20;
const MESSAGE_MAX = 500;   // a task may throw a megabyte of text

class RecentErrors {
  constructor(capacity = CAPACITY) {
    this.capacity = capacity;
    this.ring = new Array(capacity);
    this.next = 0;
    this.size = 0;
  }

  // executor: the slot the completion came from, -1 when the settlements
  // observer was not told (it is only while tracing); a task's own error
  // carries it as `workerThread`. null: it never ran (cancelled while
  // queued, a failed dependency, a shutdown). err: null for a failure whose
  // error was never built (a failed group's later tasks).
  record(taskId, err, code, executor) {
    const object = err !== null && typeof err === 'object';
    let message = err === null || err === undefined ? '' : String(object ? err.message : err);
    if (message.length > MESSAGE_MAX) message = `${message.slice(0, MESSAGE_MAX - 3)}...`;
    let slot = executor >= 0 ? executor : null;
    if (slot === null && object && Number.isInteger(err.workerThread) && err.workerThread >= 0) slot = err.workerThread;
    this.ring[this.next] = { taskId, code, message, executor: slot, at: Date.now() };
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  // Oldest first, as plain copies.
  list() {
    const out = [];
    const first = (this.next - this.size + this.capacity) % this.capacity;
    for (let k = 0; k < this.size; k++) out.push({ ...this.ring[(first + k) % this.capacity] });
    return out;
  }
}

module.exports = { RecentErrors, CAPACITY };
