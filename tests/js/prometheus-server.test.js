'use strict';
// A real Prometheus server (Debian's `prometheus` package) scrapes
// tasklets.metricsHandler() on loopback and answers queries about the
// series through its HTTP API. The server runs on a free port with a
// temporary configuration and data directory, and is stopped at the end.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');

const PROMETHEUS = '/usr/bin/prometheus';
const skip = (fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`) ||
  (fs.existsSync(PROMETHEUS) ? false : `${PROMETHEUS} is not installed (apt-get install prometheus)`);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function query(port, promql) {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

async function until(what, fn, timeoutMs, log) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; prometheus said:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a real Prometheus server', { skip, timeout: 90000 }, () => {
  test('scrapes the handler and answers queries about the series', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-prometheus-'));
    const pool = new tasklets.Tasklets({ workers: 2, metrics: { name: 'scraped' } });
    const server = http.createServer(tasklets.metricsHandler());
    let prometheus = null;
    let output = '';
    try {
      await Promise.all([
        ...Array.from({ length: 40 }, (_, i) => pool.run((x) => x, { args: [i] })),
        pool.run(() => {
          const err = new Error('no');
          err.code = 'E_SCRAPED';
          throw err;
        }).catch(() => {}),
      ]);
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const target = `127.0.0.1:${server.address().port}`;
      const port = await freePort();
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
        'global:',
        '  scrape_interval: 200ms',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: tasklets',
        '    scrape_timeout: 150ms',
        `    static_configs: [{ targets: ['${target}'] }]`,
        '',
      ].join('\n'));
      prometheus = spawn(PROMETHEUS, [
        `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      prometheus.stdout.on('data', (d) => { output += d; });
      prometheus.stderr.on('data', (d) => { output += d; });
      const log = () => output.slice(-4000);
      await until('Prometheus to be ready', async () => (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok, 30000, log);
      const up = await until('a successful scrape',
        async () => (await query(port, 'up{job="tasklets"} == 1')).length === 1, 30000, log);
      assert.ok(up);
      const settled = await until('the settlement series', async () => {
        const r = await query(port, 'tasklets_task_settlements_total{pool="scraped",outcome="succeeded"}');
        return r.length === 1 ? r : null;
      }, 30000, log);
      assert.equal(settled[0].value[1], '40');
      const errorsByCode = await query(port, 'sum by (code) (tasklets_task_errors_total{pool="scraped"})');
      assert.deepEqual(errorsByCode.map((r) => [r.metric.code, r.value[1]]), [['E_SCRAPED', '1']]);
      const count = await query(port, 'tasklets_round_trip_seconds_count{pool="scraped"}');
      assert.equal(count[0].value[1], '41');
      const p99 = await query(port, 'histogram_quantile(0.99, sum by (le) (tasklets_run_time_seconds_bucket{pool="scraped"}))');
      assert.equal(p99.length, 1);
      assert.ok(Number(p99[0].value[1]) > 0 && Number(p99[0].value[1]) <= 60, `p99 ${p99[0].value[1]}`);
    } finally {
      if (prometheus !== null) {
        const exited = new Promise((resolve) => prometheus.once('exit', resolve));
        prometheus.kill('SIGTERM');
        const timer = setTimeout(() => prometheus.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
      server.close();
      await pool.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
