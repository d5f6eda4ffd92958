'use strict';
// OpenTelemetry instrumentation on top of the tracing channel (js/tracing.js):
// one span per task, a child of the span active where run() (or runAll/map)
// was called, started at submission and ended at settlement, with the queue
// wait and run time as attributes and a `started` event, and the error
// recorded with status ERROR when the task rejects.
//
// `@opentelemetry/api` is an optional peer dependency: required only when
// instrumentation is asked for, and then resolved from the application (a
// second copy of the API would not see the application's tracer provider).

const { channel } = require('./tracing');
const errors = require('./errors');
const { isPlainObject, rejectUnknownKeys } = require('./validate');

const SPAN_NAME = 'tasklets.task';
const kSpan = Symbol('tasklets.span');
const KEYS = ['tracerProvider', 'api'];

function loadApi() {
  try {
    return require('@opentelemetry/api');
  } catch (cause) {
    const err = new Error('tasklets: instrumentOpenTelemetry() needs the package @opentelemetry/api (npm install @opentelemetry/api)', { cause });
    err.code = 'ERR_TASKLETS_OTEL_MISSING';
    throw err;
  }
}

// options: { tracerProvider?, api? } (api: the @opentelemetry/api module,
// when the application's copy is not the one require() finds from here).
// Returns { disable() }.
function instrumentOpenTelemetry(options = {}) {
  if (!isPlainObject(options)) throw errors.argType('options', 'an object', options);
  rejectUnknownKeys(options, KEYS, '');
  const api = options.api === undefined ? loadApi() : options.api;
  const provider = options.tracerProvider === undefined ? api.trace : options.tracerProvider;
  if (provider === null || typeof provider !== 'object' || typeof provider.getTracer !== 'function') {
    throw errors.argType('options.tracerProvider', 'an OpenTelemetry TracerProvider', options.tracerProvider);
  }
  const tracer = provider.getTracer('tasklets');
  const subscribers = {
    start(ctx) {
      ctx[kSpan] = tracer.startSpan(SPAN_NAME, {
        kind: api.SpanKind.INTERNAL,
        startTime: ctx.submittedAt,
        attributes: { 'tasklets.task.id': ctx.taskId, 'tasklets.pool': ctx.pool, 'tasklets.task.priority': ctx.priority },
      }, api.context.active());
    },
    end() {},
    asyncStart() {},
    asyncEnd(ctx) {
      const span = ctx[kSpan];
      if (span === undefined) return;
      ctx[kSpan] = undefined;
      span.setAttributes({
        'tasklets.executor': ctx.executor,
        'tasklets.task.wait_ms': ctx.waitMs,
        'tasklets.task.run_time_ms': ctx.runTimeMs,
      });
      if (ctx.startedAt !== undefined) span.addEvent('started', undefined, ctx.startedAt);
      if (ctx.error !== undefined) {
        const err = ctx.error;
        if (err instanceof Error) span.recordException(err, ctx.settledAt);
        span.setAttribute('tasklets.error.code', err && typeof err.code === 'string' ? err.code : String(err && err.name));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: err && typeof err.message === 'string' ? err.message : String(err) });
      }
      span.end(ctx.settledAt);
    },
    error() {},
  };
  channel.subscribe(subscribers);
  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      channel.unsubscribe(subscribers);
    },
  };
}

module.exports = { instrumentOpenTelemetry, SPAN_NAME };
