'use strict';
// Figures an executor publishes about itself in a SharedArrayBuffer the main
// thread reads at any time (one per executor, like the abort ring of
// js/executors.js). Written only by the executor; plain Float64 stores (a
// reader may see one field a publication older than another, never a torn
// value on the platforms Node runs on).
//
// Cost: the id of the task being invoked is stored per task (one store); the
// batch start time per runBatch call; heap statistics and event-loop
// utilization at most every PUBLISH_MS while busy, and whenever the
// executor parks.

const v8 = require('node:v8');

const HEAP_USED = 0;
const HEAP_LIMIT = 1;
const EXTERNAL = 2;
const ELU_ACTIVE = 3;      // ms the event loop was active since the executor started
const ELU_IDLE = 4;
const CURRENT_TASK = 5;    // id of the task being invoked, 0 none
const BATCH_STARTED = 6;   // epoch ms the current runBatch call started
const PUBLISHED_AT = 7;    // epoch ms of the last publication
const FIELDS = 8;
const PUBLISH_MS = 250;

function createFiguresBuffer() {
  return new SharedArrayBuffer(FIELDS * 8);
}

// Executor side.
class FigureWriter {
  constructor(sab) {
    this.f = new Float64Array(sab);
    this.lastPublished = -Infinity;
    // At once: the first batch may run for a long time (a stuck task).
    this.publish(performance.now());
  }

  batchStarted() {
    const now = performance.now();
    this.f[BATCH_STARTED] = performance.timeOrigin + now;
    return now;
  }

  taskStarted(id) {
    this.f[CURRENT_TASK] = id;
  }

  // After a runBatch call that started at `started` (performance.now()).
  batchEnded(started, parked) {
    this.f[CURRENT_TASK] = 0;
    if (parked || started - this.lastPublished >= PUBLISH_MS) this.publish(started);
  }

  publish(now) {
    this.lastPublished = now;
    const heap = v8.getHeapStatistics();
    const elu = performance.eventLoopUtilization();
    const f = this.f;
    f[HEAP_USED] = heap.used_heap_size;
    f[HEAP_LIMIT] = heap.heap_size_limit;
    f[EXTERNAL] = heap.external_memory;
    f[ELU_ACTIVE] = elu.active;
    f[ELU_IDLE] = elu.idle;
    f[PUBLISHED_AT] = performance.timeOrigin + performance.now();
  }
}

// Main-thread side: a plain copy. `now`: epoch ms.
function readFigures(f, now) {
  const task = f[CURRENT_TASK];
  return {
    heapUsed: f[HEAP_USED],
    heapLimit: f[HEAP_LIMIT],
    externalMemory: f[EXTERNAL],
    eventLoopActive: f[ELU_ACTIVE],
    eventLoopIdle: f[ELU_IDLE],
    currentTaskId: task === 0 ? null : task,
    currentTaskAge: task === 0 ? 0 : Math.max(0, now - f[BATCH_STARTED]),
    updatedAt: f[PUBLISHED_AT],
  };
}

module.exports = { createFiguresBuffer, FigureWriter, readFigures, FIELDS };
