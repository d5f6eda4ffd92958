// Type definitions for tasklets (docs/api.md describes every function,
// option, field and error code).
//
// Self-contained: they need no @types/node. AbortSignal and URL come from the
// DOM library or from @types/node, whichever the project has.

export type Placement = 'compact' | 'scatter' | 'numa' | 'none';
export type Scaling = 'fixed' | 'adaptive';
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogFormat = 'text' | 'json';
export type Priority = 'high' | 'normal' | 'low';
/** A worker count: an integer, 'auto' (one per PU this process may use) or 'cpu_count * N'. */
export type WorkerCount = number | 'auto' | `cpu_count * ${number}` | `cpu_count*${number}`;
type SizeUnit = 'B' | 'KB' | 'MB' | 'GB' | 'TB';
/** Bytes: a number, or a size such as '512MB', '2GB', '1.5 GB' (binary units, any case). */
export type Size = number | `${number}${SizeUnit | Lowercase<SizeUnit>}` | `${number} ${SizeUnit | Lowercase<SizeUnit>}`;

// ---------------------------------------------------------------------------
// Configuration

export interface WorkersOptions {
  /** Executors kept even when idle. Default 1 (adaptive) or `max` (fixed). */
  min?: WorkerCount;
  /** Most executors. Default 'auto'. */
  max?: WorkerCount;
  /** Default 'adaptive'. 'fixed' requires min === max when both are given. */
  scaling?: Scaling;
  /** Adaptive scaling: an executor above `min` idle this long (ms) stops. Default 5000. */
  idleTimeout?: number;
}

export interface TimeoutOptions {
  /** Timeout (ms) of tasks that set none. Default Infinity. */
  default?: number;
  /** Whether a task may set its own `timeout`. Default true. */
  perTask?: boolean;
}

export interface LoggingOptions {
  /** Default 'warn'. */
  level?: LogLevel;
  /** 'text' (default) or 'json' (pino-compatible lines). */
  format?: LogFormat;
  /** 'stderr' (default), 'stdout' or a file path (appended to). */
  destination?: 'stderr' | 'stdout' | (string & {});
}

export interface MemoryOptions {
  /** Each executor's JavaScript heap limit. At least 16MB. Default: no limit. */
  limit?: Size;
  /** 'aggressive': return memory to the system 200 ms after the pool went idle. Default 'none'. */
  cleanup?: 'none' | 'aggressive';
}

export interface FunctionsOptions {
  /** Task functions kept registered on the main thread and compiled in each executor (least recently used evicted). 1..1048576, default 2048. */
  cacheSize?: number;
}

export interface ModulesOptions {
  /** Absolute paths or file: URLs of directories or files module tasks may come from (by real path). Default: no restriction. */
  allow?: ReadonlyArray<string | URL> | null;
}

export interface TaskletsOptions {
  /** Default 'auto': one executor per PU, fixed. */
  workers?: WorkerCount | WorkersOptions;
  /** Where executors are pinned. Default 'numa'. */
  placement?: Placement;
  /** Default timeout of every task (ms; a task may set its own), or `{ default, perTask }`. Default Infinity. */
  timeout?: number | TimeoutOptions;
  /** A level, or `{ level, format, destination }`. Default 'warn' (text, stderr). */
  logging?: LogLevel | LoggingOptions;
  /** Most tasks pending (submitted, not settled); 'auto' = 1024 per executor. Default Infinity. */
  maxQueue?: number | 'auto';
  memory?: MemoryOptions;
  functions?: FunctionsOptions;
  /** The module allowlist (docs/security.md): ERR_MODULE_NOT_ALLOWED outside it. */
  modules?: ModulesOptions;
  /** Per-task figures, timeline and the pool label (docs/observability.md). Default true. */
  metrics?: boolean | MetricsOptions;
}

export interface MetricsOptions {
  /** false: no per-task figures (histograms, round trip, outcome counts, timeline). Default true. */
  enabled?: boolean;
  /** Record each task's thread CPU time (two system calls per task). Default false. */
  taskCpuTime?: boolean;
  /** The `pool` label of this pool's series. Default: the pool's id. */
  name?: string;
  /** Default 1000. */
  timelineIntervalMs?: number;
  /** Samples the timeline keeps. Default 300. */
  timelineSamples?: number;
}

