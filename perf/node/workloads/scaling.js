'use strict';
// 4. CPU-bound scaling: coarse tasks (tens of ms) with 1, 2, ... workers;
// speedup over the same work run serially on the main thread.
const { open, range, timed, now } = require('./common');
const { expectEqual } = require('../check');
const tasks = require('../tasks');

module.exports = {
  id: 'scaling',
  title: 'CPU-bound scaling',

  participants({ pools, workerCounts }) {
    const scalable = pools.filter((lib) => lib !== 'worker_threads');
    return [
      { library: 'inline', workers: 0 },
      ...workerCounts.flatMap((workers) => scalable.map((library) => ({ library, workers }))),
    ];
  },

  async sample(participant, { taskMs, itersPerUs, tasks: count }) {
    const n = Math.round(taskMs * 1000 * itersPerUs);
    const expected = tasks.spin(n);
    if (participant.library === 'inline') {
      const t0 = now();
      for (let i = 0; i < count; i++) expectEqual(tasks.spin(n), expected, 'inline');
      return { tasks: count, ms: now() - t0 };
    }
    const pool = await open(participant);
    try {
      // Warm every worker's JIT with small tasks of the same function.
      const warm = range(8 * participant.workers).map(() => Math.round(500 * itersPerUs));
      await pool.callMany('spin', warm);
      const { ms, value } = await timed(() => pool.callMany('spin', new Array(count).fill(n)));
      expectEqual(value.length, count, 'number of results');
      for (const r of value) expectEqual(r, expected, `spin(${n})`);
      return { tasks: count, ms };
    } finally {
      await pool.close();
    }
  },
};
