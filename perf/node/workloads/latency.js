'use strict';
// 2. Latency: one no-op task awaited at a time; round trip percentiles.
const { open, now } = require('./common');
const { expectEqual } = require('../check');
const { latencySummary } = require('../stats');

module.exports = {
  id: 'latency',
  title: 'Latency: one task awaited at a time',

  // The floor (libs.js) rides along: what this machine charges for any
  // round trip through a Worker, in the same run.
  participants({ pools }) {
    return [...pools.map((library) => ({ library })), { library: 'floor' }];
  },

  async sample(participant, { samples, warmup }) {
    const pool = await open(participant);
    try {
      for (let i = 0; i < warmup; i++) expectEqual(await pool.call('inc', i), i + 1, 'warm-up result');
      const us = new Array(samples);
      for (let i = 0; i < samples; i++) {
        const t0 = now();
        const r = await pool.call('inc', i);
        us[i] = (now() - t0) * 1000;
        if (r !== i + 1) expectEqual(r, i + 1, `result ${i}`);
      }
      return { ...latencySummary(us), roundTripsUs: us.map((x) => Math.round(x * 10) / 10) };
    } finally {
      await pool.close();
    }
  },
};
