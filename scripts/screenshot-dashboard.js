#!/usr/bin/env node
'use strict';
// Takes docs/images/dashboard.png: the dashboard of a pool under a mixed
// load (short and long tasks, failures with two codes, a few timeouts),
// rendered by headless Chromium (Debian's `chromium`, driven by
// playwright-core).
//
//   node scripts/screenshot-dashboard.js [--out FILE] [--seconds N]

const path = require('node:path');
const { chromium } = require('playwright-core');
const tasklets = require('../js/index');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function parseArgs(argv) {
  const o = { out: path.join(__dirname, '..', 'docs', 'images', 'dashboard.png'), seconds: 40 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') o.out = path.resolve(argv[++i]);
    else if (argv[i] === '--seconds') o.seconds = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; usage: node scripts/screenshot-dashboard.js [--out FILE] [--seconds N]`);
  }
  if (!(o.seconds >= 3)) throw new Error('--seconds needs a number of at least 3');
  return o;
}

function spin(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

function fail(code) {
  const err = new Error(code === 'E_QUOTA' ? 'monthly quota of the image service used up' : 'input image is not a PNG');
  err.code = code;
  throw err;
}

// Waves of work: the queue fills and drains, some tasks fail or time out.
async function load(pool, until) {
  let wave = 0;
  while (Date.now() < until) {
    const size = 60 + 50 * Math.sin(wave++ / 3);
    const batch = [];
    for (let i = 0; i < size; i++) {
      const priority = i % 10 === 0 ? 'high' : i % 4 === 0 ? 'low' : 'normal';
      batch.push(pool.run(spin, { args: [Math.random() < 0.1 ? 25 : Math.random() * 4], priority }));
    }
    for (let i = 0; i < wave % 4; i++) batch.push(pool.run(fail, { args: [i % 2 ? 'E_QUOTA' : 'E_INPUT'] }));
    if (wave % 7 === 0) batch.push(pool.run(spin, { args: [200], timeout: 50 }));
    await Promise.allSettled(batch);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const images = new tasklets.Tasklets({ workers: 2, metrics: { name: 'images' } });
  const reports = new tasklets.Tasklets({ workers: 1, metrics: { name: 'reports' } });
  const d = await tasklets.dashboard({ pool: [images, reports] });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const running = load(images, Date.now() + o.seconds * 1000);
    reports.run(spin, { args: [5] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1250 }, deviceScaleFactor: 1 });
    await page.goto(d.url);
    await page.waitForTimeout((o.seconds - 1) * 1000);
    await page.screenshot({ path: o.out, fullPage: true });
    await running;
    console.log(`wrote ${o.out}`);
  } finally {
    await browser.close();
    await d.close();
    await Promise.all([images.shutdown(), reports.shutdown()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
