'use strict';
// One adapter per library, all with the same shape, used inside the lab's
// child processes:
//
//   const pool = await LIBRARIES[name].open({ workers, variant })
//   await pool.call(task, arg, { transfer })      one task, one promise
//   await pool.callMany(task, args)               many tasks at once
//   pool.transferIn / pool.transferOut            what `transfer` can move
//   await pool.close()
//
// `task` names a function of tasks.js. Each library is driven the way its
// documentation recommends: a worker file for piscina, tinypool and
// poolifier, exec(fn) for workerpool, run(fn) / runAll / map for tasklets.

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const tasks = require('./tasks');

const ROOT = path.resolve(__dirname, '..', '..');
const WORKERS_DIR = path.join(__dirname, 'workers');

function promiseAll(pool, task, args) {
  return Promise.all(args.map((arg) => pool.call(task, arg)));
}

function versionOf(pkg) {
  return require(path.join(ROOT, 'node_modules', pkg, 'package.json')).version;
}

// Whether a peer package can be loaded here: { ok, version } or { ok: false, reason }.
function peerAvailability(pkg) {
  try {
    return { ok: true, version: versionOf(pkg) };
  } catch {
    return { ok: false, reason: `not installed (npm install --ignore-scripts: devDependency ${pkg})` };
  }
}

// --- tasklets ---------------------------------------------------------------

function loadTasklets() {
  return require(ROOT);
}

const tasklets = {
  name: 'tasklets',
  transferIn: false,
  variants: ['run', 'runAll', 'map'],
  availability() {
    let mod;
    try {
      mod = loadTasklets();
    } catch (err) {
      const code = err && err.code;
      if (code === 'ERR_TASKLETS_NOT_BUILT') return { ok: false, reason: `not built (${err.message})` };
      if (code === 'MODULE_NOT_FOUND') return { ok: false, reason: `js/index.js not loadable (${firstLine(err)})` };
      return { ok: false, reason: `require failed: ${firstLine(err)}` };
    }
    if (typeof mod.Tasklets !== 'function') return { ok: false, reason: 'require(tasklets).Tasklets is not a class' };
    return { ok: true, version: require(path.join(ROOT, 'package.json')).version };
  },
  // A variant ending in '+cleanup' runs with memory: { cleanup: 'aggressive' }
  // (idle memory given back; the memory workload shows both).
  async open({ workers, variant = 'run' }) {
    const { Tasklets } = loadTasklets();
    const cleanup = variant.endsWith('+cleanup') ? 'aggressive' : 'none';
    const pool = new Tasklets({ workers, placement: 'compact', memory: { cleanup } });
    const call = (task, arg) => pool.run(tasks[task], { args: [arg] });
    const callMany = {
      run: (task, args) => Promise.all(args.map((arg) => call(task, arg))),
      runAll: (task, args) => pool.runAll(args.map((arg) => ({ task: tasks[task], args: [arg] }))),
      map: (task, args) => pool.map(tasks[task], args),
    }[variant.replace(/\+cleanup$/, '')];
    if (callMany === undefined) throw new Error(`unknown tasklets variant ${variant}`);
    return {
      transferIn: false,
      transferOut: false,
      call,
      callMany,
      stats: () => pool.getStats(),
      close: () => pool.shutdown(),
    };
  },
};

// --- piscina ----------------------------------------------------------------

// piscina and tinypool share one API: run(arg, { name, transferList }) on a
// worker file that exports one function per task name.
function namedTaskAdapter(pool) {
  const adapter = {
    transferIn: true,
    transferOut: true,
    call(task, arg, { transfer = false } = {}) {
      if (!transfer) return pool.run(arg, { name: task });
      return pool.run(arg, { name: task === 'echoBytes' ? 'echoBytesMoved' : task, transferList: [arg.buffer] });
    },
    callMany: (task, args) => promiseAll(adapter, task, args),
    close: () => pool.destroy(),
  };
  return adapter;
}

