'use strict';
// One frame of `tasklets top`: a dashboard message ({ pools, snapshot },
// js/dashboard/stream.js) as lines of text for a terminal of `columns` x
// `rows`, with ANSI colours (color: false for none). Pure: no I/O.

const ESC = '\x1b[';
const STYLES = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', blue: '34', cyan: '36', inverse: '7' };
const ANSI = /\x1b\[[0-9;]*m/g;

function styler(color) {
  return (style, text) => (color ? `${ESC}${STYLES[style]}m${text}${ESC}0m` : text);
}

function visible(line) {
  return line.replace(ANSI, '').length;
}

// Cuts a line to `width` visible characters, keeping its escape sequences.
function fit(line, width) {
  if (visible(line) <= width) return line;
  let out = '';
  let shown = 0;
  for (let i = 0; i < line.length && shown < width;) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(line);
    if (m !== null && m.index === i) {
      out += m[0];
      i += m[0].length;
    } else {
      out += line[i++];
      shown++;
    }
  }
  return line.includes(ESC) ? `${out}${ESC}0m` : out;
}

const count = (n) => Math.round(n).toLocaleString('en-US');

function us(x) {
  if (!(x > 0)) return '0';
  if (x < 1000) return `${x.toFixed(0)} us`;
  if (x < 1e6) return `${(x / 1000).toFixed(1)} ms`;
  return `${(x / 1e6).toFixed(2)} s`;
}

function mib(bytes) {
  return bytes === null ? '-' : `${(bytes / 1048576).toFixed(1)}M`;
}

function bar(share, width, paint) {
  if (share === null) return paint('dim', '·'.repeat(width));
  const full = Math.round(Math.max(0, Math.min(1, share)) * width);
  const style = share > 0.9 ? 'red' : share > 0.6 ? 'yellow' : 'green';
  return paint(style, '█'.repeat(full)) + paint('dim', '░'.repeat(width - full));
}

const HEALTH_STYLE = { healthy: 'green', degraded: 'yellow', unhealthy: 'red', shutdown: 'dim' };
const pad = (text, n) => String(text).padEnd(n);
const padL = (text, n) => String(text).padStart(n);

function header(message, source, paint) {
  const s = message.snapshot;
  const pools = message.pools.map((p) => (s !== null && p === s.pool ? paint('bold', p) : p)).join(' ');
  return [
    `${paint('bold', 'tasklets top')}  ${source}  pools: ${pools}  ${paint('dim', '(n: next pool, q: quit)')}`,
  ];
}

function summary(s, paint) {
  const q = s.queued;
  const tp = s.timeline.throughput;
  const h = s.latency;
  return [
    `health ${paint(HEALTH_STYLE[s.health.status] || 'bold', s.health.status)}: ${s.health.reason}`,
    `executed ${paint('bold', count(s.totals.executed))}  failed ${paint(s.totals.failed > 0 ? 'red' : 'bold', count(s.totals.failed))}  ` +
      `timed out ${count(s.totals.timedOut)}  cancelled ${count(s.totals.cancelled)}  pending ${count(s.totals.pending)}  ` +
      `throughput ${tp.length === 0 ? '-' : `${count(tp[tp.length - 1])}/s`}`,
    `queue high ${count(q.high)}  normal ${count(q.normal)}  low ${count(q.low)}  ` +
      `running ${count(s.timeline.running.length === 0 ? 0 : s.timeline.running[s.timeline.running.length - 1])}  ` +
      `executors ${s.workers.active} of ${s.workers.max}`,
    `latency  queue wait p50 ${us(h.queueWait.p50)} p99 ${us(h.queueWait.p99)}  |  run time p50 ${us(h.runTime.p50)} p99 ${us(h.runTime.p99)}`,
    paint('dim', s.topology),
  ];
}

function executorTable(s, paint) {
  const lines = [paint('inverse', `${pad('EXEC', 5)}${pad('UTILIZATION', 27)}${pad('TASK', 10)}${padL('AGE', 9)}${padL('RAN', 9)}` +
    `${padL('FAILED', 8)}${padL('CPU', 10)}${padL('HEAP', 9)}  ${pad('PUS', 8)}${pad('NUMA', 5)}PIN`)];
  for (const e of s.executors) {
    const pct = e.utilization === null ? '   -' : padL(`${Math.round(e.utilization * 100)}%`, 4);
    lines.push(`${pad(e.id, 5)}${bar(e.utilization, 20, paint)} ${pct}  ` +
      `${pad(e.currentTaskId === null ? 'idle' : `#${e.currentTaskId}`, 10)}` +
      `${padL(e.currentTaskId === null ? '' : us(e.currentTaskAge * 1000), 9)}${padL(count(e.executed + e.failed), 9)}` +
      `${padL(count(e.failed), 8)}${padL(us(e.cpuTime), 10)}${padL(mib(e.heapUsed), 9)}  ${pad(e.pus.join(','), 8)}` +
      `${pad(e.numa, 5)}${e.pinned ? 'yes' : 'no'}`);
  }
  return lines;
}

function errorLines(s, paint, room) {
  const codes = Object.entries(s.errors.codes).sort((a, b) => b[1] - a[1]);
  const lines = [`errors by code: ${codes.length === 0 ? paint('dim', 'none') : codes.map(([c, n]) => `${paint('red', c)} ${count(n)}`).join('  ')}`];
  const recent = [...s.errors.recent].reverse().slice(0, Math.max(0, room - 2));
  if (recent.length > 0) lines.push(paint('inverse', `${pad('TIME', 10)}${pad('TASK', 10)}${pad('CODE', 22)}${pad('EXEC', 6)}MESSAGE`));
  for (const e of recent) {
    const time = new Date(e.at).toTimeString().slice(0, 8);
    lines.push(`${pad(time, 10)}${pad(`#${e.taskId}`, 10)}${pad(e.code, 22)}${pad(e.executor === null ? '-' : e.executor, 6)}${e.message.replace(/\s+/g, ' ')}`);
  }
  return lines;
}

// -> the frame's lines (at most `rows`, each at most `columns` wide).
function render(message, { source, columns = 100, rows = 40, color = true, status = '' } = {}) {
  const paint = styler(color);
  let lines = header(message, source, paint);
  const s = message.snapshot;
  if (s === null) {
    lines.push('', message.error ? paint('red', `error: ${message.error}`) : 'no pool is running');
  } else {
    lines = lines.concat(summary(s, paint), [''], executorTable(s, paint), ['']);
    lines = lines.concat(errorLines(s, paint, rows - lines.length - 1));
  }
  if (status) lines.push(paint('yellow', status));
  return lines.slice(0, rows).map((l) => fit(l, columns));
}

module.exports = { render, fit, visible };
