// Type tests for js/index.d.ts: this file must compile with `tsc --noEmit`
// (tests/js/types.test.js), and every `@ts-expect-error` line must be an error.
import tasklets, {
  Tasklets, run, runAll, map, batch, retry, cancel, config, getConfig, getStats, getHealth, shutdown, terminate, taskModule,
  AbortError, getTimeline, metrics, metricsHandler, registerMetrics, instrumentOpenTelemetry, tracingChannelName,
  dashboard, dashboardHandler,
} from '../../js/index.js';
import type {
  TaskPromise, Health, HealthStatus, Stats, ResolvedOptions, TaskProgress, MapProgress, BatchOutcome, TaskError,
  DependencyFailedError, RetriesExhaustedError, TaskletsError, ErrorCode, TaskModule, TaskletContext,
  Timeline, TaskTraceContext, ErrorCounts, HistogramSnapshot, MetricsResponse, Dashboard, DashboardHandler,
  TraceDocument, ExecutorProfile,
} from '../../js/index.js';

// What a module of tasks looks like, for typed module() proxies.
declare const textTasks: {
  wordCount(text: string): number;
  slugify(text: string): Promise<string>;
};

async function main(): Promise<void> {
  // --- configuration
  config({ workers: { min: 2, max: 'cpu_count * 2', scaling: 'adaptive' }, placement: 'numa' });
  config({ workers: 4 });
  config({ workers: 'auto', timeout: 30000, logging: 'warn', maxQueue: 'auto' });
  config({ timeout: { default: 5000, perTask: false }, maxQueue: 1000 });
  config({ logging: { level: 'info', format: 'json', destination: '/var/log/tasklets.log' } });
  config({ logging: { destination: 'stdout' } });
  config({ memory: { limit: '512MB', cleanup: 'aggressive' } });
  config({ memory: { limit: 64 * 1024 * 1024 } });
  config({ memory: { limit: '1.5 GB' } });
  config({ functions: { cacheSize: 4096 }, modules: { allow: ['/srv/tasks', new URL('file:///srv/vendor/x.mjs')] } });
  config({ modules: { allow: null } });
  const allowed: string[] | null = getConfig().modules.allow;
  const cacheSize: number = getConfig().functions.cacheSize;
  // @ts-expect-error modules.allow is a list
  config({ modules: { allow: '/srv/tasks' } });
  const resolved: ResolvedOptions = getConfig();
  const perTask: boolean = resolved.timeout.perTask;
  const maxQueue: number = resolved.maxQueue;
  const heapLimit: number = resolved.memory.limit;

  // --- run
  const sum: number = await run((a: number, b: number) => a + b, { args: [2, 3] });
  const text: string = await run(async (s: string) => s.toUpperCase(), { args: ['x'], priority: 'high' });
  const id: number | undefined = run(() => 1).taskId;
  const moved = new ArrayBuffer(8);
  await run((u: Uint8Array) => u[0], { args: [new Uint8Array(moved)], transfer: [moved] });
  const controller = new AbortController();
  const watched: TaskPromise<string> = run((ms: number) => {
    tasklet.progress(50, { half: true });
    const ctx: TaskletContext = tasklet;
    return `${ms} ${ctx.id} ${tasklet.signal.aborted}`;
  }, {
    args: [10],
    timeout: 1000,
    signal: controller.signal,
    onProgress: (p: TaskProgress) => { void [p.taskId, p.percent, p.detail]; },
  });
  const first = run(() => 'a');
  const dependent = run(() => 'b', { dependsOn: [first, first.taskId, watched] });
  const fromModule = await run<{ width: number }>({ module: './tasks/image.js', export: 'resize' }, { args: [1, 2] });
  const width: number = fromModule.width;
  const untyped: unknown = await run({ module: new URL('file:///abs/tasks.mjs') });

  // --- groups
  const all = await runAll([() => 1, { task: (x: number) => x * 2, args: [21] }]);
  const one: number = all[0];
  const two: number = all[1];
  const mixed: [string, number] = await runAll([() => 'a', { task: async (n: number) => n, args: [1] }]);
  await runAll([{ task: { module: '/abs/tasks.js', export: 'a' }, args: [1], priority: 'low', timeout: 100 }],
               { signal: controller.signal });
  const squares: number[] = await map((x: number) => x * x, [1, 2, 3], {
    chunkSize: 2, concurrency: 1, priority: 'low',
    onProgress: (p: MapProgress) => { void [p.completed, p.total, p.percentage]; },
  });
  const outcomes = await batch([
    { name: 'double', task: (x: number) => x * 2, args: [21] },
    { task: { module: './tasks.js', export: 'x' }, timeout: 50 },
  ], { concurrency: 2, onProgress: (p) => { void [p.completed, p.failed, p.percentage]; } });
  const firstOutcome: BatchOutcome<number> = outcomes[0];
  if (firstOutcome.success) {
    const doubled: number = firstOutcome.result;
    void doubled;
  } else {
    const why: unknown = firstOutcome.error;
    void why;
  }
  const retried: string = await retry(async (s: string) => s, {
    args: ['x'], attempts: 5, delay: 10, backoff: 1.5, maxDelay: Infinity,
    retryIf: (err, attempt) => attempt < 3 && (err as TaskletsError).code !== 'ERR_POOL_SHUTDOWN',
    signal: controller.signal, priority: 'high', timeout: 100,
  });
  await retry({ module: './tasks.js', export: 'flaky' }, { attempts: 2 });

  // --- cancellation
  const wasPending: boolean = cancel(watched);
  cancel(watched.taskId, { force: true, reason: 'user left' });

  // --- module tasks
  const anyModule = tasklets.module('./tasks/text.js', { priority: 'high', timeout: 1000 });
  const anything: TaskPromise<unknown> = anyModule.whatever(1, 2);
  const typed: TaskModule<typeof textTasks> = taskModule<typeof textTasks>('./tasks/text.js');
  const count: number = await typed.wordCount('a b');
  const slug: string = await typed.slugify('A B');
  const slugId: number = typed.slugify('x').taskId;

  // --- a pool of its own
  const pool = new Tasklets({ workers: 2, placement: 'compact', maxQueue: 4 });
  pool.on('drain', () => undefined).once('drain', () => undefined);
  if (pool.needsDrain) await new Promise<void>((resolve) => pool.once('drain', resolve));
  const poolSum: number = await pool.run((a: number) => a + 1, { args: [1] });
  pool.cancel(pool.run(() => 1), { force: false });
  const health: Health = pool.getHealth();
  const reconfigured: ResolvedOptions = pool.configure({ workers: { min: 1, max: 2 }, timeout: 1000 });
  void reconfigured;
  // @ts-expect-error placement must be one of the placements
  pool.configure({ placement: "everywhere" });
  const status: HealthStatus = health.status;
  const rate: number = health.errors.rate;
  const recentCode: string | undefined = health.errors.recent[0]?.code;
  const stats: Stats = pool.getStats();
  const replaced: number = stats.replacedWorkers;
  const full: boolean = stats.needsDrain;
  const perSecond: number = stats.throughput + stats.meanTaskTime;
  const positional: number = await pool.run((a: number, b: number) => a + b, 2, 3);
  const single: number = await run((u: Uint8Array) => u.length, new Uint8Array(4));
  const settled = await pool.runAll([() => 1, () => 'a'], { settle: 'all' });
  const settledFirst: PromiseSettledResult<number> = settled[0];
  if (settled[1].status === 'fulfilled') { const s: string = settled[1].value; void s; }
  pool.on('shutdown', (info) => { const m: 'drain' | 'cancel' = info.mode; void [m, info.timeout]; });
  const terminated: { timedOut: boolean; cancelled: number } = await pool.terminate();
  void [perSecond, positional, single, settledFirst, terminated, terminate];
  const p50: number = getStats().queueWait.p50;
  const defaultHealth: HealthStatus = getHealth().status;
  await pool.shutdown({ mode: 'cancel', timeout: 1000 });
  const report = await shutdown();
  const timedOut: boolean = report.timedOut;

  // --- errors
  try {
    await dependent;
  } catch (err) {
    if (err instanceof AbortError) {
      const code: 'ABORT_ERR' = err.code;
      void code;
    }
    const known = err as TaskletsError;
    const code: ErrorCode = known.code;
    if (known.code === 'ERR_DEPENDENCY_FAILED') {
      const dep: number = (err as DependencyFailedError).dependency;
      void dep;
    }
    const taskError = err as TaskError;
    const where: number = taskError.workerThread + taskError.duration + taskError.taskId;
    const stack: string | undefined = taskError.stackTrace;
    const native: string | undefined = known.nativeTrace;
    const exhausted = err as RetriesExhaustedError;
    const attempts: number = exhausted.attempts + exhausted.errors.length;
    void [code, where, attempts, stack, native];
  }
  const aborted = new AbortError('stopped', { cause: 'why' });

  void tasklets.run;
  void [sum, text, id, one, two, squares, replaced, p50, perTask, maxQueue, heapLimit, width, untyped, retried,
        wasPending, anything, mixed, count, slug, slugId, poolSum, status, rate, recentCode, full, defaultHealth, timedOut,
        aborted];

  // @ts-expect-error: fn must be a function or a module task
  run(42);
  // @ts-expect-error: args must match the function's parameters
  run((a: number) => a, { args: ['not a number'] });
  // @ts-expect-error: unknown priority
  run(() => 1, { priority: 'urgent' });
  // @ts-expect-error: transfer takes ArrayBuffers
  run(() => 1, { transfer: ['not a buffer'] });
  // @ts-expect-error: signal must be an AbortSignal
  run(() => 1, { signal: 'stop' });
  // @ts-expect-error: dependsOn takes task ids or run() promises
  run(() => 1, { dependsOn: ['first'] });
  // @ts-expect-error: onProgress receives { taskId, percent, detail }
  run(() => 1, { onProgress: (p: string) => p });
  // @ts-expect-error: a module task needs `module`
  run({ export: 'resize' });
  // @ts-expect-error: results keep their order and types
  const swapped: [number, string] = await runAll([() => 'a', () => 1]);
  void swapped;
  // @ts-expect-error: runAll's options have only `signal` and `settle`
  runAll([() => 1], { concurrency: 2 });
  // @ts-expect-error: settle is 'fail-fast' or 'all'
  runAll([() => 1], { settle: 'some' });
  // @ts-expect-error: positional arguments must match the function's parameters
  run((a: number, b: number) => a + b, 1, 'two');
  // @ts-expect-error: one plain-object argument is read as options: pass { args: [obj] }
  run((o: { x: number }) => o.x, { x: 1 });
  // @ts-expect-error: map's concurrency is a number
  map((x: number) => x, [1], { concurrency: 'all' });
  // @ts-expect-error: batch configs need a task
  batch([{ name: 'no task' }]);
  // @ts-expect-error: retryIf is a function
  retry(() => 1, { retryIf: true });
  // @ts-expect-error: cancel takes an id or a run() promise
  cancel('1');
  // @ts-expect-error: force is a boolean
  cancel(1, { force: 'yes' });
  // @ts-expect-error: scaling is 'fixed' or 'adaptive'
  config({ workers: { min: 1, max: 2, scaling: 'elastic' } });
  // @ts-expect-error: unknown log format
  config({ logging: { format: 'xml' } });
  // @ts-expect-error: memory.cleanup is 'none' or 'aggressive'
  config({ memory: { cleanup: 'sometimes' } });
  // @ts-expect-error: a size needs a unit the parser knows
  config({ memory: { limit: 'lots' } });
  // @ts-expect-error: maxQueue is a number or 'auto'
  config({ maxQueue: 'unbounded' });
  // --- observability
  const observed = new Tasklets({ metrics: { name: 'images', taskCpuTime: true, timelineIntervalMs: 500, timelineSamples: 600 } });
  new Tasklets({ metrics: false });
  const timeline: Timeline = observed.getTimeline();
  const depth: number[] = timeline.queued.normal;
  const heat: (number | null)[][] = getTimeline().utilization;
  const exposition: string = observed.metrics() + metrics();
  const runTime: HistogramSnapshot = getStats().histograms.runTime;
  const buckets: Float64Array = runTime.buckets;
  const age: number | undefined = getStats().workers[0].currentTaskAge;
  const byCode: ErrorCounts | null = getHealth().errors.byCode;
  const cancelledCount: number | undefined = byCode?.outcomes.cancelled;
  const handler: (req: unknown, res: MetricsResponse) => void = metricsHandler();
  const unregister: () => void = registerMetrics({ registerMetric() {}, removeSingleMetric() {} });
  unregister();
  const instrumentation = instrumentOpenTelemetry({ tracerProvider: { getTracer: () => ({}) } });
  instrumentation.disable();
  const channelName: 'tasklets:task' = tracingChannelName;
  const onSettled = (ctx: TaskTraceContext): number => ctx.taskId + (ctx.runTimeMs ?? 0);
  void [depth, heat, exposition, buckets, age, cancelledCount, handler, channelName, onSettled, resolved.metrics.timelineSamples];
  const board: Dashboard = await dashboard({ pool: [observed], port: 0, host: '127.0.0.1', intervalMs: 500 });
  const boardUrl: string = board.url + board.port;
  await board.close();
  const mounted: DashboardHandler = dashboardHandler({ basePath: '/tasklets', pool: observed });
  mounted({}, {}, () => undefined);
  mounted.close();
  const reason: string = getHealth().reason;
  void [boardUrl, reason];
  // @ts-expect-error: the port is a number
  dashboard({ port: '8080' });
  // @ts-expect-error: dashboard() resolves to the server: it is not the server
  dashboard().url;
  // @ts-expect-error: a dashboard handler has no port
  dashboardHandler({ port: 80 });
  // @ts-expect-error: pool takes Tasklets instances
  dashboardHandler({ pool: 'images' });
  pool.startTrace({ capacity: 1000 });
  const traced: TraceDocument = pool.stopTrace();
  const slices: number = traced.traceEvents.filter((e) => e.ph === 'X').length + traced.metadata.droppedEvents;
  const timed: Promise<TraceDocument> = pool.trace({ durationMs: 100, path: 'trace.json' });
  const profiles: ExecutorProfile[] = await pool.profile({ durationMs: 100 });
  const hot: string[] = profiles.flatMap((p) => p.profile.nodes.map((n) => n.callFrame.functionName));
  void [slices, timed, hot];
  // @ts-expect-error: trace() needs durationMs
  pool.trace({ capacity: 10 });
  // @ts-expect-error: capacity is a number
  pool.startTrace({ capacity: '10' });
  // @ts-expect-error: metrics is a boolean or an options object
  new Tasklets({ metrics: 'on' });
  // @ts-expect-error: the pool label is a string
  new Tasklets({ metrics: { name: 3 } });
  // @ts-expect-error: registerMetrics needs a prom-client registry
  registerMetrics({});
  // @ts-expect-error: unknown shutdown mode
  shutdown({ mode: 'now' });
  // @ts-expect-error: a pool emits 'drain', not 'drained'
  pool.on('drained', () => undefined);
  // @ts-expect-error: 'drain' listeners take no arguments
  pool.on('drain', (count: number) => count);
  // @ts-expect-error: needsDrain is read-only
  pool.needsDrain = false;
  // @ts-expect-error: a typed module has only its exports
  typed.resize(1);
  // @ts-expect-error: typed module methods keep their parameter types
  typed.wordCount(42);
  // @ts-expect-error: tasklet.progress takes a number
  tasklet.progress('half');
  // @ts-expect-error: tasklet.id is read-only
  tasklet.id = 3;
}

void main;