const piscina = {
  name: 'piscina',
  transferIn: true,
  availability: () => peerAvailability('piscina'),
  async open({ workers }) {
    const { Piscina } = require(path.join(ROOT, 'node_modules', 'piscina'));
    const pool = new Piscina({
      filename: path.join(WORKERS_DIR, 'piscina.js'),
      minThreads: workers,
      maxThreads: workers,
    });
    return namedTaskAdapter(pool);
  },
};

// --- tinypool (ESM only) ----------------------------------------------------

const tinypool = {
  name: 'tinypool',
  transferIn: true,
  availability: () => peerAvailability('tinypool'),
  async open({ workers }) {
    const { default: Tinypool } = await import(path.join(ROOT, 'node_modules', 'tinypool', 'dist', 'index.js'));
    const pool = new Tinypool({
      filename: path.join(WORKERS_DIR, 'tinypool.mjs'),
      minThreads: workers,
      maxThreads: workers,
    });
    return namedTaskAdapter(pool);
  },
};

// --- poolifier --------------------------------------------------------------

// poolifier 5.3.2's destroy() now and then never settles once the pool has
// run tasks (about one run in two with 1,000 to 6,000 no-op tasks on 2
// threads here; its workers have exited by then, so a process with nothing
// else alive ends, but one that awaits destroy() waits forever): a lab
// child then hung until its 30 s limit and poolifier had no figure. The
// sample is taken before close(), so close() waits at most this long and
// says so on stderr; the child exits right after and its threads with it.
// Repro: node perf/node/repro-poolifier-destroy.js.
const DESTROY_WAIT_MS = 2000;

function boundedDestroy(pool) {
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => {
      process.stderr.write(`poolifier: destroy() did not settle within ${DESTROY_WAIT_MS} ms (a poolifier bug; the sample stands)\n`);
      resolve();
    }, DESTROY_WAIT_MS);
  });
  return Promise.race([pool.destroy(), late]).finally(() => clearTimeout(timer));
}

const poolifier = {
  name: 'poolifier',
  transferIn: true,
  availability: () => peerAvailability('poolifier'),
  variants: ['execute', 'mapExecute'],
  async open({ workers, variant = 'execute' }) {
    const { FixedThreadPool, PoolEvents } = require(path.join(ROOT, 'node_modules', 'poolifier'));
    const pool = new FixedThreadPool(workers, path.join(WORKERS_DIR, 'poolifier.js'), {
      errorHandler: (err) => process.stderr.write(`poolifier worker error: ${err}\n`),
    });
    if (!pool.info.ready) await new Promise((resolve) => pool.emitter.once(PoolEvents.ready, resolve));
    const adapter = {
      transferIn: true,
      transferOut: false,
      call(task, arg, { transfer = false } = {}) {
        return transfer ? pool.execute(arg, task, undefined, [arg.buffer]) : pool.execute(arg, task);
      },
      // mapExecute: poolifier's own bulk call (one promise for the batch).
      callMany: variant === 'mapExecute' ? (task, args) => pool.mapExecute(args, task) : (task, args) => promiseAll(adapter, task, args),
      close: () => boundedDestroy(pool),
    };
    return adapter;
  },
};

// --- workerpool -------------------------------------------------------------

const workerpool = {
  name: 'workerpool',
  transferIn: true,
  availability: () => peerAvailability('workerpool'),
  async open({ workers }) {
    const wp = require(path.join(ROOT, 'node_modules', 'workerpool'));
    const pool = wp.pool({ minWorkers: workers, maxWorkers: workers, workerType: 'thread' });
    const adapter = {
      transferIn: true,
      transferOut: false,
      call(task, arg, { transfer = false } = {}) {
        // exec() returns workerpool's own Promise; wrap it into a native one.
        const p = transfer ? pool.exec(tasks[task], [arg], { transfer: [arg.buffer] }) : pool.exec(tasks[task], [arg]);
        return Promise.resolve(p);
      },
      callMany: (task, args) => promiseAll(adapter, task, args),
      close: () => pool.terminate(),
    };
    return adapter;
  },
};

