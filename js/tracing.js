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
// boolean per call (per group for runAll/map), settlement at the size of
// the map of traced tasks once per completion batch.

const diagnosticsChannel = require('node:diagnostics_channel');

const CHANNEL = 'tasklets:task';
const channel = diagnosticsChannel.tracingChannel(CHANNEL);
const PRIORITY_NAMES = ['high', 'normal', 'low'];

function epochMs() {
  return performance.timeOrigin + performance.now();
}

class TaskTracer {
  constructor(poolLabel) {
    this.pool = poolLabel;
    this.traced = new Map();  // task id -> context, while it is pending
  }

  get active() {
    return channel.start.hasSubscribers || channel.asyncEnd.hasSubscribers;
  }

  // A task was submitted (call only when `active`).
  submitted(id, priority) {
    const context = {
      taskId: id, pool: this.pool, priority: PRIORITY_NAMES[priority] ?? 'normal',
      submittedAt: epochMs(), executor: -1, startedAt: undefined, settledAt: undefined,
      runTimeMs: undefined, waitMs: undefined, error: undefined,
    };
    this.traced.set(id, context);
    channel.start.publish(context);
    channel.end.publish(context);
  }

  // Task `id` settled; `err` undefined on success; executor -1 and
  // runTimeMs NaN when it did not run (cancelled while queued, ...).
  settled(id, err, executor, runTimeMs) {
    const context = this.traced.get(id);
    if (context === undefined) return;
    this.traced.delete(id);
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

module.exports = { TaskTracer, channel, CHANNEL };