export interface ResolvedOptions {
  workers: { min: number; max: number; scaling: Scaling; idleTimeout: number };
  placement: Placement;
  timeout: { default: number; perTask: boolean };
  logging: { level: LogLevel; format: LogFormat; destination: string };
  /** Infinity when there is no limit. */
  maxQueue: number;
  /** `limit` in bytes (Infinity: none). */
  memory: { limit: number; cleanup: 'none' | 'aggressive' };
  metrics: { enabled: boolean; taskCpuTime: boolean; name: string | null; timelineIntervalMs: number; timelineSamples: number };
  functions: { cacheSize: number };
  /** Real paths; a directory ends with a path separator. null: no restriction. */
  modules: { allow: string[] | null };
}

// ---------------------------------------------------------------------------
// Tasks and their options

/** A task given by the module it lives in (absolute path, file: URL, path relative to the calling file, or package name). */
export interface ModuleTask {
  module: string | URL;
  /** The export to run. Default 'default'. */
  export?: string;
}

/** What `onProgress` receives for each `tasklet.progress(percent, detail)` of the task (throttled). */
export interface TaskProgress {
  taskId: number;
  /** 0 to 100. */
  percent: number;
  detail: unknown;
}

/** A task id, or the promise `run` returned (which carries it). */
export type TaskRef = number | { readonly taskId: number };

export interface TaskOptions<A extends readonly unknown[] = unknown[]> {
  /** Arguments, sent by structured clone (primitives by a faster path). */
  args?: A;
  /** Default 'normal'. */
  priority?: Priority;
  /** ms from submission (a positive integer or Infinity). Default: the pool's `timeout.default`. */
  timeout?: number;
}

export interface RunOptions<A extends readonly unknown[] = unknown[]> extends TaskOptions<A> {
  /**
   * ArrayBuffers (used by `args`) to move to the executor without a copy;
   * detached on this side when `run` returns. Views over them arrive as
   * views (a Buffer as a Uint8Array).
   */
  transfer?: ArrayBuffer[];
  /** Aborting it cancels the task (cooperatively). */
  signal?: AbortSignal;
  /** Told the task's `tasklet.progress()` reports (at most one per 50 ms). */
  onProgress?: (progress: TaskProgress) => void;
  /** Earlier tasks of the same pool that must succeed before this one starts. */
  dependsOn?: readonly TaskRef[];
}

type AnyFunction = (...args: any[]) => unknown;

/** An element of `runAll`: `{ task, args, priority, timeout }`. */
export interface TaskSpec<A extends any[] = any[], R = unknown> extends TaskOptions<A> {
  task: ((...args: A) => R) | ModuleTask;
}

export interface RunAllOptions {
  /** Aborting it rejects the group (AbortError) and cancels its queued tasks, whatever `settle` says. */
  signal?: AbortSignal;
  /**
   * 'fail-fast' (default): the group rejects with the first failure and its
   * queued tasks are cancelled. 'all': it resolves once every task settled,
   * with `{ status, value | reason }` per task, as Promise.allSettled.
   */
  settle?: 'fail-fast' | 'all';
}

/** A value that run(fn, x) passes as fn's one argument (a plain object would be read as options). */
type PositionalArg = string | number | boolean | bigint | null | readonly unknown[] | ArrayBuffer | ArrayBufferView |
  Date | RegExp | Map<unknown, unknown> | Set<unknown>;

export interface MapProgress {
  /** Items done. */
  completed: number;
  total: number;
  /** completed / total * 100, to 2 decimals. */
  percentage: number;
}

export interface MapOptions {
  /** Items per task. Default: about 4 chunks per executor. */
  chunkSize?: number;
  priority?: Priority;
  /** Chunks in flight at once. Default Infinity (all submitted together). */
  concurrency?: number;
  /** Of each chunk, in ms. Default: the pool's `timeout`. */
  timeout?: number;
  /** After each chunk, counting items. */
  onProgress?: (progress: MapProgress) => void;
}

