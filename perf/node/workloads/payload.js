'use strict';
// 5. Payload: 1 KB, 64 KB and 1 MB arguments and results, copied (structured
// clone) and transferred (transfer list, where the library offers one). Both
// modes run in the same process, alternating size by size.
const { open, timed } = require('./common');
const { checkEcho } = require('../check');

module.exports = {
  id: 'payload',
  title: 'Payload: large arguments and results',

  participants({ pools }) {
    return pools.map((library) => ({ library }));
  },

  async sample(participant, { sizes, warmup }) {
    const pool = await open(participant);
    const modes = pool.transferIn ? [false, true] : [false];
    try {
      const copied = [];
      const transferred = pool.transferIn ? [] : null;
      for (const { bytes, tasks } of sizes) {
        for (const transfer of modes) {
          await round(pool, bytes, warmup, transfer);
          const { ms } = await timed(() => round(pool, bytes, tasks, transfer));
          (transfer ? transferred : copied).push({
            bytes, tasks, ms, tasksPerSec: (tasks / ms) * 1000, mbPerSec: ((2 * bytes * tasks) / ms) * 1e-3,
          });
        }
      }
      return { copied, transferred, transferOut: pool.transferOut };
    } finally {
      await pool.close();
    }
  },
};

// `count` tasks of `bytes` each, started at once; every answer checked.
async function round(pool, bytes, count, transfer) {
  const inputs = [];
  for (let i = 0; i < count; i++) {
    const a = new Uint8Array(bytes);
    a[0] = i & 255;
    a[bytes - 1] = (i * 7 + 3) & 255;
    inputs.push(a);
  }
  await Promise.all(inputs.map((a, i) => pool.call('echoBytes', a, { transfer }).then((r) => {
    checkEcho(r, bytes, i & 255, (i * 7 + 3) & 255);
  })));
}
