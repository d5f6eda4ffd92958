// Type definitions for tasklets (docs/api.md describes every function,
// option, field and error code).

export type Placement = 'compact' | 'scatter' | 'numa' | 'none';
export type Scaling = 'fixed' | 'adaptive';
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type Priority = 'high' | 'normal' | 'low';
/** A worker count: an integer, 'auto' (one per PU this process may use) or 'cpu_count * N'. */
export type WorkerCount = number | 'auto' | `cpu_count * ${number}` | `cpu_count*${number}`;

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

export interface TaskletsOptions {
  /** Default 'auto': one executor per PU, fixed. */
  workers?: WorkerCount | WorkersOptions;
  /** Where executors are pinned. Default 'numa'. */
  placement?: Placement;
  /** Validated and stored; no effect in this release (docs/api.md). Default Infinity. */
  timeout?: number;
  /** Validated and stored; no effect in this release (docs/api.md). Default 'warn'. */
  logging?: LogLevel;
}

export interface ResolvedOptions {
  workers: { min: number; max: number; scaling: Scaling; idleTimeout: number };
  placement: Placement;
  timeout: number;
  logging: LogLevel;
}

export interface TaskOptions<A extends unknown[] = unknown[]> {
  /** Arguments, sent by structured clone (primitives by a faster path). */
  args?: A;
  /** Default 'normal'. */
  priority?: Priority;
}

export interface RunOptions<A extends unknown[] = unknown[]> extends TaskOptions<A> {
  /**
   * ArrayBuffers (used by `args`) to move to the executor without a copy;
   * detached on this side when `run` returns. Views over them arrive as
   * views (a Buffer as a Uint8Array).
   */
  transfer?: ArrayBuffer[];
}

export interface TaskSpec<A extends any[] = any[], R = unknown> extends TaskOptions<A> {
  task: (...args: A) => R;
}

export interface MapOptions {
  /** Items per task. Default: about 4 chunks per executor. */
  chunkSize?: number;
  priority?: Priority;
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

/** The promise of one task, carrying the task's id. */
export interface TaskPromise<T> extends Promise<T> {
  readonly taskId: number;
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
}

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
}

/** getStats(): the native runtime's figures plus `pending`. See docs/api.md for every field. */
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
  workers: WorkerStats[];
  taskPools: TaskPoolStats[];
  arenas: ArenaStats[];
  /** Tasks whose promise has not settled yet, counted on the main thread. */
  pending: number;
}

type Awaited2<T> = T extends PromiseLike<infer U> ? U : T;
type ResultOf<T> = T extends (...args: any[]) => infer R ? Awaited2<R>
  : T extends { task: (...args: any[]) => infer R } ? Awaited2<R> : never;

export class Tasklets {
  constructor(options?: TaskletsOptions);
  /** A copy of the resolved configuration. */
  readonly options: ResolvedOptions;
  run<A extends unknown[], R>(fn: (...args: A) => R, options?: RunOptions<A>): TaskPromise<Awaited2<R>>;
  runAll<T extends readonly (((...args: any[]) => unknown) | TaskSpec)[]>(tasks: T): Promise<{ -readonly [K in keyof T]: ResultOf<T[K]> }>;
  map<I, R>(fn: (item: I, index: number) => R, items: Iterable<I>, options?: MapOptions): Promise<Awaited2<R>[]>;
  getStats(): Stats;
  shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
}

/** Changes the default pool's configuration (only the given options); returns the resolved configuration. */
export function config(options: TaskletsOptions): ResolvedOptions;
export function getConfig(): ResolvedOptions;
export function run<A extends unknown[], R>(fn: (...args: A) => R, options?: RunOptions<A>): TaskPromise<Awaited2<R>>;
export function runAll<T extends readonly (((...args: any[]) => unknown) | TaskSpec)[]>(tasks: T): Promise<{ -readonly [K in keyof T]: ResultOf<T[K]> }>;
export function map<I, R>(fn: (item: I, index: number) => R, items: Iterable<I>, options?: MapOptions): Promise<Awaited2<R>[]>;
export function getStats(): Stats;
export function shutdown(options?: ShutdownOptions): Promise<ShutdownReport>;
