'use strict';
// A pool's observation (pool[kObserve]()) as metric families
// (js/metrics/prometheus.js). Names, types and units are listed in
// docs/observability.md; the families the runtime counts have the same
// names as the C++ writer's (include/tasklets/exposition.hpp).

const { BOUNDS } = require('./histogram');

const LE = BOUNDS.map(String);
const PRIORITIES = ['high', 'normal', 'low'];

function family(name, type, help, values) {
  return { name, type, help, values, aggregator: 'sum' };
}

function histogram(name, help, h, base) {
  const values = [];
  for (let i = 0; i < LE.length; i++) values.push({ metricName: `${name}_bucket`, labels: { ...base, le: LE[i] }, value: h.buckets[i] });
  values.push({ metricName: `${name}_bucket`, labels: { ...base, le: '+Inf' }, value: h.count });
  values.push({ metricName: `${name}_sum`, labels: base, value: h.sum });
  values.push({ metricName: `${name}_count`, labels: base, value: h.count });
  return family(name, 'histogram', help, values);
}

function one(base, value) {
  return [{ labels: base, value }];
}

function each(base, key, entries) {
  return entries.map(([k, value]) => ({ labels: { ...base, [key]: String(k) }, value }));
}

// o: { pool, stats, roundTrip, errors, executors }
function collect(o) {
  const base = { pool: o.pool };
  const s = o.stats;
  const h = s.histograms;
  const workers = s.workers;
  const executors = [...o.executors];
  return [
    histogram('tasklets_queue_wait_seconds', 'Time tasks waited in a queue, from submission to start.', h.queueWait, base),
    histogram('tasklets_run_time_seconds', 'Time tasks ran, from start to end.', h.runTime, base),
    histogram('tasklets_task_cpu_seconds', 'Thread CPU time per task (recorded when metrics.taskCpuTime is on).', h.taskCpu, base),
    histogram('tasklets_round_trip_seconds', 'Time from run() to the settlement of its promise, on the main thread.', o.roundTrip, base),
    family('tasklets_tasks_total', 'counter', 'Tasks settled by the runtime, by outcome.', each(base, 'outcome', [
      ['succeeded', s.executed], ['failed', s.failed], ['cancelled', s.cancelled], ['timed_out', s.timedOut],
      ['dependency_failed', s.dependencyFailed]])),
    family('tasklets_task_settlements_total', 'counter', 'Task promises settled, by outcome.',
      each(base, 'outcome', Object.entries(o.errors.outcomes))),
    family('tasklets_task_errors_total', 'counter', 'Task promises rejected, by error code (the first 20 codes seen; the rest as other).',
      each(base, 'code', Object.entries(o.errors.codes))),
    family('tasklets_tasks_stolen_total', 'counter', "Tasks a worker took from another worker's queue.", one(base, s.stolen)),
    family('tasklets_queued_tasks', 'gauge', 'Tasks waiting in the queues, by priority.',
      each(base, 'priority', PRIORITIES.map((p) => [p, s.queued[p]]))),
    family('tasklets_waiting_tasks', 'gauge', 'Tasks waiting for their dependencies.', one(base, s.waiting)),
    family('tasklets_pending_tasks', 'gauge', 'Tasks submitted whose promise has not settled.', one(base, s.pending)),
    family('tasklets_active_workers', 'gauge', 'Worker slots receiving tasks.', one(base, s.activeWorkers)),
    family('tasklets_sleeping_workers', 'gauge', 'Workers parked, waiting for work.', one(base, s.sleepingWorkers)),
    family('tasklets_scale_events_total', 'counter', 'Adaptive scaling steps, by direction.',
      each(base, 'direction', [['up', s.scaleUps], ['down', s.scaleDowns]])),
    family('tasklets_replaced_workers_total', 'counter', 'Workers started again because the thread serving a slot died.',
      one(base, s.replacedWorkers)),
    family('tasklets_worker_tasks_total', 'counter', 'Tasks a worker ran, by worker slot.',
      each(base, 'worker', workers.map((w) => [w.id, w.executed + w.failed]))),
    family('tasklets_worker_busy_seconds_total', 'counter', "Sum of the run times of a worker's tasks.",
      each(base, 'worker', workers.map((w) => [w.id, w.busyTime / 1e6]))),
    family('tasklets_worker_cpu_seconds_total', 'counter', 'CPU time of the threads that served a worker slot.',
      each(base, 'worker', workers.map((w) => [w.id, w.cpuTime / 1e6]))),
    family('tasklets_arena_resident_bytes', 'gauge', 'Resident bytes of the jemalloc arena of a NUMA node.',
      each(base, 'numa', s.arenas.map((a, n) => [n, a.resident]))),
    family('tasklets_executor_heap_used_bytes', 'gauge', 'V8 heap used by an executor.',
      each(base, 'worker', executors.map(([slot, f]) => [slot, f.heapUsed]))),
    family('tasklets_executor_heap_limit_bytes', 'gauge', "V8 heap limit of an executor.",
      each(base, 'worker', executors.map(([slot, f]) => [slot, f.heapLimit]))),
    family('tasklets_executor_external_memory_bytes', 'gauge', 'Memory outside the V8 heap held by JS objects of an executor.',
      each(base, 'worker', executors.map(([slot, f]) => [slot, f.externalMemory]))),
    family('tasklets_executor_utilization_ratio', 'gauge', "Share of the last sampling interval an executor's event loop was active.",
      each(base, 'worker', executors.map(([slot, f]) => [slot, f.utilization]))),
    family('tasklets_executor_current_task_age_seconds', 'gauge', 'How long the task an executor is invoking has run (0: none).',
      each(base, 'worker', executors.map(([slot, f]) => [slot, f.currentTaskAge / 1000]))),
  ];
}

module.exports = { collect };
