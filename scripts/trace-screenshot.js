#!/usr/bin/env node
'use strict';
// Makes docs/images/trace.png: a trace recorded by `tasklets trace` from a
// small image-pipeline script, opened in the Performance panel of the
// DevTools that Chromium ships (devtools://devtools/bundled/...), rendered
// headless and driven by playwright-core.
//
//   node scripts/trace-screenshot.js [--out docs/images/trace.png] [--keep trace.json]
//
// Why DevTools: Perfetto's UI is a web app fetched from its site (not
// reachable offline), and Debian's Chromium no longer serves
// chrome://tracing; the DevTools frontend is inside the browser, opens
// Trace Event JSON as it is, and is what most users will load a trace in.
// The clicks are at the coordinates of Chromium 156's layout (close the
// shortcuts dialog, hide the sidebar, expand the process and its tracks,
// select a slice).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');

const root = path.join(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DEMO = `'use strict';
const { Tasklets } = require(${JSON.stringify(path.join(root, 'js', 'index.js'))});
function resizeImage(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}
function parseRecord(n) {
  let s = 0;
  for (let i = 0; i < n * 2000; i++) s += i % 7;
  return s;
}
async function fetchAndHash(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return resizeImage(1);
}
(async () => {
  const pool = new Tasklets({ workers: 4, metrics: { name: 'images' } });
  await Promise.all([1, 2, 3, 4].map(() => pool.run(() => 1)));
  const all = [];
  for (let i = 0; i < 40; i++) {
    all.push(pool.run(resizeImage, { args: [2 + (i % 5)] }), pool.run(parseRecord, { args: [50 + i * 20] }));
    if (i % 8 === 0) all.push(pool.run(fetchAndHash, { args: [6] }));
    if (i % 10 === 3) all.push(pool.run((x) => { throw new Error('bad ' + x); }, { args: [i] }));
  }
  all.push(pool.run(function neverEnds() { for (;;); }, { timeout: 15 }));
  await Promise.allSettled(all);
  await pool.shutdown();
})();
`;

function parseArgs(argv) {
  const o = { out: path.join(root, 'docs', 'images', 'trace.png'), keep: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') o.out = path.resolve(argv[++i]);
    else if (argv[i] === '--keep') o.keep = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}; usage: node scripts/trace-screenshot.js [--out file.png] [--keep trace.json]`);
  }
  return o;
}

function recordTrace(dir) {
  const script = path.join(dir, 'pipeline.js');
  const file = path.join(dir, 'trace.json');
  fs.writeFileSync(script, DEMO);
  const cli = `require(${JSON.stringify(path.join(root, 'js', 'cli', 'trace.js'))}).main(process.argv.slice(1)).then((c) => process.exit(c))`;
  const run = spawnSync(process.execPath, ['-e', cli, '--', '-o', file, script], { stdio: 'inherit', timeout: 60000 });
  if (run.status !== 0) throw new Error(`tasklets trace exited with ${run.status}`);
  return file;
}

async function screenshot(traceFile, out) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 620 } });
    await page.goto('devtools://devtools/bundled/devtools_app.html?panel=timeline');
    await page.waitForTimeout(2000);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.mouse.click(109, 40)]);  // "Load profile..."
    await chooser.setFiles(traceFile);
    await page.waitForTimeout(4000);
    await page.mouse.click(1371, 77);   // close the keyboard shortcuts dialog
    await page.waitForTimeout(300);
    await page.mouse.click(16, 40);     // hide the sidebar
    await page.waitForTimeout(500);
    await page.mouse.click(10, 129);    // expand the process
    await page.waitForTimeout(800);
    for (const y of [209, 188, 167, 146]) {   // and its four executor tracks, the lowest first
      await page.mouse.click(20, y);
      await page.waitForTimeout(300);
    }
    await page.mouse.click(700, 163);   // select a run slice: its details below
    await page.mouse.move(700, 560);
    await page.waitForTimeout(800);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
  } finally {
    await browser.close();
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-trace-shot-'));
  try {
    const file = recordTrace(dir);
    if (o.keep !== null) fs.copyFileSync(file, o.keep);
    await screenshot(file, o.out);
    console.log(`wrote ${o.out}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
