'use strict';
// The dashboard page in a real headless Chromium (Debian's `chromium`,
// driven by playwright-core): a pool under load with a known mix of tasks,
// and the page must show getStats()'s executed/failed counts once the load
// stops, one heat map row per executor, charts that move while tasks run,
// the errors by code, a pool selector, the Profile button's answer, and no
// request to anything but the dashboard's own server.
//
// Skipped only outside CI when chromium is not installed; in CI (and in
// ./tasklets.sh test, which installs it) it runs.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`) ||
  (haveChromium || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium; required in CI)`);

function spin(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return ms;
}

function fail(code) {
  const err = new Error(`failed with ${code}`);
  err.code = code;
  throw err;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const number = (text) => Number(text.replace(/,/g, ''));

// `waves` waves of 40 successes, 3 E_QUOTA and 2 E_INPUT failures, 100 ms apart.
async function load(pool, waves) {
  const counts = { fulfilled: 0, rejected: 0 };
  const all = [];
  const settle = (p) => all.push(p.then(() => counts.fulfilled++, () => counts.rejected++));
  for (let w = 0; w < waves; w++) {
    for (let i = 0; i < 40; i++) settle(pool.run(spin, { args: [1] }));
    for (let i = 0; i < 5; i++) settle(pool.run(fail, { args: [i < 3 ? 'E_QUOTA' : 'E_INPUT'] }));
    await sleep(100);
  }
  await Promise.all(all);
  return counts;
}

test('the dashboard page in headless Chromium shows the pool as getStats() has it', { skip, timeout: 120000 }, async () => {
  const { chromium } = require('playwright-core');
  const pool = new tasklets.Tasklets({ workers: 2, metrics: { name: 'images', timelineIntervalMs: 200 } });
  const other = new tasklets.Tasklets({ workers: 1, metrics: { name: 'reports', timelineIntervalMs: 200 } });
  const d = await tasklets.dashboard({ pool: [pool, other], intervalMs: 200 });
  // Not the sanitizer runtime ./tasklets.sh test-asan preloads into node.
  const env = { ...process.env, LD_PRELOAD: '' };
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], env });
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const requests = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(m.text()));
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(d.url);
    await page.waitForFunction(() => document.body.dataset.updatedAt !== undefined, null, { timeout: 10000 });

    // The charts move as tasks run: the area under the throughput curve
    // (green pixels) grows, and heat map cells turn from idle to busy.
    const pixels = () => page.evaluate(() => {
      const count = (canvas, match) => {
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && match(data[i], data[i + 1], data[i + 2])) n++;
        return n;
      };
      return {
        green: count(document.querySelector('#chart-throughput canvas'), (r, g, b) => g > r + 6 && g > b + 3),
        // Any busy share above a few percent (idle is pale yellow, b = 204):
        // on a loaded machine the executors' share can stay low.
        busy: count(document.getElementById('heatmap-canvas'), (r, g, b) => r > 120 && b < 180),
        executed: document.getElementById('executed').textContent,
      };
    });
    const before = await pixels();
    const loaded = load(pool, 15);
    await sleep(1000);
    const during = await pixels();
    const counts = await loaded;
    assert.deepEqual(counts, { fulfilled: 600, rejected: 75 });
    assert.ok(during.green > before.green * 3 + 100, `the throughput chart rose: ${JSON.stringify([before, during])}`);
    assert.equal(before.busy, 0);
    assert.ok(during.busy > 0, 'busy cells in the heat map');
    assert.ok(number(during.executed) > number(before.executed));
    await page.waitForFunction(() => Number(document.getElementById('queued').textContent) === 0 &&
      Number(document.getElementById('pending').textContent) === 0, null, { timeout: 10000 });
    // After the load: the page's counts are getStats()'s.
    await sleep(500);
    const stats = pool.getStats();
    assert.deepEqual([stats.executed, stats.failed], [600, 75]);
    await page.waitForFunction((expected) => document.getElementById('executed').textContent === expected,
      stats.executed.toLocaleString('en-US'), { timeout: 5000 });
    assert.equal(number(await page.textContent('#failed')), stats.failed);

    // One heat map row per executor; one executor row per slot.
    assert.equal(await page.locator('#heatmap-labels .row-label').count(), stats.workers.length);
    assert.equal(await page.getAttribute('#heatmap-canvas', 'data-rows'), String(stats.workers.length));
    assert.ok(Number(await page.getAttribute('#heatmap-canvas', 'data-columns')) >= 5);
    assert.equal(await page.locator('#executors tbody tr.executor').count(), 2);
    // Errors by code, most recent errors with executor, health with its rule.
    const codes = await page.$$eval('#error-codes tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(codes, [['E_QUOTA', '45'], ['E_INPUT', '30']]);
    const recent = await page.$$eval('#recent-errors tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.equal(recent.length, 20);
    assert.ok(recent.every(([, id, code, message, executor]) => /^\d+$/.test(id) && message === `failed with ${code}` && /^[01]$/.test(executor)));
    assert.equal(await page.textContent('#health'), 'degraded');
    assert.match(await page.textContent('#health-reason'), /failed \(more than 10%\)/);
    assert.match(await page.textContent('#run-time-p'), /^p50 .+ · p99 .+ · 675 tasks$/);

    // The selector: the other pool.
    assert.deepEqual(await page.$$eval('#pool option', (o) => o.map((x) => x.value)), ['images', 'reports']);
    await other.run(() => 'report');
    await page.selectOption('#pool', 'reports');
    await page.waitForFunction(() => document.getElementById('executed').textContent === '1', null, { timeout: 5000 });
    assert.equal(await page.locator('#heatmap-labels .row-label').count(), 1);

    // Profile: a download where pool.profile() exists, its error otherwise.
    await page.fill('#profile-ms', '200');
    if (typeof other.profile === 'function') {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), page.click('#profile')]);
      assert.match(download.suggestedFilename(), /^tasklets-profile-reports-.+\.json$/);
      const profiles = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
      assert.ok(profiles.length >= 1 && Array.isArray(profiles[0].profile.nodes));
    } else {
      await page.click('#profile');
      await page.waitForFunction(() => /profile failed: .*pool\.profile\(\) is missing/.test(document.getElementById('connection').textContent),
        null, { timeout: 5000 });
    }

    // Nothing but the dashboard's own server.
    const origin = new URL(d.url).origin;
    const outside = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.endsWith('/assets/uPlot.js')));
    // (The pixel counts above read canvases back, which Chromium warns about.)
    assert.deepEqual(problems.filter((p) => !/the server responded with a status of 501|willReadFrequently/.test(p)), []);
  } finally {
    await browser.close();
    await d.close();
    await Promise.all([pool.shutdown(), other.shutdown()]);
  }
});
