'use strict';
// Every task's life on node:diagnostics_channel, as
// tracingChannel('tasklets:task') (docs/observability.md, "Tracing"):
//
//   start       at submission, synchronously inside run() / runAll() / map(),
//               so a subscriber sees the caller's async context;
//   end         right after, when the submitting call returns;
//   error       at settlement, if the task rejected (context.error);
//   asyncStart  at settlement, with the timings;
//   asyncEnd    right after.
//
// The main thread learns that a task started only when it settles (a message
// per start would cost more than a no-op task), so asyncStart is published
// at settlement with `startedAt` computed from the executor's measured run
// time.
//
// Nothing is built unless somebody subscribes: submission looks at one
// boolean per call (per group for runAll/map), settlement at the count of
// traced tasks once per completion batch.

const diagnosticsChannel = require('node:diagnostics_channel');

const CHANNEL = 'tasklets:task';
const channel = diagnosticsChannel.tracingChannel(CHANNEL);
// Every pool, as it is created ({ pool }): how `npx tasklets trace` records
// the pools of a script, whichever copy of tasklets the script loads.
const POOL_CHANNEL = 'tasklets:pool';
const poolChannel = diagnosticsChannel.channel(POOL_CHANNEL);
const PRIORITY_NAMES = ['high', 'normal', 'low'];

// Traced task id -> context while it is pending: a ring indexed by
// `id & MASK` (a Map costs more than the rest of a traced task), with the
// contexts of tasks still pending when a newer id lands on their slot moved
// to a Map, as js/completions.js keeps its single tasks.
const RING_SIZE = 1 << 16;
const MASK = RING_SIZE - 1;

class ContextTable {
  constructor() {
    this.ring = null;    // made for the first traced task: most pools are never traced
    this.stragglers = new Map();
    this.size = 0;
  }

  add(context) {
    if (this.ring === null) this.ring = new Array(RING_SIZE).fill(undefined);
    const i = context.taskId & MASK;
    const older = this.ring[i];
    if (older !== undefined) this.stragglers.set(older.taskId, older);
    this.ring[i] = context;
    this.size++;
  }

  take(id) {
    if (this.size === 0) return undefined;
    const i = id & MASK;
    const context = this.ring[i];
    if (context !== undefined && context.taskId === id) {
      this.ring[i] = undefined;
      this.size--;
      return context;
    }
    if (this.stragglers.size === 0) return undefined;
    const straggler = this.stragglers.get(id);
    if (straggler !== undefined) {
      this.stragglers.delete(id);
      this.size--;
    }
    return straggler;
  }
}

function epochMs() {
  return performance.timeOrigin + performance.now();
}

class TaskTracer {
  constructor(poolLabel, poolId) {
    this.pool = poolLabel;
    this.poolId = poolId;
    this.traced = new ContextTable();  // task id -> context, while it is pending
  }

  get active() {
    return channel.start.hasSubscribers || channel.asyncEnd.hasSubscribers;
  }

  // A task was submitted (call only when `active`).
  submitted(id, priority) {
    const context = {
      taskId: id, pool: this.pool, poolId: this.poolId, priority: PRIORITY_NAMES[priority] ?? 'normal',
      submittedAt: epochMs(), executor: -1, startedAt: undefined, settledAt: undefined,
      runTimeMs: undefined, waitMs: undefined, error: undefined,
    };
    this.traced.add(context);
    channel.start.publish(context);
    channel.end.publish(context);
  }

  // Task `id` settled; `err` undefined on success; executor -1 and
  // runTimeMs NaN when it did not run (cancelled while queued, ...).
  settled(id, err, executor, runTimeMs) {
    const context = this.traced.take(id);
    if (context === undefined) return;
    const now = epochMs();
    const ran = executor >= 0 && runTimeMs >= 0;
    context.settledAt = now;
    context.executor = executor;
    context.runTimeMs = ran ? runTimeMs : 0;
    context.startedAt = ran ? now - runTimeMs : undefined;
    context.waitMs = ran ? Math.max(0, now - runTimeMs - context.submittedAt) : now - context.submittedAt;
    if (err !== undefined) {
      context.error = err;
      channel.error.publish(context);
    }
    channel.asyncStart.publish(context);
    channel.asyncEnd.publish(context);
  }
}

module.exports = { TaskTracer, channel, CHANNEL, poolChannel, POOL_CHANNEL };
