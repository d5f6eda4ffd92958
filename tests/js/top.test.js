'use strict';
// `tasklets top` in a real pseudo-terminal (tmux): a dashboard of a pool
// that ran a known mix of tasks, `node bin/tasklets.js top <url>` in a
// detached tmux session, the screen read with capture-pane; keys n and q.
// Also the bin/tasklets.js dispatcher's usage and errors, and the frame
// renderer on its own.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { addonPath } = require('../../js/addon');
const tasklets = require('../../js/index');
const { render, fit, visible } = require('../../js/cli/top-render');
const { EventParser } = require('../../js/cli/sse');

const root = path.join(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'tasklets.js');
const TMUX = '/usr/bin/tmux';
const built = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;
const skipTmux = built || (fs.existsSync(TMUX) || process.env.CI ? false : `${TMUX} is not installed (apt-get install tmux; required in CI)`);

function cli(args, options = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20000, ...options });
}

function fail(code) {
  const err = new Error(`failed with ${code}`);
  err.code = code;
  throw err;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tasklets top in tmux', { skip: skipTmux, timeout: 60000 }, () => {
  test('shows the executors, counts and errors, switches pools with n and quits on q', async () => {
    const pool = new tasklets.Tasklets({ workers: 2, metrics: { name: 'jobs' } });
    const other = new tasklets.Tasklets({ workers: 1, metrics: { name: 'mail' } });
    const d = await tasklets.dashboard({ pool: [pool, other], intervalMs: 200 });
    const session = 'top';
    // A tmux server of the test's own (-S), whatever servers the user runs.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-top-'));
    const socket = path.join(dir, 'tmux.sock');
    const tmux = (...args) => execFileSync(TMUX, ['-S', socket, ...args], { encoding: 'utf8', timeout: 10000 });
    const alive = () => spawnSync(TMUX, ['-S', socket, 'has-session', '-t', session]).status === 0;
    const screen = () => tmux('capture-pane', '-p', '-t', session);
    const waitFor = async (check, what) => {
      let text = '';
      for (let i = 0; i < 100; i++) {
        text = screen();
        if (check(text)) return text;
        await sleep(100);
      }
      assert.fail(`${what} did not appear; the screen:\n${text}`);
    };
    try {
      await Promise.allSettled([
        ...Array.from({ length: 17 }, (_, i) => pool.run((x) => x, { args: [i] })),
        ...Array.from({ length: 3 }, () => pool.run(fail, { args: ['E_TOP'] })),
      ]);
      tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '45', process.execPath, bin, 'top', d.url);
      const text = await waitFor((t) => /executed 17 +failed 3/.test(t), 'the counts');
      const rows = text.split('\n').filter((l) => /^[01] +[█░·]+ +(\d+%|-)/.test(l));
      assert.equal(rows.length, 2, `two executor rows in:\n${text}`);
      assert.match(text, /pools: jobs mail/);
      assert.match(text, /errors by code: E_TOP 3/);
      assert.equal((text.match(/failed with E_TOP/g) || []).length, 3);
      assert.match(text, /health degraded: 15% of the tasks settled/);
      // The next pool.
      await other.run(() => 1);
      tmux('send-keys', '-t', session, 'n');
      await waitFor((t) => /executed 1 +failed 0/.test(t) && t.split('\n').filter((l) => /^0 +[█░·]/.test(l)).length === 1, 'the mail pool');
      // New tasks show up live.
      await Promise.all(Array.from({ length: 5 }, () => other.run(() => 1)));
      await waitFor((t) => /executed 6 +failed 0/.test(t), 'the live update');
      tmux('send-keys', '-t', session, 'q');
      for (let i = 0; i < 50 && alive(); i++) await sleep(100);
      assert.ok(!alive(), 'q ended tasklets top');
    } finally {
      spawnSync(TMUX, ['-S', socket, 'kill-session', '-t', session]);
      spawnSync(TMUX, ['-S', socket, 'kill-server']);
      fs.rmSync(dir, { recursive: true, force: true });
      await d.close();
      await Promise.all([pool.shutdown(), other.shutdown()]);
    }
  });
});