/** A `batch` config: `{ name, task, args, priority, timeout }`. */
export interface BatchTask<A extends any[] = any[], R = unknown> extends TaskOptions<A> {
  /** Default `task-<index>`. */
  name?: string;
  task: ((...args: A) => R) | ModuleTask;
}

export interface BatchProgress extends MapProgress {
  /** Failures so far. */
  failed: number;
}

export interface BatchOptions {
  /** At most this many tasks in flight. Default Infinity. */
  concurrency?: number;
  onProgress?: (progress: BatchProgress) => void;
}

export type BatchOutcome<R = unknown> =
  | { name: string; success: true; result: R }
  | { name: string; success: false; error: unknown };

export interface RetryOptions<A extends readonly unknown[] = unknown[]> extends TaskOptions<A> {
  /** Attempts in all (an integer >= 1). Default 3. */
  attempts?: number;
  /** ms before the second attempt. Default 100. */
  delay?: number;
  /** Factor (>= 1) between consecutive waits. Default 2. */
  backoff?: number;
  /** Longest wait (ms, or Infinity). Default 30000. */
  maxDelay?: number;
  /** Return false to stop retrying. Default: retry all but errors raised before the task ran. */
  retryIf?: (error: unknown, attempt: number) => boolean;
  /** Aborting it rejects at once with an AbortError. */
  signal?: AbortSignal;
}

export interface CancelOptions {
  /** Stop a running task even if it never looks at its signal (its executor is kept). */
  force?: boolean;
  /** The AbortError's `cause`. */
  reason?: unknown;
}

export interface ModuleOptions {
  priority?: Priority;
  timeout?: number;
}

export interface ShutdownOptions {
  /** 'drain' (default) runs the queued tasks; 'cancel' rejects them with ERR_POOL_SHUTDOWN. */
  mode?: 'drain' | 'cancel';
  /** ms; after it, queued tasks are cancelled and executors still running are terminated. Default Infinity. */
  timeout?: number;
}

export interface ShutdownReport {
  timedOut: boolean;
  cancelled: number;
}

/** The promise of one task, carrying the task's id (undefined when `run` rejected before submitting). */
export interface TaskPromise<T> extends Promise<T> {
  readonly taskId: number;
}

type Awaited2<T> = T extends PromiseLike<infer U> ? U : T;
type ResultOf<T> = T extends (...args: any[]) => infer R ? Awaited2<R>
  : T extends { task: (...args: any[]) => infer R } ? Awaited2<R>
  : T extends { task: ModuleTask } ? unknown : never;

/**
 * The object `module()` returns: each property runs that export of the
 * module on the pool. `M` is the module's type (`typeof import('./tasks.js')`)
 * for typed methods; by default any name is allowed.
 */
export type TaskModule<M = Record<string, AnyFunction>> = {
  readonly [K in keyof M]: M[K] extends (...args: infer A) => infer R ? (...args: A) => TaskPromise<Awaited2<R>> : never;
};

// ---------------------------------------------------------------------------
// Inside a task

/** The `tasklet` global inside a task (one whose source mentions `tasklet`, or a module task). */
export interface TaskletContext {
  /** The task's id (`promise.taskId` on the caller's side). */
  readonly id: number;
  /**
   * Aborts when the task is cancelled or times out. In a synchronous loop,
   * read it each time (`while (!tasklet.signal.aborted)`): the getter is what
   * checks for abort requests.
   */
  readonly signal: AbortSignal;
  /** Reports progress (0..100) to the caller's `onProgress`; throttled to one message per 50 ms. */
  progress(percent: number, detail?: unknown): void;
}

declare global {
  /** Only inside a tasklets task (see TaskletContext); not defined on the main thread. */
  const tasklet: TaskletContext;
}

// ---------------------------------------------------------------------------
// Results: stats and health

