'use strict';
// 1. Overhead: N no-op tasks (x => x + 1) started at once, all awaited.
const { open, range, timed } = require('./common');
const { checkIncs } = require('../check');

module.exports = {
  id: 'overhead',
  title: 'Overhead: no-op tasks started at once',

  participants({ pools }) {
    // Libraries with a bulk call get it as a second entry (tasklets runAll
    // and map, poolifier mapExecute); one promise per task is the first.
    const variants = { tasklets: ['run', 'runAll', 'map'], poolifier: ['execute', 'mapExecute'] };
    return pools.flatMap((library) => (variants[library] || [undefined]).map((variant) => ({ library, variant })));
  },

  async sample(participant, { tasks, warmup }) {
    const pool = await open(participant);
    try {
      const warm = range(warmup);
      checkIncs(warm, await pool.callMany('inc', warm));
      const args = range(tasks, 1);
      const { ms, value } = await timed(() => pool.callMany('inc', args));
      checkIncs(args, value);
      return { tasks, ms, tasksPerSec: (tasks / ms) * 1000 };
    } finally {
      await pool.close();
    }
  },
};
