// The dashboard's text parts: totals, health, error tables and the
// executor table, drawn from one snapshot (js/dashboard/snapshot.js).
// Everything is built with textContent: error messages are the tasks' own
// text and must never become markup.

import { format } from './charts.js';

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

function emptyRow(columns, text) {
  const td = cell(text, 'empty');
  td.colSpan = columns;
  return row([td]);
}

function bar(share) {
  const outer = document.createElement('span');
  outer.className = 'bar';
  const inner = document.createElement('span');
  inner.style.width = `${Math.round(Math.max(0, Math.min(1, share || 0)) * 100)}%`;
  outer.append(inner);
  return outer;
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

export function totals(s) {
  const t = s.totals;
  setText('executed', format.count(t.executed));
  setText('failed', format.count(t.failed));
  setText('timed-out', format.count(t.timedOut));
  setText('cancelled', format.count(t.cancelled));
  setText('pending', format.count(t.pending));
  setText('queued', format.count(s.queued.high + s.queued.normal + s.queued.low));
  const tp = s.timeline.throughput;
  setText('throughput', tp.length === 0 ? '–' : `${format.count(tp[tp.length - 1])}/s`);
  setText('executors-count', `${s.workers.active} of ${s.workers.max}`);
}

export function health(s) {
  const badge = document.getElementById('health');
  badge.textContent = s.health.status;
  badge.dataset.status = s.health.status;
  setText('health-reason', s.health.reason);
}

export function errorCodes(s) {
  const entries = Object.entries(s.errors.codes).sort((a, b) => b[1] - a[1]);
  const body = document.querySelector('#error-codes tbody');
  if (entries.length === 0) body.replaceChildren(emptyRow(2, 'no errors'));
  else body.replaceChildren(...entries.map(([code, n]) => row([cell(code), cell(format.count(n))])));
}

export function recentErrors(s) {
  const body = document.querySelector('#recent-errors tbody');
  const recent = [...s.errors.recent].reverse();
  if (recent.length === 0) {
    body.replaceChildren(emptyRow(5, 'no errors'));
    return;
  }
  body.replaceChildren(...recent.map((e) => row([
    cell(new Date(e.at).toLocaleTimeString('en-GB')),
    cell(String(e.taskId)),
    cell(e.code),
    cell(e.message, 'message'),
    cell(e.executor === null ? '–' : String(e.executor)),
  ])));
}

export function executors(s) {
  setText('topology', `${s.topology}; placement ${s.placement}, scaling ${s.scaling}`);
  const body = document.querySelector('#executors tbody');
  body.replaceChildren(...s.executors.map((e) => {
    const util = cell('');
    util.append(bar(e.utilization), document.createTextNode(e.utilization === null ? '–' : `${Math.round(e.utilization * 100)}%`));
    const tr = row([
      cell(String(e.id)),
      util,
      cell(e.currentTaskId === null ? 'idle' : `#${e.currentTaskId}`),
      cell(e.currentTaskId === null ? '' : format.ms(e.currentTaskAge)),
      cell(format.count(e.executed + e.failed)),
      cell(format.count(e.failed)),
      cell(format.us(e.cpuTime)),
      cell(format.us(e.busyTime)),
      cell(e.heapUsed === null ? '–' : `${format.bytes(e.heapUsed)} / ${format.bytes(e.heapLimit)}`),
      cell(format.bytes(e.externalMemory)),
      cell(e.pus.join(',')),
      cell(String(e.numa)),
      cell(e.pinned ? 'yes' : e.bindError ? `no (${e.bindError})` : 'no'),
    ]);
    tr.className = 'executor';
    return tr;
  }));
}

export function percentiles(id, h) {
  setText(id, h.count === 0 ? 'no tasks yet' : `p50 ${format.us(h.p50)} · p99 ${format.us(h.p99)} · ${format.count(h.count)} tasks`);
}
