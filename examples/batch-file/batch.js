'use strict';
// A batch job over a file too large to hold at once: NDJSON records are
// streamed in, processed in windows with map() (chunks of records per task,
// a bounded number of chunks in flight), a window that fails is tried again
// with backoff, and results are streamed out in input order.
//
//   node examples/batch-file/batch.js --generate 200000 records.ndjson   # make an input file
//   node examples/batch-file/batch.js records.ndjson results.ndjson
// Options: --window N (records per window, 20000), --chunk N (records per
// task, 500), --concurrency N (chunks in flight, 4), --attempts N (3).
// A record with "flaky": true fails the first attempt of its window, as a
// transient fault would. Prints a JSON summary line.

const fs = require('node:fs');
const readline = require('node:readline');
const { once } = require('node:events');
const { Tasklets } = require('tasklets');

function parseArgs(argv) {
  const opts = { window: 20000, chunk: 500, concurrency: 4, attempts: 3, generate: 0, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      if (!(key in opts) || key === 'files') throw new RangeError(`unknown option ${a}`);
      opts[key] = Number(argv[++i]);
      if (!Number.isInteger(opts[key]) || opts[key] < 1) throw new RangeError(`${a} needs a positive integer`);
    } else {
      opts.files.push(a);
    }
  }
  return opts;
}

// Writes `count` records; every 1000th is flaky.
async function generate(file, count) {
  const out = fs.createWriteStream(file);
  for (let id = 0; id < count; id++) {
    const words = Array.from({ length: 8 + (id % 17) }, (_, k) => `w${(id * 31 + k * 7) % 1000}`);
    const line = `${JSON.stringify({ id, text: words.join(' '), flaky: id % 1000 === 999 })}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

// One record, on an executor: [record, attempt] -> result.
function processRecord([record, attempt]) {
  if (record.flaky && attempt === 0) throw new Error(`transient failure on record ${record.id}`);
  const { createHash } = process.getBuiltinModule('node:crypto');
  let digest = createHash('sha256').update(record.text).digest();
  for (let i = 0; i < 50; i++) digest = createHash('sha256').update(digest).digest();
  const words = record.text.split(' ');
  return { id: record.id, words: words.length, longest: Math.max(...words.map((w) => w.length)), digest: digest.toString('hex', 0, 8) };
}

async function processWindow(pool, records, opts, stats) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await pool.map(processRecord, records.map((r) => [r, attempt]),
                            { chunkSize: opts.chunk, concurrency: opts.concurrency });
    } catch (err) {
      if (attempt + 1 >= opts.attempts) throw err;
      stats.retries++;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

async function run(input, output, opts) {
  const pool = new Tasklets({ workers: 'auto', timeout: 30000 });
  const stats = { records: 0, windows: 0, retries: 0, words: 0 };
  const started = performance.now();
  const out = fs.createWriteStream(output);
  try {
    const lines = readline.createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity });
    let window = [];
    const flush = async () => {
      const results = await processWindow(pool, window, opts, stats);
      for (const r of results) {
        stats.words += r.words;
        if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
      }
      stats.records += window.length;
      stats.windows++;
      window = [];
    };
    for await (const line of lines) {
      if (line.length === 0) continue;
      window.push(JSON.parse(line));
      if (window.length === opts.window) await flush();
    }
    if (window.length > 0) await flush();
  } finally {
    out.end();
    await once(out, 'close');
    await pool.shutdown();
  }
  return { ...stats, ms: Math.round(performance.now() - started) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.generate) {
    if (opts.files.length !== 1) throw new RangeError('--generate N needs one output file');
    await generate(opts.files[0], opts.generate);
    console.log(JSON.stringify({ generated: opts.generate, file: opts.files[0] }));
    return;
  }
  if (opts.files.length !== 2) throw new RangeError('usage: batch.js input.ndjson output.ndjson');
  console.log(JSON.stringify(await run(opts.files[0], opts.files[1], opts)));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
