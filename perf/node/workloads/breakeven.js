'use strict';
// 3. Break-even task size: tasks of 1..500 us of work; each pool's
// throughput divided by the same work run inline on the main thread.
const { open, range, timed, now } = require('./common');
const { expectEqual } = require('../check');
const tasks = require('../tasks');

module.exports = {
  id: 'breakeven',
  title: 'Break-even task size',

  participants({ pools }) {
    return [
      { library: 'inline' },
      ...pools.flatMap((lib) => (lib === 'tasklets' ? ['run', 'map'].map((variant) => ({ library: lib, variant })) : [{ library: lib }])),
    ];
  },

  async sample(participant, { sizesUs, itersPerUs, counts, warmup }) {
    const expected = sizesUs.map((us) => tasks.spin(Math.round(us * itersPerUs)));
    if (participant.library === 'inline') return sampleInline(sizesUs, itersPerUs, counts, expected, warmup);
    const pool = await open(participant);
    try {
      const warmArgs = range(warmup).map((i) => Math.round(sizesUs[i % sizesUs.length] * itersPerUs));
      const warmResults = await pool.callMany('spin', warmArgs);
      for (let i = 0; i < warmup; i++) expectEqual(warmResults[i], tasks.spin(warmArgs[i]), 'warm-up result');
      const bySize = [];
      for (let s = 0; s < sizesUs.length; s++) {
        const args = new Array(counts[s]).fill(Math.round(sizesUs[s] * itersPerUs));
        const { ms, value } = await timed(() => pool.callMany('spin', args));
        expectEqual(value.length, args.length, 'number of results');
        for (let i = 0; i < value.length; i++) if (value[i] !== expected[s]) expectEqual(value[i], expected[s], `spin(${args[0]})`);
        bySize.push({ us: sizesUs[s], tasks: args.length, ms, tasksPerSec: (args.length / ms) * 1000 });
      }
      return { bySize };
    } finally {
      await pool.close();
    }
  },
};

function sampleInline(sizesUs, itersPerUs, counts, expected, warmup) {
  for (let i = 0; i < warmup; i++) tasks.spin(Math.round(sizesUs[i % sizesUs.length] * itersPerUs));
  const bySize = [];
  for (let s = 0; s < sizesUs.length; s++) {
    const n = Math.round(sizesUs[s] * itersPerUs);
    const t0 = now();
    for (let i = 0; i < counts[s]; i++) if (tasks.spin(n) !== expected[s]) expectEqual(tasks.spin(n), expected[s], 'inline');
    const ms = now() - t0;
    bySize.push({ us: sizesUs[s], tasks: counts[s], ms, tasksPerSec: (counts[s] / ms) * 1000 });
  }
  return { bySize };
}
