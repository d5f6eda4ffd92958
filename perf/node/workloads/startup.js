'use strict';
// 8. Startup: from loading the library and creating the pool to the first
// result, in a fresh process each time.
const { open, now } = require('./common');
const { expectEqual } = require('../check');

module.exports = {
  id: 'startup',
  title: 'Startup: pool creation to first result',

  participants({ pools }) {
    return pools.map((library) => ({ library }));
  },

  async sample(participant) {
    const t0 = now();
    const pool = await open(participant);
    const created = now();
    expectEqual(await pool.call('inc', 41), 42, 'first result');
    const first = now();
    try {
      return { createMs: created - t0, firstResultMs: first - t0 };
    } finally {
      await pool.close();
    }
  },
};
