'use strict';
// Loaded with `node --require` into the script `tasklets trace` runs
// (js/cli/trace.js): records every pool the script creates, from its
// creation, and writes one trace file when the process exits.
//
// Pools are found on the diagnostics channel tasklets:pool (js/tracing.js),
// which every copy of tasklets in the process publishes on. The settings
// come in environment variables, removed at once so that a process the
// script starts does not write the same file. Executors inherit
// `--require`: this does nothing outside the main thread.

const fs = require('node:fs');
const diagnosticsChannel = require('node:diagnostics_channel');
const { isMainThread } = require('node:worker_threads');
const { POOL_CHANNEL } = require('../tracing');
const { mergeTraces } = require('../trace-file-document');

const FILE_VAR = 'TASKLETS_TRACE_FILE';
const CAPACITY_VAR = 'TASKLETS_TRACE_CAPACITY';

function install(file, capacity) {
  const pools = [];
  diagnosticsChannel.subscribe(POOL_CHANNEL, ({ pool }) => {
    try {
      pool.startTrace(capacity === undefined ? {} : { capacity });
      pools.push(pool);
    } catch (err) {
      process.emitWarning(`tasklets trace: a pool could not be traced: ${err.message}`, 'TaskletsWarning');
    }
  });
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    const documents = [];
    for (const pool of pools) {
      try {
        documents.push(pool.stopTrace());
      } catch {
        // The script stopped this pool's recording itself.
      }
    }
    fs.writeFileSync(file, JSON.stringify(mergeTraces(documents)));
  };
  process.on('exit', write);
  // A signal that would end the process without 'exit': write, then let
  // it end the process as it would have.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const onSignal = () => {
      write();
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

if (isMainThread && process.env[FILE_VAR]) {
  const file = process.env[FILE_VAR];
  const capacity = process.env[CAPACITY_VAR] ? Number(process.env[CAPACITY_VAR]) : undefined;
  delete process.env[FILE_VAR];
  delete process.env[CAPACITY_VAR];
  install(file, capacity);
}

module.exports = { FILE_VAR, CAPACITY_VAR };
