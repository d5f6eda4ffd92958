'use strict';
// Gathers the tasks of single run() calls made in the same turn and hands
// them to the addon in one submit call (addon/protocol.md, submit).
//
// Flush rule: once per turn, in a microtask queued by the first push, or at
// once when the batch reaches MAX_BATCH (a loop of run() calls then costs one
// native call per MAX_BATCH tasks and memory stays bounded). The columns are
// reused across flushes: the addon copies what it needs during submit.
// Primitive arguments are packed at push (js/pack.js), so what the caller
// does to its args array after run() returns cannot reach the task.
// A flush of one task with packed arguments (a task awaited at a time) goes
// through submitOne instead: the addon reads a few numbers instead of a
// submission object, about a tenth of the native work.

const { Packer, packArgs } = require('./pack');
const { ArgKind } = require('./protocol');

const MAX_BATCH = 4096;

class SubmitQueue {
  // submit(columns) may throw (the submission columns of js/pool.js:
  // { count, ids, fnIds, argKinds, args, priorities, timeouts, packed,
  // offsets }, timeouts a Float64Array of ms, 0 = none, or undefined when no
  // task of the batch has one); then failed(ids, count, error) is told
  // which tasks never reached the addon. submitOne(id, fnId, priority,
  // timeout, packed) submits one task with packed arguments (timeout in ms,
  // 0 = none; packed its bytes) and may throw as submit does.
  constructor(submit, failed, submitOne) {
    this.submit = submit;
    this.failed = failed;
    this.submitOne = submitOne;
    this.count = 0;
    this.scheduled = false;
    this.ids = new Float64Array(MAX_BATCH);
    this.fnIds = new Uint32Array(MAX_BATCH);
    this.argKinds = new Uint8Array(MAX_BATCH);
    this.priorities = new Uint8Array(MAX_BATCH);
    this.args = new Array(MAX_BATCH).fill(undefined);
    this.timeouts = new Float64Array(MAX_BATCH);
    this.timed = false;   // some task of this batch has a timeout
    this.packer = new Packer();
    this.offsets = new Uint32Array(MAX_BATCH + 1);
    this.flush = this.flush.bind(this);
  }

  // Throws only if packing `args` fails (a value that is not a primitive);
  // then nothing of the task was queued.
  push(id, fnId, argKind, args, priority, timeout) {
    const i = this.count;
    if (argKind === ArgKind.PRIMITIVES) {
      const at = this.packer.size;
      try {
        this.offsets[i] = packArgs(this.packer, args);
      } catch (err) {
        this.packer.size = at;
        throw err;
      }
      this.argKinds[i] = ArgKind.PACKED;
    } else {
      this.offsets[i] = this.packer.size;
      this.argKinds[i] = argKind;
      this.args[i] = args;
    }
    this.count = i + 1;
    this.ids[i] = id;
    this.fnIds[i] = fnId;
    this.priorities[i] = priority;
    if (timeout !== Infinity) {
      if (!this.timed) {
        this.timed = true;
        this.timeouts.fill(0, 0, i);
      }
      this.timeouts[i] = timeout;
    } else if (this.timed) {
      this.timeouts[i] = 0;
    }
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
    const timeouts = this.timed ? this.timeouts : undefined;
    this.timed = false;
    this.offsets[count] = this.packer.size;
    try {
      if (count === 1 && this.argKinds[0] === ArgKind.PACKED) {
        this.submitOne(this.ids[0], this.fnIds[0], this.priorities[0], timeouts === undefined ? 0 : timeouts[0],
          this.packer.bytes.subarray(0, this.packer.size));
        return;
      }
      this.submit({
        count, ids: this.ids, fnIds: this.fnIds, argKinds: this.argKinds, args: this.args, priorities: this.priorities,
        timeouts, packed: this.packer.bytes.subarray(0, this.packer.size), offsets: this.offsets,
      });
    } catch (err) {
      this.failed(this.ids.slice(0, count), count, err);
    } finally {
      this.args.fill(undefined, 0, count);  // let the payloads be collected
      this.packer.size = 0;
    }
  }
}

module.exports = { SubmitQueue, MAX_BATCH };
