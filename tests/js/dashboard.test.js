'use strict';
// The dashboard's server side, without a browser (tests/js/dashboard-browser.test.js
// has the page): bad options, the snapshot against getStats() and a known
// mix of tasks, the event stream, dashboardHandler() mounted in a server of
// one's own, the POST-only and same-origin rules, the loopback Host check,
// and the profile endpoint's answers.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { RecentErrors } = require('../../js/metrics/recent-errors');

const { Tasklets } = tasklets;
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;

function fail(code) {
  const err = new Error(`failed with ${code}`);
  err.code = code;
  throw err;
}

// GET/POST on loopback with node:http (fetch() cannot set Host).
function request(url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// The first `count` snapshot events of an SSE stream.
function readEvents(url, count) {
  return new Promise((resolve, reject) => {
    const events = [];
    const req = http.get(url, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (/^event: snapshot$/m.test(block)) events.push(JSON.parse(data));
          if (events.length === count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (err) => (events.length === count ? undefined : reject(err)));
  });
}

describe('dashboard options', { skip, timeout: 30000 }, () => {
  const bad = [
    [{ port: -1 }, RangeError, /"port" option must be an integer from 0 to 65535/],
    [{ port: 70000 }, RangeError, /"port"/],
    [{ port: '80' }, TypeError, /"port"/],
    [{ port: 1.5 }, RangeError, /"port"/],
    [{ host: '' }, RangeError, /"host"/],
    [{ host: 7 }, TypeError, /"host"/],
    [{ pool: {} }, TypeError, /"pool" option must be a Tasklets pool/],
    [{ pool: [] }, RangeError, /"pool"/],
    [{ intervalMs: 0 }, RangeError, /"intervalMs" option must be an integer from 50 to 60000/],
    [{ colour: 'red' }, TypeError, /"colour" option is not supported/],
  ];
  for (const [options, Class, message] of bad) {
    test(`dashboard(${JSON.stringify(options)}) rejects with ${Class.name}`, async () => {
      await assert.rejects(tasklets.dashboard(options), (err) => {
        assert.ok(err instanceof Class, `${err.name}: ${err.message}`);
        assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('dashboard(non-object) and dashboardHandler(bad) throw typed errors', async () => {
    await assert.rejects(tasklets.dashboard('8080'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => tasklets.dashboardHandler({ basePath: 'tasklets' }), { name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => tasklets.dashboardHandler({ basePath: 3 }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => tasklets.dashboardHandler({ port: 80 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"port" option is not supported/ });
  });

  test('a port in use rejects with EADDRINUSE', async () => {
    const first = await tasklets.dashboard({ port: 0 });
    try {
      await assert.rejects(tasklets.dashboard({ port: first.port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});

describe('dashboard server', { skip, timeout: 60000 }, () => {
  test('listens on loopback; the snapshot matches getStats() after a known mix of tasks', async () => {
    const pool = new Tasklets({ workers: 2, metrics: { name: 'mix', timelineIntervalMs: 50 } });
    const d = await tasklets.dashboard({ pool, intervalMs: 50 });
    try {
      assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(d.host, '127.0.0.1');
      const tasks = [];
      for (let i = 0; i < 40; i++) tasks.push(pool.run((x) => x * 2, { args: [i] }));
      for (let i = 0; i < 6; i++) tasks.push(pool.run(fail, { args: [i < 4 ? 'E_QUOTA' : 'E_INPUT'] }));
      await Promise.allSettled(tasks);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await request(`${d.url}snapshot`);
      assert.equal(res.status, 200);
      const { pools, snapshot: s } = JSON.parse(res.body);
      const stats = pool.getStats();
      assert.deepEqual(pools, ['mix']);
      assert.equal(s.pool, 'mix');
      assert.equal(s.totals.executed, stats.executed);
      assert.equal(s.totals.failed, stats.failed);
      assert.deepEqual([s.totals.executed, s.totals.failed], [40, 6]);
      assert.deepEqual(s.errors.codes, { E_QUOTA: 4, E_INPUT: 2 });
      assert.equal(s.errors.recent.length, 6);
      for (const e of s.errors.recent) {
        assert.match(e.message, /^failed with E_(QUOTA|INPUT)$/);
        assert.ok(e.executor === 0 || e.executor === 1, `executor ${e.executor}`);
        assert.ok(tasks.some((t) => t.taskId === e.taskId));
      }
      assert.equal(s.executors.length, 2);
      assert.equal(s.executors.reduce((n, e) => n + e.executed + e.failed, 0), 46);
      for (const e of s.executors) {
        assert.ok(e.heapUsed > 0 && e.heapLimit > e.heapUsed);
        assert.ok(Array.isArray(e.pus) && Number.isInteger(e.numa) && typeof e.pinned === 'boolean');
      }
      assert.equal(s.latency.runTime.count, 46);
      assert.equal(s.latency.runTime.counts.reduce((a, b) => a + b, 0), 46);
      assert.ok(s.latency.runTime.p50 > 0 && s.latency.runTime.p99 >= s.latency.runTime.p50);
      assert.equal(s.health.status, 'degraded');
      assert.match(s.health.reason, /of the tasks settled in the last \d+ s failed/);
      assert.ok(s.timeline.t.length >= 2);
      assert.ok(s.timeline.utilization.every((row) => row.length === 2));
      assert.equal(s.topology, stats.topology);
    } finally {
      await d.close();
      await pool.shutdown();
    }
  });

  test('the event stream sends a snapshot about every intervalMs, for the pool asked for', async () => {
    const a = new Tasklets({ workers: 1, metrics: { name: 'a' } });
    const b = new Tasklets({ workers: 1, metrics: { name: 'b' } });
    const d = await tasklets.dashboard({ pool: [a, b], intervalMs: 100 });
    try {
      await b.run(() => 1);
      const t0 = Date.now();
      const events = await readEvents(`${d.url}events?pool=b`, 4);
      assert.ok(Date.now() - t0 >= 250, 'three ticks of 100 ms');
      assert.ok(events.every((e) => e.snapshot.pool === 'b' && e.pools.join() === 'a,b'));
      assert.equal(events[0].snapshot.totals.executed, 1);
      const first = await readEvents(`${d.url}events`, 1);
      assert.equal(first[0].snapshot.pool, 'a');
      const none = await readEvents(`${d.url}events?pool=zzz`, 1);
      assert.equal(none[0].snapshot, null);
    } finally {
      await d.close();
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
  });

  test('without a pool option it lists every live pool; close() ends open streams', async () => {
    const x = new Tasklets({ workers: 1, metrics: { name: 'live-x' } });
    const d = await tasklets.dashboard({});
    try {
      const { pools } = JSON.parse((await request(`${d.url}snapshot`)).body);
      assert.ok(pools.includes('live-x'), pools.join());
      const open = new Promise((resolve) => {
        http.get(`${d.url}events?pool=live-x`, (res) => {
          res.resume();
          res.on('end', resolve);
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await d.close();
      await open;
      await d.close();
    } finally {
      await x.shutdown();
    }
  });

  test('assets come from the package, uPlot included; unknown paths 404; GET routes refuse POST', async () => {
    const d = await tasklets.dashboard({ intervalMs: 1000 });
    try {
      const page = await request(d.url);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'/);
      for (const src of page.body.matchAll(/(?:src|href)="([^"]+)"/g)) {
        if (src[1].startsWith('data:')) continue;
        assert.ok(!/^[a-z]+:|^\/\//.test(src[1]), `${src[1]} is relative`);
        assert.equal((await request(new URL(src[1], d.url))).status, 200, src[1]);
      }
      const uplot = await request(`${d.url}assets/uPlot.js`);
      assert.equal(uplot.body, fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
      assert.equal((await request(`${d.url}assets/../index.js`)).status, 404);
      assert.equal((await request(`${d.url}nothing`)).status, 404);
      const post = await request(d.url, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET');
      assert.equal((await request(`${d.url}profile`)).status, 405);
      assert.equal((await request(`${d.url}events`, { method: 'HEAD' })).status, 405);
      assert.equal((await request(d.url, { method: 'HEAD' })).status, 200);
    } finally {
      await d.close();
    }
  });

  test('on loopback it answers only to loopback Host names (DNS rebinding)', async () => {
    const d = await tasklets.dashboard({ intervalMs: 1000 });
    try {
      assert.equal((await request(d.url, { headers: { host: `evil.example:${d.port}` } })).status, 421);
      assert.equal((await request(d.url, { headers: { host: `localhost:${d.port}` } })).status, 200);
    } finally {
      await d.close();
    }
  });

  test('POST /profile: cross-origin refused, bad duration 400, 501 without pool.profile, else a file', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { name: 'prof' } });
    const d = await tasklets.dashboard({ pool, intervalMs: 1000 });
    try {
      const at = `${d.url}profile?pool=prof&durationMs=100`;
      const cross = await request(at, { method: 'POST', headers: { origin: 'http://evil.example' } });
      assert.equal(cross.status, 403);
      assert.equal(JSON.parse(cross.body).error.code, 'ERR_CROSS_ORIGIN');
      const site = await request(at, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } });
      assert.equal(site.status, 403);
      const bad = await request(`${d.url}profile?pool=prof&durationMs=-5`, { method: 'POST' });
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.body).error.code, 'ERR_INVALID_ARG_VALUE');
      const missing = await request(`${d.url}profile?pool=nope`, { method: 'POST' });
      assert.equal(missing.status, 404);
      const own = { origin: `http://127.0.0.1:${d.port}`, 'sec-fetch-site': 'same-origin' };
      const res = await request(at, { method: 'POST', headers: own });
      if (typeof pool.profile !== 'function') {
        assert.equal(res.status, 501);
        assert.equal(JSON.parse(res.body).error.code, 'ERR_PROFILE_UNSUPPORTED');
      } else {
        assert.equal(res.status, 200, res.body);
        assert.match(res.headers['content-disposition'], /^attachment; filename="tasklets-profile-prof-.+\.json"$/);
        const profiles = JSON.parse(res.body);
        assert.equal(profiles.length, 1);
        assert.ok(Array.isArray(profiles[0].profile.nodes));
      }
    } finally {
      await d.close();
      await pool.shutdown();
    }
  });
});

describe('dashboardHandler', { skip, timeout: 30000 }, () => {
  test('mounted under a base path in a server of ones own, next to its routes', async () => {
    const pool = new Tasklets({ workers: 1, metrics: { name: 'mounted' } });
    const dash = tasklets.dashboardHandler({ pool, basePath: '/ops/tasklets/', intervalMs: 100 });
    const server = http.createServer((req, res) => {
      if (req.url === '/hello') return res.end('hello');
      return dash(req, res, () => {
        res.statusCode = 404;
        res.end('app 404');
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      await pool.run(() => 1);
      assert.equal((await request(`${base}/hello`)).body, 'hello');
      assert.equal((await request(`${base}/other`)).body, 'app 404');
      assert.equal((await request(`${base}/ops/tasklets/unknown`, { method: 'POST' })).body, 'app 404');
      const redirect = await request(`${base}/ops/tasklets?x=1`);
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, '/ops/tasklets/?x=1');
      const page = await request(`${base}/ops/tasklets/`);
      assert.equal(page.status, 200);
      assert.match(page.body, /<title>tasklets dashboard<\/title>/);
      assert.equal((await request(`${base}/ops/tasklets/assets/app.js`)).status, 200);
      const [event] = await readEvents(`${base}/ops/tasklets/events`, 1);
      assert.equal(event.snapshot.pool, 'mounted');
      assert.equal(event.snapshot.totals.executed, 1);
      // Not on loopback by itself: the Host check is dashboard()'s.
      assert.equal((await request(`${base}/ops/tasklets/`, { headers: { host: 'service.example' } })).status, 200);
    } finally {
      dash.close();
      server.close();
      await pool.shutdown();
    }
  });

  test('at the root of an app, paths that are not the dashboards go to next', async () => {
    const dash = tasklets.dashboardHandler();
    const server = http.createServer((req, res) => dash(req, res, () => res.end(`app ${req.method} ${req.url}`)));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      assert.equal((await request(`${base}/api/users`, { method: 'POST' })).body, 'app POST /api/users');
      assert.equal((await request(`${base}/assets/nothing.js`)).body, 'app GET /assets/nothing.js');
      assert.match((await request(`${base}/`)).body, /<title>tasklets dashboard<\/title>/);
      assert.equal((await request(`${base}/snapshot`, { method: 'DELETE' })).status, 405);
    } finally {
      dash.close();
      server.close();
    }
  });

  test('without next, a path outside the base path is a 404', async () => {
    const dash = tasklets.dashboardHandler({ basePath: '/d' });
    const server = http.createServer(dash);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal((await request(`http://127.0.0.1:${server.address().port}/x`)).status, 404);
      assert.equal((await request(`http://127.0.0.1:${server.address().port}/d/`)).status, 200);
    } finally {
      dash.close();
      server.close();
    }
  });
});

describe('the event stream', { skip, timeout: 30000 }, () => {
  test('ticks only while a client is connected: one that goes away is dropped', async () => {
    const { Stream } = require('../../js/dashboard/stream');
    const pool = new Tasklets({ workers: 1, metrics: { name: 'ticks' } });
    const stream = new Stream([pool], 50);
    const server = http.createServer((req, res) => stream.add(res, null));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      assert.equal(stream.timer, null);
      const [event] = await readEvents(`http://127.0.0.1:${server.address().port}/`, 1);
      assert.equal(event.snapshot.pool, 'ticks');
      for (let i = 0; i < 50 && stream.clients.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(stream.clients.size, 0);
      assert.equal(stream.timer, null, 'no client, no timer');
    } finally {
      stream.close();
      server.close();
      await pool.shutdown();
    }
  });
});

describe('RecentErrors', () => {
  test('keeps the last 20, oldest first, with short messages and the executor', () => {
    const r = new RecentErrors();
    for (let i = 1; i <= 25; i++) r.record(i, Object.assign(new Error('x'.repeat(i === 25 ? 2000 : 3)), { workerThread: 1 }), 'E', -1);
    r.record(26, null, 'ERR_DEPENDENCY_FAILED', -1);
    r.record(27, new Error('ran'), 'Error', 0);
    const list = r.list();
    assert.equal(list.length, 20);
    assert.deepEqual(list.map((e) => e.taskId), Array.from({ length: 20 }, (_, i) => i + 8));
    assert.equal(list.find((e) => e.taskId === 25).message.length, 500);
    assert.deepEqual(list.find((e) => e.taskId === 26), { ...list.find((e) => e.taskId === 26), message: '', executor: null });
    assert.equal(list.find((e) => e.taskId === 27).executor, 0);
    assert.equal(list[0].executor, 1);
  });
});