/** Latency percentiles in microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface WorkerStats {
  id: number;
  running: boolean;
  /** OS indices of the PUs the executor is bound to. */
  pus: number[];
  numa: number;
  pinned: boolean;
  bindError: string;
  executed: number;
  failed: number;
  stolen: number;
  parked: number;
  woken: number;
  cancelled: number;
  timedOut: number;
  /** CPU time of the threads that served this slot, microseconds. */
  cpuTime: number;
  /** Sum of the run times of its tasks, microseconds. */
  busyTime: number;
  /** The figures below appear once an executor serves the slot. V8 heap, bytes. */
  heapUsed?: number;
  heapLimit?: number;
  externalMemory?: number;
  /** Event-loop active / idle time since the executor started, ms. */
  eventLoopActive?: number;
  eventLoopIdle?: number;
  /** The task the executor is invoking (null: none) and for how long, ms. */
  currentTaskId?: number | null;
  currentTaskAge?: number;
  /** Epoch ms of the executor's last publication. */
  updatedAt?: number;
  /** Share of the last timeline interval its event loop was active (null: not sampled yet). */
  utilization?: number | null;
}

/** Cumulative counts at the fixed bounds of StatsHistograms.bounds; `sum` in seconds. */
export interface HistogramSnapshot {
  buckets: Float64Array;
  count: number;
  sum: number;
}

export interface StatsHistograms {
  /** The `le` bounds, seconds (1 us .. 60 s). */
  bounds: Float64Array;
  queueWait: HistogramSnapshot;
  runTime: HistogramSnapshot;
  taskCpu: HistogramSnapshot;
}

export interface TaskPoolStats {
  capacity: number;
  live: number;
  freeShared: number;
  cached: number;
  misses: number;
  chunkBytes: number;
}

export interface ArenaStats {
  allocated: number;
  active: number;
  resident: number;
  mapped: number;
  /** Extents the arena could not bind to its NUMA node. */
  bindFailures: number;
}

