'use strict';
// Plain SVG charts, written by hand so that the report needs no plotting
// package: horizontal bars (one or several series, with the min-max range of
// the repetitions as a whisker) and lines (for curves over task size or task
// count). Colours are fixed per library so every chart reads the same.

const COLORS = {
  tasklets: '#d62728',
  piscina: '#1f77b4',
  tinypool: '#2ca02c',
  poolifier: '#9467bd',
  workerpool: '#ff7f0e',
  worker_threads: '#7f7f7f',
  inline: '#17becf',
};
const SERIES_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

function esc(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colorOf(label, i) {
  const lib = Object.keys(COLORS).find((k) => label.startsWith(k));
  return lib ? COLORS[lib] : SERIES_COLORS[i % SERIES_COLORS.length];
}

// Round numbers for axis ticks: about `count` of them from 0 to at least max.
function niceTicks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(v);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function fmtTick(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  if (a < 0.01) return v.toExponential(0);
  return `${+v.toFixed(2)}`;
}

function frame(width, height, title, body) {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

// rows: [{ label, values: [number|null], ranges?: [[min,max]|null] }], series: names
// (one per value). A null value draws no bar. `unit` names the axis.
function barChart({ title, unit, rows, series = [''], refLine = null }) {
  const labelW = 250;
  const plotW = 440;
  const barH = 14;
  const groupGap = 8;
  const legendH = series.length > 1 ? 20 : 0;
  const top = 34 + legendH;
  const groupH = series.length * barH + groupGap;
  const height = top + rows.length * groupH + 40;
  const width = labelW + plotW + 90;
  const all = rows.flatMap((r) => [...r.values, ...(r.ranges || []).flat()]).filter((v) => Number.isFinite(v));
  const ticks = niceTicks(Math.max(...all, refLine || 0, 0));
  const max = ticks[ticks.length - 1];
  const x = (v) => labelW + (v / max) * plotW;
  const body = [];
  series.forEach((name, i) => {
    if (series.length < 2) return;
    const lx = labelW + i * 140;
    body.push(`<rect x="${lx}" y="30" width="12" height="12" fill="${SERIES_COLORS[i]}"/>`);
    body.push(`<text x="${lx + 16}" y="40">${esc(name)}</text>`);
  });
  for (const t of ticks) {
    body.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${top + rows.length * groupH}" stroke="#e0e0e0"/>`);
    body.push(`<text x="${x(t)}" y="${top + rows.length * groupH + 14}" text-anchor="middle" fill="#555">${fmtTick(t)}</text>`);
  }
  if (refLine !== null) {
    body.push(`<line x1="${x(refLine)}" y1="${top - 4}" x2="${x(refLine)}" y2="${top + rows.length * groupH}" stroke="#333" stroke-dasharray="4 3"/>`);
  }
  rows.forEach((row, r) => {
    const y0 = top + r * groupH;
    const bold = row.label.startsWith('tasklets') ? ' font-weight="bold"' : '';
    body.push(`<text x="${labelW - 8}" y="${y0 + (series.length * barH) / 2 + 4}" text-anchor="end"${bold}>${esc(row.label)}</text>`);
    row.values.forEach((v, s) => {
      const y = y0 + s * barH;
      if (!Number.isFinite(v)) {
        if (s > 0) return;
        body.push(`<text x="${labelW + 4}" y="${y + barH - 3}" fill="#999">${esc(row.missing || 'no figure')}</text>`);
        return;
      }
      const fill = series.length > 1 ? SERIES_COLORS[s] : colorOf(row.label, r);
      body.push(`<rect x="${labelW}" y="${y + 1}" width="${Math.max(0.5, x(v) - labelW)}" height="${barH - 2}" fill="${fill}"/>`);
      const range = row.ranges && row.ranges[s];
      if (range && Number.isFinite(range[0])) {
        const ym = y + barH / 2;
        body.push(`<line x1="${x(range[0])}" y1="${ym}" x2="${x(range[1])}" y2="${ym}" stroke="#000" stroke-width="1"/>`);
      }
      body.push(`<text x="${Math.max(x(v), range ? x(range[1]) : 0) + 4}" y="${y + barH - 3}" fill="#333">${fmtTick(v)}</text>`);
    });
  });
  body.push(`<text x="${labelW + plotW / 2}" y="${height - 8}" text-anchor="middle" fill="#333">${esc(unit)}</text>`);
  return frame(width, height, title, body);
}

// series: [{ name, points: [[x, y]] }]; xLog: logarithmic x axis; refY: a
// dashed horizontal line (e.g. ratio 1).
function lineChart({ title, xLabel, yLabel, series, xLog = false, refY = null }) {
  const left = 60;
  const plotW = 460;
  const plotH = 260;
  const top = 34;
  const legendW = 240;
  const width = left + plotW + legendW;
  const height = top + plotH + 50;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const tx = (v) => (xLog ? Math.log10(v) : v);
  const xMin = tx(Math.min(...xs));
  const xMax = tx(Math.max(...xs));
  const ticks = niceTicks(Math.max(...ys, refY || 0));
  const yMax = ticks[ticks.length - 1];
  const px = (v) => left + ((tx(v) - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (v) => top + plotH - (v / yMax) * plotH;
  const body = [];
  for (const t of ticks) {
    body.push(`<line x1="${left}" y1="${py(t)}" x2="${left + plotW}" y2="${py(t)}" stroke="#e0e0e0"/>`);
    body.push(`<text x="${left - 6}" y="${py(t) + 4}" text-anchor="end" fill="#555">${fmtTick(t)}</text>`);
  }
  const xTicks = xLog ? [...new Set(xs)].sort((a, b) => a - b) : niceTicks(Math.max(...xs), 6).filter((v) => v <= Math.max(...xs));
  for (const v of xTicks) {
    body.push(`<text x="${px(v)}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${fmtTick(v)}</text>`);
  }
  if (refY !== null) {
    body.push(`<line x1="${left}" y1="${py(refY)}" x2="${left + plotW}" y2="${py(refY)}" stroke="#333" stroke-dasharray="4 3"/>`);
  }
  series.forEach((s, i) => {
    const color = colorOf(s.name, i);
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    const width = s.name.startsWith('tasklets') ? 3 : 1.6;
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) body.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.5" fill="${color}"/>`);
    const ly = top + 8 + i * 18;
    body.push(`<line x1="${left + plotW + 14}" y1="${ly}" x2="${left + plotW + 34}" y2="${ly}" stroke="${color}" stroke-width="${width}"/>`);
    body.push(`<text x="${left + plotW + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  body.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  body.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`);
  body.push(`<text x="14" y="${top + plotH / 2}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${top + plotH / 2})">${esc(yLabel)}</text>`);
  return frame(width, height, title, body);
}

module.exports = { barChart, lineChart };
