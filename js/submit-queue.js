'use strict';
// Gathers the tasks of single run() calls made in the same turn and hands
// them to the addon in one submit call (addon/protocol.md, submit).
//
// Flush rule: once per turn, in a microtask queued by the first push, or at
// once when the batch reaches MAX_BATCH (a loop of run() calls then costs one
// native call per MAX_BATCH tasks and memory stays bounded). The columns are
// reused across flushes: the addon copies what it needs during submit.

const MAX_BATCH = 4096;

class SubmitQueue {
  // submit(count, ids, fnIds, argKinds, args, priorities) may throw; then
  // failed(ids, count, error) is told which tasks never reached the addon.
  constructor(submit, failed) {
    this.submit = submit;
    this.failed = failed;
    this.count = 0;
    this.scheduled = false;
    this.ids = new Float64Array(MAX_BATCH);
    this.fnIds = new Uint32Array(MAX_BATCH);
    this.argKinds = new Uint8Array(MAX_BATCH);
    this.priorities = new Uint8Array(MAX_BATCH);
    this.args = new Array(MAX_BATCH).fill(undefined);
    this.flush = this.flush.bind(this);
  }

  push(id, fnId, argKind, args, priority) {
    const i = this.count++;
    this.ids[i] = id;
    this.fnIds[i] = fnId;
    this.argKinds[i] = argKind;
    this.args[i] = args;
    this.priorities[i] = priority;
    if (this.count === MAX_BATCH) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  flush() {
    this.scheduled = false;
    const count = this.count;
    if (count === 0) return;
    this.count = 0;
    try {
      this.submit(count, this.ids, this.fnIds, this.argKinds, this.args, this.priorities);
    } catch (err) {
      this.failed(this.ids.slice(0, count), count, err);
    } finally {
      this.args.fill(undefined, 0, count);  // let the payloads be collected
    }
  }
}

module.exports = { SubmitQueue, MAX_BATCH };