/** getStats(): the native runtime's figures plus the main thread's. See docs/api.md for every field. */
export interface Stats {
  topology: string;
  placement: Placement;
  scaling: Scaling;
  minWorkers: number;
  maxWorkers: number;
  activeWorkers: number;
  sleepingWorkers: number;
  scaleUps: number;
  scaleDowns: number;
  /** Executors started again because the one serving a slot died. */
  replacedWorkers: number;
  queued: { high: number; normal: number; low: number };
  executed: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  stolen: number;
  queueWait: LatencySummary;
  runTime: LatencySummary;
  /** Per-task thread CPU time (metrics.taskCpuTime). */
  taskCpu: LatencySummary;
  histograms: StatsHistograms;
  dependencyFailed: number;
  waiting: number;
  workers: WorkerStats[];
  taskPools: TaskPoolStats[];
  arenas: ArenaStats[];
  /** Tasks whose promise has not settled yet, counted on the main thread. */
  pending: number;
  /** Infinity when there is no limit. */
  maxQueue: number;
  needsDrain: boolean;
  /** Native bytes held for the arguments of tasks not run yet (bounded by memory.limit). */
  argumentBytes: number;
  /** Tasks settled per second since the pool started. */
  throughput: number;
  /** Mean run time of a task in microseconds (runTime.mean). */
  meanTaskTime: number;
  /** Task function sources the pool holds (functions.cacheSize, plus those of queued tasks whose function was evicted). */
  registeredFunctions: number;
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy' | 'shutdown';

export interface RecentFailure {
  taskId: number;
  code: string | undefined;
  name: string | undefined;
  message: string;
  /** Epoch ms. */
  at: number;
}

/** getHealth(): a status and the figures it was decided from (docs/api.md, "Health"). */
export interface Health {
  status: HealthStatus;
  /** The rule that decided `status`, in words (for people; match on `status`). */
  reason: string;
  workers: { active: number; busy: number; idle: number; min: number; max: number; crashed: number };
  queue: { pending: number; queued: number; maxQueue: number; needsDrain: boolean };
  /** Bytes; executorHeapLimit is memory.limit (Infinity: none). */
  memory: { rss: number; heapUsed: number; nativeArenas: number; executorHeapLimit: number };
  /** Microseconds. */
  latency: { p50: number; p90: number; p99: number; queueWaitP99: number };
  errors: {
    rate: number; windowMs: number; failed: number; settled: number; recent: RecentFailure[];
    /** Over the window; null with metrics off. */
    byCode: ErrorCounts | null;
    /** Since the start; null with metrics off. */
    byCodeTotal: ErrorCounts | null;
  };
}

export interface ErrorCounts {
  outcomes: { succeeded: number; failed: number; cancelled: number; timed_out: number };
  /** error.code (or class name) -> count; at most 20 codes, the rest under 'other'. */
  codes: Record<string, number>;
}

/** getTimeline(): one entry per sample in every column, oldest first. */
export interface Timeline {
  intervalMs: number;
  /** Epoch ms. */
  t: number[];
  queued: { high: number[]; normal: number[]; low: number[] };
  running: number[];
  /** Tasks settled per second. */
  throughput: number[];
  failures: number[];
  /** Bytes. */
  rss: number[];
  /** Per sample, per executor slot: 0..1, null without an executor. */
  utilization: (number | null)[][];
}

/** The context object published on tracingChannel('tasklets:task'). */
export interface TaskTraceContext {
  taskId: number;
  pool: string;
  /** The pool's id (pool labels may repeat). */
  poolId: number;
  priority: 'high' | 'normal' | 'low';
  /** Epoch ms. */
  submittedAt: number;
  /** -1 until settled, or when it never ran. */
  executor: number;
  startedAt: number | undefined;
  settledAt: number | undefined;
  runTimeMs: number | undefined;
  waitMs: number | undefined;
  error: unknown;
}

/** tasklets.dashboard() options (docs/observability.md, "Dashboard"). */
export interface DashboardOptions {
  /** 0 (the default): any free port; read it from the result. */
  port?: number;
  /** Default '127.0.0.1'. Any other address exposes task errors and internals to whoever reaches it. */
  host?: string;
  /** The pools shown (default: every live pool of the process). */
  pool?: Tasklets | Tasklets[];
  /** How often the page is updated, ms (50 to 60000, default 1000). */
  intervalMs?: number;
}

export interface DashboardHandlerOptions {
  pool?: Tasklets | Tasklets[];
  intervalMs?: number;
  /** The path the page is served under, e.g. '/tasklets' (default: the root). */
  basePath?: string;
}

export interface Dashboard {
  /** e.g. 'http://127.0.0.1:40123/' */
  url: string;
  host: string;
  port: number;
  /** Ends the event streams and stops the server. */
  close(): Promise<void>;
}

/** A node:http or express handler; `next` is called for paths outside basePath. */
export interface DashboardHandler {
  (req: unknown, res: unknown, next?: () => void): void;
  /** Ends the event streams it has open. */
  close(): void;
}

/** startTrace() options (docs/observability.md, "Trace files"). */
export interface TraceOptions {
  /** Events kept (default 100000); the oldest tasks are dropped whole beyond it, and counted. */
  capacity?: number;
  /** Also write the document to this file when the recording stops. */
  path?: string;
}

/** One event of the Chrome Trace Event format, as tasklets writes them. */
export interface TraceEvent {
  /** 'X' run slice, 'b'/'e' async slice (queued, promise), 'i' instant, 'M' track names. */
  ph: 'X' | 'b' | 'e' | 'i' | 'M';
  name: string;
  cat?: string;
  pid: number;
  tid: number;
  /** µs on the process's monotonic clock (absent on 'M' events). */
  ts?: number;
  /** 'X' only: µs. */
  dur?: number;
  /** 'b' / 'e' only. */
  id?: string;
  /** 'i' only: the instant's scope ('t': its track). */
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export interface TraceMetadata {
  source: 'tasklets';
  pool: string;
  poolId: number;
  pid: number;
  clock: string;
  /** Epoch ms. */
  startedAt: number;
  /** The trace clock (µs) at startedAt. */
  startedAtUs: number;
  stoppedAt: number;
  capacity: number;
  droppedEvents: number;
  droppedTasks: number;
  recordedTasks: number;
  /** Tasks whose run slice was placed from their run time (their executor's record was overwritten). */
  estimatedTasks: number;
  lostExecutorRecords: number;
  /** Tasks submitted during the recording and not settled when it stopped (not in the file). */
  unsettledTasks: number;
}

/** A trace file: the JSON Object Format of the Chrome Trace Event format. */
export interface TraceDocument {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  metadata: TraceMetadata;
}

/** profile() options. */
export interface ProfileOptions {
  /** How long to sample, ms (default 1000). */
  durationMs?: number;
  /** V8's sampling interval, µs (default 1000). */
  samplingIntervalUs?: number;
}

/** A node of a V8 CPU profile (the .cpuprofile format). */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

/** A V8 CPU profile: save it as JSON with a .cpuprofile extension for DevTools or speedscope. */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** µs. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ExecutorProfile {
  /** The executor's slot. */
  executor: number;
  threadId: number;
  /** "tasklets executor <slot> (pool <label>)". */
  name: string;
  profile: CpuProfile;
}

/** The part of an HTTP response metricsHandler() uses (node:http, express). */
export interface MetricsResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

/** The part of a prom-client Registry registerMetrics() uses. */
export interface PromClientRegistry {
  registerMetric(metric: any): void;
  removeSingleMetric(name: string): void;
}

export interface OpenTelemetryOptions {
  /** Default: the global provider of @opentelemetry/api. */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /** The @opentelemetry/api module, when require() from tasklets would find another copy. */
  api?: unknown;
}

// ---------------------------------------------------------------------------
// Errors

export type ErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_TASK_ARG_NOT_CLONEABLE'
  | 'ERR_TASK_RESULT_NOT_CLONEABLE'
  | 'ERR_POOL_SHUTDOWN'
  | 'ERR_INVALID_STATE'
  | 'ERR_TASK_TIMEOUT'
  | 'ABORT_ERR'
  | 'ERR_QUEUE_FULL'
  | 'ERR_DEPENDENCY_FAILED'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_WORKER_OUT_OF_MEMORY'
  | 'ERR_TASK_RETRIES_EXHAUSTED'
  | 'ERR_TASKLETS_NOT_BUILT'
  | 'ERR_TASKLETS_NATIVE';

/** An error tasklets raised itself (not the task's own). */
export interface TaskletsError extends Error {
  code: ErrorCode;
  /** The task concerned, when there is one. */
  taskId?: number;
  /** For failures of native code: the symbolized C++ stack, innermost frame first (docs/api.md, "Native traces"). */
  nativeTrace?: string;
  /** For errors native code raised while called from JS: the JS stack of that call. */
  stackTrace?: string;
}

/** A rejected task's error: the task's own error rebuilt, plus where and how long it ran. */
export interface TaskError extends Error {
  code?: string;
  taskId: number;
  /** The executor slot that ran the task (-1 if it never ran). */
  workerThread: number;
  /** Run time in ms (0 if it never ran). */
  duration: number;
  /** When the task threw something that is not an Error: that value (if it could be cloned). */
  value?: unknown;
  /** The stack as the executor recorded it when the task threw (up to 64 frames), never rewritten. */
  stackTrace?: string;
  /** Absent: a task's own error has no native part. */
  nativeTrace?: undefined;
}

export interface DependencyFailedError extends TaskletsError {
  code: 'ERR_DEPENDENCY_FAILED';
  /** The id of the dependency that did not succeed. */
  dependency: number;
  /** That task's error, while it is still known. */
  cause?: unknown;
}

export interface WorkerCrashedError extends TaskletsError {
  code: 'ERR_WORKER_CRASHED' | 'ERR_WORKER_OUT_OF_MEMORY';
  taskId: number;
  workerThread: number;
}

export interface RetriesExhaustedError extends AggregateError {
  code: 'ERR_TASK_RETRIES_EXHAUSTED';
  /** How many attempts ran. */
  attempts: number;
  /** The last attempt's error. */
  cause: unknown;
}

/** A cancelled task's error, shaped like Node's AbortError. */
export class AbortError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
  readonly code: 'ABORT_ERR';
  readonly name: 'AbortError';
  taskId?: number;
}

// ---------------------------------------------------------------------------
// The pool

/** Events a pool emits, with their listeners' arguments. */
export interface TaskletsEvents {
  /** The pending tasks fell below `maxQueue` after `needsDrain` became true. */
  drain: [];
  /** shutdown() (or terminate()) was called: the pool accepts no more tasks. */
  shutdown: [info: { mode: 'drain' | 'cancel'; timeout: number }];
  newListener: [eventName: string | symbol, listener: (...args: any[]) => void];
  removeListener: [eventName: string | symbol, listener: (...args: any[]) => void];
}

type Listener<E extends keyof TaskletsEvents> = (...args: TaskletsEvents[E]) => void;

/**
 * One native pool with its executors. A Node EventEmitter at runtime; its
 * emitter methods are declared here so that these types need no @types/node.
 */
export class Tasklets {
  constructor(options?: TaskletsOptions);
  /** A copy of the resolved configuration. */
  readonly options: ResolvedOptions;
  /** True once the pending tasks reached `maxQueue`, until the next 'drain'. */
  readonly needsDrain: boolean;

