'use strict';
// Runs one sample of one workload for one participant, in its own process,
// and reports it to the lab over IPC: { ok: true, data } or { ok: false, error }.
// With workload 'probe': opens the pool, checks one answer, closes it.
// Run by hand it prints the result: node perf/node/child.js '<spec JSON>'.

const { LIBRARIES, firstLine } = require('./libs');

async function probe(participant) {
  const lib = LIBRARIES[participant.library];
  const pool = await lib.open({ workers: participant.workers, variant: participant.variant });
  try {
    const answer = await pool.call('inc', 1);
    if (answer !== 2) throw new Error(`wrong answer: inc(1) returned ${JSON.stringify(answer)}`);
    return { answer };
  } finally {
    await pool.close();
  }
}

async function main() {
  const { workload, participant, params } = JSON.parse(process.argv[2]);
  // Some pools' Workers do not keep a process alive while they boot or
  // work, and a forked child's IPC channel does not either: without a
  // handle of our own the child could end (code 0) in the middle of a
  // sample, as poolifier's did now and then.
  const alive = setInterval(() => {}, 60000);
  try {
    return workload === 'probe' ? await probe(participant) : await require(`./workloads/${workload}`).sample(participant, params);
  } finally {
    clearInterval(alive);
  }
}

// Over IPC when the lab forked us; on stdout when run by hand (profiling).
function report(message) {
  if (typeof process.send === 'function') process.send(message, () => process.exit(0));
  else {
    process.stdout.write(`${JSON.stringify(message, null, 1)}\n`);
    process.exit(0);
  }
}

main().then(
  (data) => report({ ok: true, data }),
  (err) => {
    const error = err && err.name === 'WrongAnswer' ? err.message : `${firstLine(err)}`;
    report({ ok: false, error, code: err && err.code, stack: String(err && err.stack) });
  });
