'use strict';
// The pools a process has, for tasklets.metrics(), tasklets.metricsHandler()
// and tasklets.registerMetrics(): every pool adds its observer when it
// starts and removes it when it shuts down. Held through WeakRefs: a pool
// nobody references any more is not kept alive by its metrics.

const { collect } = require('./collect');
const { format, mergeFamilies, CONTENT_TYPE } = require('./prometheus');
const errors = require('../errors');

const kObserve = Symbol('tasklets.observe');
const kLabel = Symbol('tasklets.label');   // a pool's `pool` label, without observing it
const pools = new Set();   // WeakRef<pool>, each with a [kObserve]() method

function add(observer) {
  const ref = new WeakRef(observer);
  pools.add(ref);
  return () => pools.delete(ref);
}

function families() {
  const lists = [];
  for (const ref of pools) {
    const observer = ref.deref();
    if (observer === undefined) pools.delete(ref);
    else lists.push(collect(observer[kObserve]()));
  }
  return mergeFamilies(lists);
}

// The live pools, in the order they started (the dashboard's list).
function livePools() {
  const out = [];
  for (const ref of pools) {
    const observer = ref.deref();
    if (observer === undefined) pools.delete(ref);
    else out.push(observer);
  }
  return out;
}

function metricsText() {
  return format(families());
}

// A node:http / express handler answering with every pool's metrics.
function metricsHandler() {
  return (req, res) => {
    let body;
    try {
      body = metricsText();
    } catch (err) {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`tasklets: the metrics could not be collected: ${err && err.message}\n`);
      return;
    }
    res.statusCode = 200;
    res.setHeader('content-type', CONTENT_TYPE);
    res.end(body);
  };
}

// Adds one collector per family to a prom-client Registry. The families are
// collected once per scrape: prom-client asks every metric within one
// synchronous pass, and the collection is dropped in the next microtask.
// Returns a function that removes them again.
function registerMetrics(register) {
  if (register === null || typeof register !== 'object' || typeof register.registerMetric !== 'function' ||
      typeof register.removeSingleMetric !== 'function') {
    throw errors.argType('register', 'a prom-client Registry', register);
  }
  let cached = null;
  const current = () => {
    if (cached === null) {
      cached = new Map(families().map((f) => [f.name, f]));
      queueMicrotask(() => {
        cached = null;
      });
    }
    return cached;
  };
  // The families exist whatever pools exist (a pool may start later): their
  // names come from a collection of an empty observation set plus the live pools.
  const names = templateFamilies();
  for (const f of names) {
    register.registerMetric({
      name: f.name,
      help: f.help,
      type: f.type,
      aggregator: 'sum',
      get: () => {
        const live = current().get(f.name);
        return { name: f.name, help: f.help, type: f.type, aggregator: 'sum', values: live === undefined ? [] : live.values };
      },
      // The figures belong to the pools; a registry reset cannot clear them.
      reset: () => {},
    });
  }
  return () => {
    for (const f of names) register.removeSingleMetric(f.name);
  };
}

const EMPTY_HISTOGRAM = { buckets: [], count: 0, sum: 0 };

// The family list (names, types, help) without any pool.
function templateFamilies() {
  return collect({
    pool: '',
    stats: {
      histograms: { queueWait: EMPTY_HISTOGRAM, runTime: EMPTY_HISTOGRAM, taskCpu: EMPTY_HISTOGRAM },
      queued: { high: 0, normal: 0, low: 0 }, workers: [], arenas: [],
    },
    roundTrip: EMPTY_HISTOGRAM,
    errors: { outcomes: {}, codes: {} },
    executors: new Map(),
  });
}

module.exports = { kObserve, kLabel, add, livePools, families, metricsText, metricsHandler, registerMetrics };