  run<A extends unknown[], R>(fn: (...args: A) => R, options?: RunOptions<A>): TaskPromise<Awaited2<R>>;
  run<R = unknown>(task: ModuleTask, options?: RunOptions<any[]>): TaskPromise<R>;
  /** Positional arguments: run(fn, a, b, ...) is run(fn, { args: [a, b, ...] }). */
  run<A extends [unknown, unknown, ...unknown[]], R>(fn: (...args: A) => R, ...args: A): TaskPromise<Awaited2<R>>;
  /** One positional argument that is not a plain object (which would be read as options). */
  run<T extends PositionalArg, R>(fn: (arg: T) => R, arg: T): TaskPromise<Awaited2<R>>;
  runAll<T extends readonly [] | readonly (AnyFunction | TaskSpec)[]>(tasks: T, options: RunAllOptions & { settle: 'all' }): Promise<{ -readonly [K in keyof T]: PromiseSettledResult<ResultOf<T[K]>> }>;
  runAll<T extends readonly [] | readonly (AnyFunction | TaskSpec)[]>(tasks: T, options?: RunAllOptions): Promise<{ -readonly [K in keyof T]: ResultOf<T[K]> }>;
  map<I, R>(fn: (item: I, index: number) => R, items: Iterable<I>, options?: MapOptions): Promise<Awaited2<R>[]>;
  batch<T extends readonly [] | readonly BatchTask[]>(taskConfigs: T, options?: BatchOptions): Promise<{ -readonly [K in keyof T]: BatchOutcome<ResultOf<T[K]>> }>;
  retry<A extends unknown[], R>(fn: (...args: A) => R, options?: RetryOptions<A>): Promise<Awaited2<R>>;
  retry<R = unknown>(task: ModuleTask, options?: RetryOptions<any[]>): Promise<R>;
  /** True if the task was pending (it will reject with an AbortError); false if it settled or is unknown. */
  cancel(task: TaskRef, options?: CancelOptions): boolean;
  module<M = Record<string, AnyFunction>>(modulePath: string | URL, options?: ModuleOptions): TaskModule<M>;
  getStats(): Stats;
  getHealth(): Health;
  getTimeline(): Timeline;
  /** This pool's metrics in the Prometheus text format. */
  metrics(): string;
  /** Starts recording every task into a trace (ERR_INVALID_STATE if one records already). */
  startTrace(options?: TraceOptions): void;
  /** Stops the recording and returns the trace (ERR_INVALID_STATE if none records). */
  stopTrace(): TraceDocument;
  /** startTrace(options), then stopTrace() after durationMs. */
  trace(options: TraceOptions & { durationMs: number }): Promise<TraceDocument>;
  /** A CPU profile of every executor over durationMs. */
  profile(options?: ProfileOptions): Promise<ExecutorProfile[]>;
  /**
   * Changes the running pool's configuration (only the options given):
   * `workers` resizes it in place, to any valid size; placement or
   * memory.limit throw a RangeError (ERR_INVALID_ARG_VALUE).
   */
  configure(options: TaskletsOptions): ResolvedOptions;
  shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
  /** shutdown({ mode: 'cancel', timeout: 0 }): queued tasks cancelled, running ones stopped now. */
  terminate(): Promise<ShutdownReport>;

