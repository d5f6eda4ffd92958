// The dashboard's charts: uPlot time series, uPlot histograms with p50/p99
// marked, and the utilization heat map (a canvas: uPlot has no heat map).
/* global uPlot */

const HEIGHT = 170;

export const format = {
  count: (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US')),
  // microseconds
  us(us) {
    if (!(us > 0)) return '0';
    if (us < 1000) return `${us.toFixed(us < 10 ? 1 : 0)} µs`;
    if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)} ms`;
    return `${(us / 1e6).toFixed(2)} s`;
  },
  seconds: (s) => format.us(s * 1e6),
  bytes(b) {
    if (b === null || b === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) {
      b /= 1024;
      i++;
    }
    return `${b.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  },
  ms: (ms) => format.us(ms * 1000),
};

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString('en-GB');
}

function width(el) {
  return Math.max(240, el.clientWidth);
}

// A time series chart: series [{ label, stroke }], update(t (epoch ms), columns).
export function lineChart(el, series) {
  const opts = {
    width: width(el),
    height: HEIGHT,
    legend: { show: series.length > 1, live: false },
    cursor: { drag: { x: false, y: false } },
    scales: { y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, fill: s.fill, points: { show: false } }))],
    axes: [{ values: (u, splits) => splits.map(clock), space: 70 }, { size: 50 }],
  };
  const plot = new uPlot(opts, [[], ...series.map(() => [])], el);
  return {
    plot,
    update(t, columns) {
      plot.setData([t.map((ms) => ms / 1000), ...columns]);
    },
    resize() {
      plot.setSize({ width: width(el), height: HEIGHT });
    },
  };
}

// Where percentile `p` (seconds) falls on a histogram whose bucket i holds
// values up to le[i]: a fractional bucket index, log-interpolated.
function percentileX(le, p) {
  for (let i = 0; i < le.length; i++) {
    const hi = le[i] === null ? Infinity : le[i];
    if (p <= hi) {
      const lo = i === 0 ? hi / 2.5 : le[i - 1];
      if (hi === Infinity || lo <= 0) return i;
      return i - 0.5 + Math.max(0, Math.min(1, Math.log(p / lo) / Math.log(hi / lo)));
    }
  }
  return le.length - 1;
}

function markers(getMarks) {
  return {
    hooks: {
      draw(u) {
        const ctx = u.ctx;
        const dpr = window.devicePixelRatio || 1;
        for (const m of getMarks()) {
          const x = Math.round(u.valToPos(m.x, 'x', true));
          ctx.save();
          ctx.strokeStyle = m.color;
          ctx.fillStyle = m.color;
          ctx.lineWidth = 1.5 * dpr;
          ctx.setLineDash([4 * dpr, 3 * dpr]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.font = `${11 * dpr}px system-ui, sans-serif`;
          ctx.fillText(m.label, x + 3 * dpr, u.bbox.top + 12 * dpr);
          ctx.restore();
        }
      },
    },
  };
}

// A latency histogram (bars over the buckets that hold data) with p50 and
// p99 as dashed lines; update(h): h as js/dashboard/snapshot.js builds it.
export function histogramChart(el) {
  let h = { le: [], counts: [], p50: 0, p99: 0, count: 0 };
  const marks = () => (h.count === 0 ? [] : [
    { x: percentileX(h.le, h.p50 / 1e6), label: 'p50', color: '#1a7f37' },
    { x: percentileX(h.le, h.p99 / 1e6), label: 'p99', color: '#c62828' },
  ]);
  // One label in `every` buckets, so that they never overlap.
  const label = (i, every) => {
    const b = i % every === 0 ? h.le[i] : undefined;
    if (b === undefined) return '';
    return b === null ? '+Inf' : `≤${format.seconds(b)}`;
  };
  const opts = {
    width: width(el),
    height: HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false, range: (u) => [-0.5, Math.max(0.5, h.le.length - 0.5)] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    series: [{}, { label: 'tasks', stroke: '#3366cc', fill: 'rgba(51,102,204,0.35)', paths: uPlot.paths.bars({ size: [0.85, 60] }), points: { show: false } }],
    axes: [{ splits: () => h.le.map((_, i) => i), values: (u, splits) => splits.map((i) => label(i, Math.ceil(splits.length / (u.bbox.width / devicePixelRatio / 64)))) }, { size: 50 }],
    plugins: [markers(marks)],
  };
  const plot = new uPlot(opts, [[], []], el);
  return {
    plot,
    update(next) {
      h = next;
      plot.setData([h.le.map((_, i) => i), h.counts]);
    },
    resize() {
      plot.setSize({ width: width(el), height: HEIGHT });
    },
  };
}

const ROW = 16;

// Busy share 0..1 -> one sequential scale from pale yellow (idle) to dark
// red (always busy); the page's legend (style.css, .heat-scale) has the
// same stops.
function heat(u) {
  const stops = [[0, [255, 255, 204]], [0.25, [254, 217, 118]], [0.5, [253, 141, 60]], [0.75, [227, 26, 28]], [1, [128, 0, 38]]];
  for (let i = 1; i < stops.length; i++) {
    if (u <= stops[i][0]) {
      const [a, ca] = stops[i - 1];
      const [b, cb] = stops[i];
      const f = (u - a) / (b - a);
      return `rgb(${ca.map((c, k) => Math.round(c + (cb[k] - c) * f)).join(',')})`;
    }
  }
  return 'rgb(128,0,38)';
}

// The utilization heat map: rows = executor slots, columns = samples
// (oldest left). update(utilization (per sample, per slot), slots).
export function heatMap(canvas, labels) {
  return {
    update(utilization, slots) {
      if (labels.childElementCount !== slots) {
        labels.replaceChildren(...Array.from({ length: slots }, (_, i) => {
          const d = document.createElement('div');
          d.className = 'row-label';
          d.textContent = `executor ${i}`;
          return d;
        }));
      }
      const cssWidth = Math.max(200, canvas.parentElement.clientWidth - labels.offsetWidth - 8);
      const dpr = window.devicePixelRatio || 1;
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${slots * ROW}px`;
      canvas.width = Math.round(cssWidth * dpr);
      canvas.height = Math.round(slots * ROW * dpr);
      canvas.dataset.rows = String(slots);
      canvas.dataset.columns = String(utilization.length);
      const ctx = canvas.getContext('2d');
      ctx.scale(dpr, dpr);
      ctx.fillStyle = '#f3f4f6';
      ctx.fillRect(0, 0, cssWidth, slots * ROW);
      const columns = Math.max(60, utilization.length);
      const w = cssWidth / columns;
      const first = columns - utilization.length;   // newest at the right edge
      utilization.forEach((sample, c) => {
        for (let r = 0; r < slots; r++) {
          const u = sample[r];
          if (u === null || u === undefined) continue;
          ctx.fillStyle = heat(u);
          ctx.fillRect((first + c) * w, r * ROW + 1, Math.ceil(w), ROW - 2);
        }
      });
    },
  };
}
