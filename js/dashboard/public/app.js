// The dashboard page: follows the server's event stream (about one
// snapshot a second) for the pool chosen in the selector, and draws it.

import { lineChart, histogramChart, heatMap } from './charts.js';
import * as panels from './panels.js';

const $ = (id) => document.getElementById(id);
const select = $('pool');
const connection = $('connection');

const charts = {
  queue: lineChart($('chart-queue'), [
    { label: 'high', stroke: '#c62828' }, { label: 'normal', stroke: '#3366cc' }, { label: 'low', stroke: '#8a8f98' }]),
  running: lineChart($('chart-running'), [{ label: 'running', stroke: '#6a3fb5', fill: 'rgba(106,63,181,0.12)' }]),
  throughput: lineChart($('chart-throughput'), [{ label: 'tasks/s', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.12)' }]),
  failures: lineChart($('chart-failures'), [{ label: 'failures', stroke: '#c62828', fill: 'rgba(198,40,40,0.12)' }]),
  queueWait: histogramChart($('hist-queue-wait')),
  runTime: histogramChart($('hist-run-time')),
};
const heat = heatMap($('heatmap-canvas'), $('heatmap-labels'));

let current = null;      // the pool key watched (null: the server's first)
let source = null;
let last = null;         // the last snapshot drawn

function pools(names) {
  const shown = [...select.options].map((o) => o.value);
  if (shown.join('\n') !== names.join('\n')) {
    select.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  if (last !== null) select.value = last.pool;
}

function draw(s) {
  const t = s.timeline;
  charts.queue.update(t.t, [t.queued.high, t.queued.normal, t.queued.low]);
  charts.running.update(t.t, [t.running]);
  charts.throughput.update(t.t, [t.throughput]);
  charts.failures.update(t.t, [t.failures]);
  charts.queueWait.update(s.latency.queueWait);
  charts.runTime.update(s.latency.runTime);
  heat.update(t.utilization, s.executors.length);
  panels.totals(s);
  panels.health(s);
  panels.errorCodes(s);
  panels.recentErrors(s);
  panels.executors(s);
  panels.percentiles('queue-wait-p', s.latency.queueWait);
  panels.percentiles('run-time-p', s.latency.runTime);
  document.body.dataset.updatedAt = String(s.at);
}

function connect() {
  if (source !== null) source.close();
  source = new EventSource(current === null ? 'events' : `events?pool=${encodeURIComponent(current)}`);
  source.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.classList.remove('down');
  });
  source.addEventListener('error', () => {
    connection.textContent = 'disconnected: retrying';
    connection.classList.add('down');
  });
  source.addEventListener('snapshot', (event) => {
    const message = JSON.parse(event.data);
    if (message.snapshot === null) {
      connection.textContent = message.error ? `error: ${message.error}` : 'no pool is running';
      pools(message.pools);
      return;
    }
    last = message.snapshot;
    pools(message.pools);
    draw(last);
  });
}

select.addEventListener('change', () => {
  current = select.value;
  connect();
});

window.addEventListener('resize', () => {
  for (const c of Object.values(charts)) c.resize();
  if (last !== null) draw(last);
});

$('profile').addEventListener('click', async () => {
  const button = $('profile');
  const ms = Number($('profile-ms').value) || 2000;
  const key = last === null ? '' : last.pool;
  button.disabled = true;
  button.textContent = `Profiling ${ms} ms…`;
  try {
    const res = await fetch(`profile?pool=${encodeURIComponent(key)}&durationMs=${ms}`, { method: 'POST' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({ error: { message: res.statusText } }));
      throw new Error(body.error.message);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await res.blob());
    link.download = name ? name[1] : 'tasklets-profile.json';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    button.textContent = 'Profile';
  } catch (err) {
    button.textContent = 'Profile';
    connection.textContent = `profile failed: ${err.message}`;
    connection.classList.add('down');
  } finally {
    button.disabled = false;
  }
});

connect();
