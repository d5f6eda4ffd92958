'use strict';
// Child processes of the lab: every sample runs in a fresh process so that
// libraries cannot disturb each other (threads left behind, heap, JIT state)
// and a crash or a hang costs one sample, not the run.
const { fork } = require('node:child_process');

// A forked child whose IPC messages are awaited one at a time.
class Child {
  constructor(file, arg, { execArgv = [], env } = {}) {
    this.messages = [];
    this.waiters = [];
    this.stderr = '';
    this.exited = null;
    this.proc = fork(file, [JSON.stringify(arg)], {
      execArgv,
      env: env || process.env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      if (this.stderr.length < 8000) this.stderr += d;
    });
    this.proc.on('message', (m) => this.push({ message: m }));
    this.proc.on('error', (err) => this.push({ failure: `could not start: ${err.message}` }));
    // 'close', not 'exit': IPC messages still in flight arrive before it.
    this.proc.on('close', (code, signal) => {
      this.exited = { code, signal };
      this.push({ failure: `exited (${signal || `code ${code}`}) ${lastLines(this.stderr)}`.trim() });
    });
  }

  push(event) {
    const w = this.waiters.shift();
    if (w) w(event);
    else this.messages.push(event);
  }

  // The next message, or throws on exit / after timeoutMs.
  next(timeoutMs) {
    const queued = this.messages.shift();
    const got = queued ? Promise.resolve(queued) : new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve({ failure: `timed out after ${Math.round(timeoutMs / 1000)} s` });
      }, timeoutMs);
      const waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push(waiter);
    });
    return got.then((e) => {
      if (e.failure) {
        this.kill();
        throw new Error(e.failure);
      }
      return e.message;
    });
  }

  send(m) {
    if (this.proc.connected) this.proc.send(m);
  }

  kill() {
    if (this.exited === null) this.proc.kill('SIGKILL');
  }

  // Resolves when the process is gone (killed after graceMs).
  async ended(graceMs = 5000) {
    if (this.exited !== null) return;
    await new Promise((resolve) => {
      const timer = setTimeout(() => this.kill(), graceMs);
      this.proc.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function lastLines(text, n = 6) {
  const lines = text.trim().split('\n');
  return lines.slice(-n).join(' | ');
}

// Runs one child that sends exactly one message: { ok, data } or { ok: false, error }.
async function runOnce(file, arg, { execArgv, timeoutMs }) {
  const child = new Child(file, arg, { execArgv });
  try {
    const m = await child.next(timeoutMs);
    await child.ended();
    return m;
  } finally {
    child.kill();
  }
}

module.exports = { Child, runOnce };
