'use strict';
// The tracing channel tasklets:task (js/tracing.js) and the OpenTelemetry
// instrumentation on top of it (js/otel.js), with the SDK's in-memory
// exporter: one span per task, a child of the span active where run() was
// called, an error status for a failing task.

const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const diagnosticsChannel = require('node:diagnostics_channel');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { AsyncHooksContextManager } = require('@opentelemetry/context-async-hooks');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;

function fail(code) {
  const err = new RangeError('bad input');
  err.code = code;
  throw err;
}

describe('tracing channel', { skip, timeout: 60000 }, () => {
  test('publishes start/end at submission and error/asyncStart/asyncEnd at settlement', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { name: 'traced' } });
    const events = [];
    const record = (name) => (ctx) => events.push([name, ctx.taskId, { ...ctx }]);
    const subscribers = {
      start: record('start'), end: record('end'), asyncStart: record('asyncStart'),
      asyncEnd: record('asyncEnd'), error: record('error'),
    };
    const channel = diagnosticsChannel.tracingChannel(tasklets.tracingChannelName);
    channel.subscribe(subscribers);
    try {
      const ok = pool.run((x) => x + 1, { args: [1], priority: 'high' });
      const bad = pool.run(fail, { args: ['E_BAD'] });
      const group = pool.runAll([() => 1, () => 2]);
      assert.deepEqual(events.map(([n, id]) => [n, id]), [
        ['start', ok.taskId], ['end', ok.taskId], ['start', bad.taskId], ['end', bad.taskId],
        ['start', bad.taskId + 1], ['end', bad.taskId + 1], ['start', bad.taskId + 2], ['end', bad.taskId + 2]]);
      assert.equal(await ok, 2);
      await assert.rejects(bad, { code: 'E_BAD' });
      assert.deepEqual(await group, [1, 2]);
      const of = (id) => events.filter(([, i]) => i === id).map(([n]) => n);
      assert.deepEqual(of(ok.taskId), ['start', 'end', 'asyncStart', 'asyncEnd']);
      assert.deepEqual(of(bad.taskId), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      assert.deepEqual(of(bad.taskId + 2), ['start', 'end', 'asyncStart', 'asyncEnd']);
      const settled = events.find(([n, id]) => n === 'asyncEnd' && id === ok.taskId)[2];
      assert.equal(settled.pool, 'traced');
      assert.equal(settled.priority, 'high');
      assert.equal(settled.executor, 0);
      assert.ok(settled.runTimeMs >= 0 && settled.waitMs >= 0);
      assert.ok(settled.submittedAt <= settled.startedAt && settled.startedAt <= settled.settledAt);
      assert.equal(events.find(([n, id]) => n === 'error' && id === bad.taskId)[2].error.code, 'E_BAD');
    } finally {
      channel.unsubscribe(subscribers);
      await pool.shutdown();
    }
  });

  test('without subscribers nothing is kept per task', async () => {
    const pool = new Tasklets({ workers: 1 });
    const channel = diagnosticsChannel.tracingChannel(tasklets.tracingChannelName);
    const seen = [];
    const subscribers = { start() {}, end() {}, asyncStart() {}, asyncEnd: (ctx) => seen.push(ctx.taskId), error() {} };
    try {
      assert.equal(channel.hasSubscribers, false);
      // Submitted unobserved, settled observed: no context was made for them.
      const unobserved = [pool.run(() => 1), pool.runAll([() => 2, () => 3])];
      channel.subscribe(subscribers);
      const observed = pool.run(() => 4);
      await Promise.all([...unobserved, observed]);
      assert.deepEqual(seen, [observed.taskId]);
    } finally {
      channel.unsubscribe(subscribers);
      await pool.shutdown();
    }
  });
});

describe('OpenTelemetry instrumentation', { skip, timeout: 60000 }, () => {
  const contextManager = new AsyncHooksContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  after(() => {
    api.context.disable();
  });

  test('one span per task, a child of the caller span, with an error status for a failure', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const instrumentation = tasklets.instrumentOpenTelemetry({ tracerProvider: provider });
    const pool = new Tasklets({ workers: 2, metrics: { name: 'otel' } });
    try {
      const tracer = provider.getTracer('test');
      let parentId;
      await tracer.startActiveSpan('request', async (parent) => {
        parentId = parent.spanContext().spanId;
        // Awaited inside the parent: the tasks start in its context.
        await Promise.all([pool.run((x) => x * 2, { args: [21] }), pool.runAll([() => 'a', () => 'b'])]);
        await assert.rejects(pool.run(fail, { args: ['E_OTEL'] }), { code: 'E_OTEL' });
        parent.end();
      });
      await pool.run(() => 'outside');
      const spans = exporter.getFinishedSpans();
      const tasks = spans.filter((s) => s.name === 'tasklets.task');
      assert.equal(tasks.length, 5);
      const parentOf = (s) => (s.parentSpanContext ? s.parentSpanContext.spanId : s.parentSpanId);
      const inside = tasks.filter((s) => parentOf(s) === parentId);
      assert.equal(inside.length, 4, 'every task run inside the request is its child');
      const outside = tasks.find((s) => s.attributes['tasklets.task.id'] === tasks.at(-1).attributes['tasklets.task.id']);
      assert.equal(parentOf(outside), undefined, 'a task run outside any span is a root');
      for (const s of tasks) {
        assert.equal(s.attributes['tasklets.pool'], 'otel');
        assert.equal(typeof s.attributes['tasklets.task.run_time_ms'], 'number');
        assert.equal(typeof s.attributes['tasklets.task.wait_ms'], 'number');
        assert.ok(s.events.some((e) => e.name === 'started'));
      }
      const failed = tasks.filter((s) => s.status.code === api.SpanStatusCode.ERROR);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].attributes['tasklets.error.code'], 'E_OTEL');
      assert.ok(failed[0].events.some((e) => e.name === 'exception'));
      assert.equal(tasks.filter((s) => s.status.code === api.SpanStatusCode.UNSET).length, 4);
    } finally {
      instrumentation.disable();
      await pool.shutdown();
      await provider.shutdown();
    }
    assert.equal(diagnosticsChannel.tracingChannel(tasklets.tracingChannelName).hasSubscribers, false);
    assert.throws(() => tasklets.instrumentOpenTelemetry({ tracerProvider: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => tasklets.instrumentOpenTelemetry({ provider: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});