describe('bin/tasklets.js', { timeout: 60000 }, () => {
  test('no command or an unknown one: usage and exit code 2', () => {
    for (const args of [[], ['bogus']]) {
      const r = cli(args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^tasklets: (no command given|unknown command 'bogus')\n\nusage: tasklets <command>/);
      assert.match(r.stderr, /top <url>/);
      assert.match(r.stderr, /trace <script\.js> -o trace\.json/);
    }
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: tasklets <command>/);
  });

  test('trace: dispatched to js/cli/trace.js, or a clear error where it is missing', () => {
    const r = cli(['trace', '--help']);
    if (fs.existsSync(path.join(root, 'js', 'cli', 'trace.js'))) {
      assert.doesNotMatch(r.stderr, /is not part of this installation/);
    } else {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /the 'trace' command is not part of this installation \(.*js\/cli\/trace\.js is missing\)/);
    }
  });

  test('top: an unreachable URL, a bad URL, a server that is no dashboard', { skip: built }, async () => {
    const down = cli(['top', 'http://127.0.0.1:1/']);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /^tasklets top: cannot reach http:\/\/127\.0\.0\.1:1\/events: connect ECONNREFUSED/);
    const bad = cli(['top', 'not a url']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^tasklets top: not a url is not a URL/);
    assert.equal(cli(['top']).status, 2);
    assert.equal(cli(['top', 'http://x/', '--colour']).status, 2);
    const http = require('node:http');
    const server = http.createServer((req, res) => res.end('hello')).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const r = await new Promise((resolve) => {
        const { spawn } = require('node:child_process');
        const child = spawn(process.execPath, [bin, 'top', `http://127.0.0.1:${server.address().port}/`], { encoding: 'utf8' });
        let stderr = '';
        child.stderr.on('data', (c) => { stderr += c; });
        child.on('exit', (status) => resolve({ status, stderr }));
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /answered 200 \(no content type\): not a tasklets dashboard event stream/);
    } finally {
      server.close();
    }
  });

  test('top --once prints one frame without a terminal', { skip: built }, async () => {
    const pool = new tasklets.Tasklets({ workers: 1, metrics: { name: 'once' } });
    const d = await tasklets.dashboard({ pool });
    try {
      await pool.run(() => 1);
      const { spawn } = require('node:child_process');
      const r = await new Promise((resolve) => {
        const child = spawn(process.execPath, [bin, 'top', d.url, '--once']);
        let stdout = '';
        child.stdout.on('data', (c) => { stdout += c; });
        child.on('exit', (status) => resolve({ status, stdout }));
      });
      assert.equal(r.status, 0);
      assert.match(r.stdout, /executed 1 +failed 0/);
      assert.doesNotMatch(r.stdout, /\x1b\[/, 'no escape sequences in a pipe');
    } finally {
      await d.close();
      await pool.shutdown();
    }
  });
});

describe('top and a dashboard that goes away', { skip: built, timeout: 30000 }, () => {
  test('a frame per update into a pipe; exit code 1 and why when the dashboard closes', async () => {
    const pool = new tasklets.Tasklets({ workers: 1, metrics: { name: 'leaving' } });
    const d = await tasklets.dashboard({ pool, intervalMs: 100 });
    try {
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [bin, 'top', d.url]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => { stdout += c; });
      child.stderr.on('data', (c) => { stderr += c; });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 100 && (stdout.match(/^tasklets top /gm) || []).length < 3; i++) await sleep(50);
      assert.ok((stdout.match(/^tasklets top /gm) || []).length >= 3, `three frames:\n${stdout}`);
      await d.close();
      assert.equal(await exited, 1);
      assert.match(stderr, /^tasklets top: the dashboard closed the stream\n$/);
    } finally {
      await d.close();
      await pool.shutdown();
    }
  });
});

describe('top rendering', () => {
  test('fit() cuts to visible width and keeps escape sequences', () => {
    const line = `\x1b[31m${'x'.repeat(10)}\x1b[0m${'y'.repeat(10)}`;
    assert.equal(visible(line), 20);
    assert.equal(visible(fit(line, 12)), 12);
    assert.equal(fit(line, 12), `\x1b[31m${'x'.repeat(10)}\x1b[0myy\x1b[0m`);
    assert.equal(fit('short', 12), 'short');
  });

  test('a frame fits the terminal and says when there is no pool', () => {
    const lines = render({ pools: [], snapshot: null }, { source: 'http://h/', columns: 30, rows: 5, color: false });
    assert.deepEqual(lines, ['tasklets top  http://h/  pools', '', 'no pool is running']);
  });

  test('the event parser handles split chunks, comments and CRLF', () => {
    const p = new EventParser();
    assert.deepEqual(p.push('retry: 2000\r\n\r\n: note\nevent: snap'), []);
    assert.deepEqual(p.push('shot\ndata: {"a":\ndata: 1}\n\n'), [{ event: 'snapshot', data: '{"a":\n1}' }]);
  });
});
