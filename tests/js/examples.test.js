'use strict';
// Runs every program under examples/ (but the C++ one) in a child process
// under a hard timeout, and checks what it did: the HTTP service under
// overload, the image pipeline's thumbnails, the batch job's output, the
// tuning guide's measurements, and the BullMQ cluster against a real
// redis-server started here.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const http = require('node:http');
const { spawn, spawnSync } = require('node:child_process');
const { once } = require('node:events');
const { addonPath } = require('../../js/addon');

const root = path.join(__dirname, '..', '..');
const examples = path.join(root, 'examples');
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;
const HARD_TIMEOUT_MS = 90000;

// A child `node` process; `lines` collects its stdout's JSON lines.
function start(args, env = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, args, {
    cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: HARD_TIMEOUT_MS, killSignal: 'SIGKILL',
  });
  const run = { child, lines: [], stdout: '', stderr: '' };
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    run.stdout += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const line of parts) if (line.trim()) run.lines.push(JSON.parse(line));
    child.emit('lines');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { run.stderr += chunk; });
  run.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return run;
}

async function finish(run) {
  const { code, signal } = await run.exited;
  const output = `--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
  assert.notEqual(signal, 'SIGKILL', `killed after ${HARD_TIMEOUT_MS} ms\n${output}`);
  assert.equal(code, 0, `exit code ${code}, signal ${signal}\n${output}`);
  return run.lines;
}

async function firstLine(run, pred) {
  for (;;) {
    const line = run.lines.find(pred);
    if (line !== undefined) return line;
    const [result] = await Promise.race([once(run.child, 'lines'), run.exited.then((r) => [r])]);
    if (result && result.code !== undefined) throw new Error(`exited (${result.code}) first\n${run.stderr}`);
  }
}

function request(port, method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

describe('examples', { skip, timeout: HARD_TIMEOUT_MS * 2 }, () => {
  let tmp;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-examples-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('http-service: work, 503 + Retry-After under overload, 504 on timeout, health, metrics, clean stop', async () => {
    const run = start([path.join(examples, 'http-service', 'server.js')], { PORT: '0', MAX_QUEUE: '2', TIMEOUT_MS: '800' });
    try {
      const { listening: port } = await firstLine(run, (l) => l.listening !== undefined);
      const ok = await request(port, 'POST', '/hash?rounds=3', 'hello');
      assert.equal(ok.status, 200);
      const { createHash } = require('node:crypto');
      let d = createHash('sha256').update('hello').digest();
      for (let i = 1; i < 3; i++) d = createHash('sha256').update(d).digest();
      assert.equal(ok.body.digest, d.toString('hex'));
      assert.equal((await request(port, 'GET', '/health')).status, 200);

      // Long jobs, more than maxQueue at once: the surplus is refused at once.
      const burst = await Promise.all(Array.from({ length: 10 }, () => request(port, 'POST', '/hash?rounds=5000000', 'x')));
      const statuses = burst.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 503 || s === 504 || s === 200), statuses.join(' '));
      const refused = burst.filter((r) => r.status === 503);
      assert.ok(refused.length >= 1, `no 503 in ${statuses.join(' ')}`);
      for (const r of refused) assert.equal(r.headers['retry-after'], '1');
      assert.ok(statuses.includes(504), `no 504 in ${statuses.join(' ')}`);

      const bad = await request(port, 'POST', '/hash?rounds=0', 'x');
      assert.equal(bad.status, 400);
      const metrics = await request(port, 'GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.ok(metrics.body.stats.executed >= 1);
      assert.ok(metrics.body.stats.timedOut >= 1);
      assert.equal(typeof metrics.body.stats.throughput, 'number');
      assert.ok(['healthy', 'degraded'].includes(metrics.body.health.status), metrics.body.health.status);
      assert.equal((await request(port, 'GET', '/nope')).status, 404);
    } finally {
      run.child.kill('SIGTERM');
    }
    const lines = await finish(run);
    assert.equal(lines.at(-1).stopped, 'SIGTERM');
  });

  test('image-pipeline: module tasks, transferred pixels, progress to 100 per image, right thumbnails', async () => {
    const out = path.join(tmp, 'thumbs');
    const lines = await finish(start([path.join(examples, 'image-pipeline', 'pipeline.js'), out, '--images', '4', '--size', '96x64']));
    const summary = lines.at(-1);
    assert.equal(summary.done, 4);
    for (let i = 0; i < 4; i++) {
      const reports = lines.filter((l) => l.image === i);
      assert.ok(reports.length >= 1, `no progress for image ${i}`);
      assert.deepEqual(reports.at(-1), { image: i, percent: 100, stage: 'encoded' });
    }
    // The same filters on this thread give the same bytes.
    const { syntheticImage } = require('../../examples/image-pipeline/pipeline.js');
    const filters = require('../../examples/image-pipeline/filters.js');
    const { createHash } = require('node:crypto');
    for (let i = 0; i < 4; i++) {
      const rgba = new Uint8Array(syntheticImage(i + 1, 96, 64));
      const small = filters.downscale(filters.blur(filters.grayscale(rgba, 96, 64), 96, 64), 96, 64, 4);
      const pgm = fs.readFileSync(path.join(out, `thumb-${i}.pgm`));
      assert.equal(pgm.subarray(0, 11).toString('ascii'), 'P5\n24 16\n25');
      assert.deepEqual(new Uint8Array(pgm.subarray(pgm.length - small.pixels.length)), small.pixels);
      assert.equal(summary.thumbnails[i].sha256, createHash('sha256').update(pgm).digest('hex'));
    }
  });

  test('batch-file: streams a file through map in windows, retries the transient failures, keeps order', async () => {
    const input = path.join(tmp, 'records.ndjson');
    const output = path.join(tmp, 'results.ndjson');
    const script = path.join(examples, 'batch-file', 'batch.js');
    await finish(start([script, '--generate', '6000', input]));
    const [summary] = await finish(start([script, input, output, '--window', '2000', '--chunk', '100', '--concurrency', '3']));
    assert.equal(summary.records, 6000);
    assert.equal(summary.windows, 3);
    assert.equal(summary.retries, 3, 'each window holds flaky records: one retry each');
    const results = fs.readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(results.map((r) => r.id), Array.from({ length: 6000 }, (_, i) => i));
    const records = fs.readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(summary.words, records.reduce((n, r) => n + r.text.split(' ').length, 0));
    const { createHash } = require('node:crypto');
    for (const i of [0, 999, 4321]) {
      let d = createHash('sha256').update(records[i].text).digest();
      for (let k = 0; k < 50; k++) d = createHash('sha256').update(d).digest();
      assert.equal(results[i].digest, d.toString('hex', 0, 8));
    }
  });

  test('tuning/measure.js: each measurement runs and its figures hold together', async () => {
    const script = path.join(examples, 'tuning', 'measure.js');
    const [t] = await finish(start([script, 'transfer', '--mb', '8', '--tasks', '3']));
    assert.equal(t.measure, 'transfer');
    assert.ok(t.transferredMs < t.copiedMs, JSON.stringify(t));
    const [p] = await finish(start([script, 'priorities', '--backlog', '100']));
    assert.ok(p.highMs < p.normalMs, JSON.stringify(p));
    const [b] = await finish(start([script, 'backpressure', '--requests', '120']));
    assert.equal(b.bounded.accepted + b.bounded.refused, 120);
    assert.ok(b.bounded.refused > 0, JSON.stringify(b));
    assert.equal(b.unbounded.refused, 0);
    assert.equal(b.unbounded.maxQueue, 'Infinity');
    const [c] = await finish(start([script, 'chunks', '--items', '2000', '--us', '5']));
    for (const key of ['inlineMs', 'runMs', 'mapMs']) assert.ok(c[key] >= 0, JSON.stringify(c));
    const usage = await start([script, 'nothing']).exited;
    assert.equal(usage.code, 2);
  });

  describe('bullmq', () => {
    const redisServer = spawnSync('redis-server', ['--version']).status === 0 ? null : 'redis-server is not installed (apt-get install redis-server)';
    let redis;
    let port;

    before(async () => {
      if (redisServer !== null) return;
      port = await freePort();
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
                    { stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      redis.stdout.setEncoding('utf8');
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 10000);
        redis.stdout.on('data', (chunk) => {
          log += chunk;
          if (log.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        redis.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${log}`)));
      });
    });

    after(async () => {
      if (redis === undefined || redis.exitCode !== null) return;
      redis.kill('SIGTERM');
      await once(redis, 'exit');
    });

    test('workers on several processes, one killed mid-run: every job completed and counted exactly once', { skip: redisServer || false }, async () => {
      const lines = await finish(start([path.join(examples, 'bullmq', 'run.js'), '--jobs', '40', '--workers', '3', '--rounds', '10000000'],
                                       { REDIS_URL: `redis://127.0.0.1:${port}` }));
      const s = lines.at(-1);
      assert.equal(s.completed, 40);
      assert.equal(s.failed, 0);
      assert.equal(s.counted, 40);
      assert.equal(s.results, 40);
      assert.deepEqual(s.wrong, []);
      assert.ok(s.heldAtKill.length >= 1);
      assert.deepEqual(s.redoneAfterKill, s.heldAtKill, 'the killed worker\'s jobs were retried elsewhere');
      assert.equal(s.byWorker['machine-0'] ?? 0, 40 - (s.byWorker['machine-1'] ?? 0) - (s.byWorker['machine-2'] ?? 0));
    });
  });
});
