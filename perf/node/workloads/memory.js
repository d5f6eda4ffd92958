'use strict';
// 7. Memory: RSS and heap before the pool, after the first thousand tasks,
// during and after a million tasks (fewer in quick mode), in batches.
const { open, range } = require('./common');
const { checkIncs } = require('../check');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function snapshot(tasksDone) {
  const m = process.memoryUsage();
  return { tasks: tasksDone, rssMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20 };
}

async function settle() {
  if (typeof global.gc === 'function') {
    global.gc();
    await sleep(200);
    global.gc();
  }
  return sleep(100);
}

module.exports = {
  id: 'memory',
  title: 'Memory: RSS and heap around a million tasks',
  execArgv: ['--expose-gc'],

  // tasklets twice: as configured by default, and with memory.cleanup
  // 'aggressive' (what a service that cares about idle RSS would set).
  participants({ pools }) {
    return pools.flatMap((library) => (library === 'tasklets'
      ? [{ library, variant: 'run' }, { library, variant: 'run+cleanup' }]
      : [{ library }]));
  },

  async sample(participant, { tasks, batch, curvePoints }) {
    await settle();
    const before = snapshot(0);
    const pool = await open(participant);
    try {
      const first = range(1000);
      checkIncs(first, await pool.callMany('inc', first));
      await settle();
      const afterFirstThousand = snapshot(1000);
      const curve = [afterFirstThousand];
      const every = Math.max(1, Math.floor((tasks - 1000) / batch / curvePoints));
      let done = 1000;
      let peakRssMB = afterFirstThousand.rssMB;
      for (let b = 0; done < tasks; b++) {
        const args = range(Math.min(batch, tasks - done), done);
        checkIncs(args, await pool.callMany('inc', args));
        done += args.length;
        const s = snapshot(done);
        peakRssMB = Math.max(peakRssMB, s.rssMB);
        if (b % every === every - 1 || done >= tasks) curve.push(s);
      }
      await settle();
      const after = snapshot(done);
      return { tasks: done, before, afterFirstThousand, after, peakRssMB, curve };
    } finally {
      await pool.close();
    }
  },
};
