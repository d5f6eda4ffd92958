'use strict';
// The progress display: one line rewritten in place on a terminal, one line
// per step otherwise (CI logs).

class Progress {
  constructor({ total, stream = process.stderr }) {
    this.total = total;
    this.done = 0;
    this.stream = stream;
    this.tty = Boolean(stream.isTTY);
    this.started = Date.now();
    this.lastWidth = 0;
  }

  elapsed() {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }

  // Announces the step about to run.
  step(text) {
    const width = String(this.total).length;
    const pct = this.total ? Math.floor((this.done / this.total) * 100) : 0;
    const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.');
    const line = `[${bar}] ${String(this.done).padStart(width)}/${this.total} ${this.elapsed()}  ${text}`;
    if (this.tty) {
      const cols = this.stream.columns || 100;
      const shown = line.slice(0, cols - 1);
      this.stream.write(`\r${shown.padEnd(this.lastWidth)}`);
      this.lastWidth = shown.length;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  advance() {
    this.done++;
  }

  // A message that stays (skips, failures).
  note(text) {
    if (this.tty) this.stream.write(`\r${''.padEnd(this.lastWidth)}\r`);
    this.lastWidth = 0;
    this.stream.write(`${text}\n`);
  }

  finish() {
    if (this.tty) this.stream.write(`\r${''.padEnd(this.lastWidth)}\r`);
    this.stream.write(`done in ${this.elapsed()}\n`);
  }
}

module.exports = { Progress };