  on<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  addListener<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  prependListener<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  once<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  prependOnceListener<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  off<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  removeListener<E extends keyof TaskletsEvents>(event: E, listener: Listener<E>): this;
  removeAllListeners(event?: keyof TaskletsEvents): this;
  emit<E extends keyof TaskletsEvents>(event: E, ...args: TaskletsEvents[E]): boolean;
  listenerCount(event: keyof TaskletsEvents): number;
  listeners<E extends keyof TaskletsEvents>(event: E): Listener<E>[];
  rawListeners<E extends keyof TaskletsEvents>(event: E): Listener<E>[];
  eventNames(): (string | symbol)[];
  setMaxListeners(n: number): this;
  getMaxListeners(): number;
}

// ---------------------------------------------------------------------------
// The default pool

/** Changes the default pool's configuration (only the given options); returns the resolved configuration. */
export function config(options: TaskletsOptions): ResolvedOptions;
export function getConfig(): ResolvedOptions;
export function run<A extends unknown[], R>(fn: (...args: A) => R, options?: RunOptions<A>): TaskPromise<Awaited2<R>>;
export function run<R = unknown>(task: ModuleTask, options?: RunOptions<any[]>): TaskPromise<R>;
export function run<A extends [unknown, unknown, ...unknown[]], R>(fn: (...args: A) => R, ...args: A): TaskPromise<Awaited2<R>>;
export function run<T extends PositionalArg, R>(fn: (arg: T) => R, arg: T): TaskPromise<Awaited2<R>>;
export function runAll<T extends readonly [] | readonly (AnyFunction | TaskSpec)[]>(tasks: T, options: RunAllOptions & { settle: 'all' }): Promise<{ -readonly [K in keyof T]: PromiseSettledResult<ResultOf<T[K]>> }>;
export function runAll<T extends readonly [] | readonly (AnyFunction | TaskSpec)[]>(tasks: T, options?: RunAllOptions): Promise<{ -readonly [K in keyof T]: ResultOf<T[K]> }>;
export function map<I, R>(fn: (item: I, index: number) => R, items: Iterable<I>, options?: MapOptions): Promise<Awaited2<R>[]>;
export function batch<T extends readonly [] | readonly BatchTask[]>(taskConfigs: T, options?: BatchOptions): Promise<{ -readonly [K in keyof T]: BatchOutcome<ResultOf<T[K]>> }>;
export function retry<A extends unknown[], R>(fn: (...args: A) => R, options?: RetryOptions<A>): Promise<Awaited2<R>>;
export function retry<R = unknown>(task: ModuleTask, options?: RetryOptions<any[]>): Promise<R>;
/** Cancels a task of the default pool; false if it settled, is unknown, or there is no default pool yet. */
export function cancel(task: TaskRef, options?: CancelOptions): boolean;
/** CommonJS: `tasklets.module(path)`. The ES module exports it as `taskModule`. */
declare function module_<M = Record<string, AnyFunction>>(modulePath: string | URL, options?: ModuleOptions): TaskModule<M>;
export { module_ as module, module_ as taskModule };
export function getStats(): Stats;
export function getHealth(): Health;
export function getTimeline(): Timeline;
/** Every live pool's metrics in the Prometheus text format. */
export function metrics(): string;
export function metricsHandler(): (req: unknown, res: MetricsResponse) => void;
/** Starts the live dashboard's HTTP server (on loopback unless `host` says otherwise). */
export function dashboard(options?: DashboardOptions): Promise<Dashboard>;
/** The dashboard's page, event stream and assets, to mount in a server of your own. */
export function dashboardHandler(options?: DashboardHandlerOptions): DashboardHandler;
/** Adds the tasklets families to a prom-client registry; returns a function that removes them. */
export function registerMetrics(register: PromClientRegistry): () => void;
/** One span per task (needs @opentelemetry/api). */
export function instrumentOpenTelemetry(options?: OpenTelemetryOptions): { disable(): void };
export const tracingChannelName: 'tasklets:task';
export function shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
/** shutdown({ mode: 'cancel', timeout: 0 }) of the default pool. */
export function terminate(): Promise<ShutdownReport>;