// --- worker_threads baseline: one Worker, postMessage -----------------------

const baseline = {
  name: 'worker_threads',
  transferIn: true,
  fixedWorkers: 1,
  availability: () => ({ ok: true, version: process.versions.node }),
  async open() {
    const worker = new Worker(path.join(WORKERS_DIR, 'baseline.js'));
    const pending = new Map();
    let nextId = 0;
    worker.on('message', ({ id, result, error }) => {
      const p = pending.get(id);
      pending.delete(id);
      if (error === undefined) p.resolve(result);
      else p.reject(new Error(error));
    });
    worker.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    await new Promise((resolve) => worker.once('online', resolve));
    const adapter = {
      transferIn: true,
      transferOut: true,
      call(task, arg, { transfer = false } = {}) {
        const id = nextId++;
        return new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          if (transfer) worker.postMessage({ id, task, arg, transfer }, [arg.buffer]);
          else worker.postMessage({ id, task, arg });
        });
      },
      callMany: (task, args) => promiseAll(adapter, task, args),
      close: () => worker.terminate(),
    };
    return adapter;
  },
};

// --- the floor: a futex hand-off there, a uv_async wake back -----------------

// Only for one task awaited at a time on int32 arguments (the latency
// workload's inc): see workers/floor.js for what it measures.
const floor = {
  name: 'floor',
  transferIn: false,
  fixedWorkers: 1,
  availability: () => ({ ok: true, version: process.versions.node }),
  async open() {
    const shared = new SharedArrayBuffer(16);
    const cell = new Int32Array(shared);
    const worker = new Worker(path.join(WORKERS_DIR, 'floor.js'), { workerData: { shared } });
    const failed = new Promise((_, reject) => worker.once('error', reject));
    failed.catch(() => {});  // seen by the races below; not an unhandled rejection meanwhile
    await Promise.race([new Promise((resolve) => worker.once('online', resolve)), failed]);
    let busy = false;
    const adapter = {
      transferIn: false,
      transferOut: false,
      async call(task, arg) {
        if (task !== 'inc' || busy) throw new Error('the floor runs one inc task at a time');
        busy = true;
        try {
          cell[1] = arg;
          Atomics.store(cell, 3, 0);
          // Waiting before the Worker is woken: the answer always comes
          // back through the event loop, as a pool's does.
          const answered = Atomics.waitAsync(cell, 3, 0);
          Atomics.store(cell, 0, 1);
          Atomics.notify(cell, 0);
          if (answered.async) await Promise.race([answered.value, failed]);
          return cell[2];
        } finally {
          busy = false;
        }
      },
      callMany: () => Promise.reject(new Error('the floor runs one task at a time')),
      close: async () => {
        Atomics.store(cell, 0, 2);
        Atomics.notify(cell, 0);
        await worker.terminate();
      },
    };
    return adapter;
  },
};

// --- no pool: the work on the main thread -----------------------------------

const inline = {
  name: 'inline',
  transferIn: false,
  fixedWorkers: 0,
  availability: () => ({ ok: true, version: process.versions.node }),
  async open() {
    const adapter = {
      transferIn: false,
      transferOut: false,
      call: (task, arg) => Promise.resolve(tasks[task](arg)),
      callMany: (task, args) => Promise.all(args.map((arg) => tasks[task](arg))),
      close: async () => {},
    };
    return adapter;
  },
};

function firstLine(err) {
  return String((err && err.message) || err).split('\n')[0];
}

const LIBRARIES = { tasklets, piscina, tinypool, poolifier, workerpool, worker_threads: baseline, inline, floor };
const PEERS = ['piscina', 'tinypool', 'poolifier', 'workerpool'];

module.exports = { LIBRARIES, PEERS, ROOT, firstLine };
