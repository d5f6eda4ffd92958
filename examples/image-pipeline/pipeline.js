'use strict';
// An image pipeline: synthetic RGBA photos (a stand-in for decoded files)
// are turned into PGM thumbnails on a tasklets pool. Shows module tasks
// (filters.js), transferred buffers (the pixels move to the executor, the
// caller's copy is detached) and progress reports from inside the task.
//
//   node examples/image-pipeline/pipeline.js [outDir] [--images N] [--size WxH]
// Prints one JSON line per progress report, then a summary line.

const fs = require('node:fs');
const path = require('node:path');
const { Tasklets } = require('tasklets');

function parseArgs(argv) {
  const opts = { outDir: path.join(require('node:os').tmpdir(), 'tasklets-thumbnails'), images: 8, width: 640, height: 480 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--images') opts.images = Number(argv[++i]);
    else if (argv[i] === '--size') [opts.width, opts.height] = argv[++i].split('x').map(Number);
    else opts.outDir = path.resolve(argv[i]);
  }
  if (!Number.isInteger(opts.images) || opts.images < 1) throw new RangeError('--images needs a positive integer');
  if (!(opts.width >= 4 && opts.height >= 4)) throw new RangeError('--size needs WxH, at least 4x4');
  return opts;
}

// A gradient with a seeded pattern: every image differs, and is the same on
// every run.
function syntheticImage(seed, width, height) {
  const buffer = new ArrayBuffer(width * height * 4);
  const px = new Uint8Array(buffer);
  let state = seed * 2654435761 >>> 0;
  for (let y = 0, p = 0; y < height; y++) {
    for (let x = 0; x < width; x++, p += 4) {
      state = (state * 1664525 + 1013904223) >>> 0;
      px[p] = (x * 255) / width;
      px[p + 1] = (y * 255) / height;
      px[p + 2] = state >>> 24;
      px[p + 3] = 255;
    }
  }
  return buffer;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.outDir, { recursive: true });
  const pool = new Tasklets({ workers: 'auto', timeout: 60000 });
  const filters = require.resolve('./filters.js');
  const started = performance.now();
  try {
    const jobs = [];
    for (let i = 0; i < opts.images; i++) {
      const pixels = syntheticImage(i + 1, opts.width, opts.height);
      const job = pool.run({ module: filters, export: 'thumbnail' }, {
        args: [pixels, opts.width, opts.height, 4],
        transfer: [pixels],
        onProgress: ({ percent, detail }) => console.log(JSON.stringify({ image: i, percent, stage: detail })),
      });
      if (pixels.byteLength !== 0) throw new Error('the pixels were copied, not moved');
      jobs.push(job.then(({ pgm, width, height, sha256 }) => {
        const file = path.join(opts.outDir, `thumb-${i}.pgm`);
        fs.writeFileSync(file, pgm);
        return { file, width, height, sha256 };
      }));
    }
    const thumbnails = await Promise.all(jobs);
    const ms = performance.now() - started;
    console.log(JSON.stringify({ done: thumbnails.length, ms: Math.round(ms), thumbnails }));
  } finally {
    await pool.shutdown();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

module.exports = { syntheticImage };
