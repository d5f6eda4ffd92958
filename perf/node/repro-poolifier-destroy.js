'use strict';
// Minimal repro of a poolifier bug the perf lab works around (perf/node/libs.js,
// boundedDestroy): after a FixedThreadPool ran some tasks, destroy() sometimes
// never settles. Prints one line per attempt; exits 1 if any attempt hung.
// Cause (poolifier 5.3.2, lib/index.cjs): WorkerNode.terminate() starts
// waiting for the Worker's 'exit' event only after the kill handshake, but
// the thread worker closes its port once it has answered the kill message
// and exits by itself; when that 'exit' was delivered first, the wait never
// ends.
// Usage: node perf/node/repro-poolifier-destroy.js [attempts]
const path = require('node:path');
const { FixedThreadPool, PoolEvents } = require(path.join(__dirname, '..', '..', 'node_modules', 'poolifier'));

async function attempt(n) {
  const pool = new FixedThreadPool(2, path.join(__dirname, 'workers', 'poolifier.js'));
  if (!pool.info.ready) await new Promise((resolve) => pool.emitter.once(PoolEvents.ready, resolve));
  await Promise.all(Array.from({ length: n }, (_, i) => pool.execute(i, 'inc')));
  let timer;
  const hung = new Promise((resolve) => { timer = setTimeout(() => resolve(true), 3000); });
  const result = await Promise.race([pool.destroy().then(() => false), hung]);
  clearTimeout(timer);
  return result;
}

(async () => {
  const attempts = Number(process.argv[2] || 6);
  const alive = setInterval(() => {}, 60000);  // what a lab child has: something else alive
  let hangs = 0;
  for (let i = 0; i < attempts; i++) {
    const n = 1000 * (i + 1);
    const hung = await attempt(n);
    if (hung) hangs++;
    console.log(`${n} tasks: destroy() ${hung ? 'still pending after 3 s' : 'settled'}`);
  }
  clearInterval(alive);
  console.log(`${hangs} of ${attempts} destroy() calls never settled (poolifier ${require(path.join(__dirname, '..', '..', 'node_modules', 'poolifier', 'package.json')).version})`);
  process.exit(hangs > 0 ? 1 : 0);
})();
