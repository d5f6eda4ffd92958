'use strict';
// The Prometheus text exposition format (version 0.0.4) for metric families
// shaped as prom-client's metric.get() results:
//   { name, help, type: 'counter' | 'gauge' | 'histogram',
//     values: [{ labels: { name: value }, value, metricName? }] }
// (metricName: the sample's name when it is not the family's, e.g. a
// histogram's `_bucket`, `_sum` and `_count`).

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text) {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function number(value) {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(labels) {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}`;
}

function format(families) {
  const lines = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const v of f.values) lines.push(`${v.metricName || f.name}${labelText(v.labels)} ${number(v.value)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// Families with the same name (one per pool) become one, so that each name
// has a single HELP/TYPE block, as the format requires.
function mergeFamilies(lists) {
  const byName = new Map();
  for (const list of lists) {
    for (const f of list) {
      const seen = byName.get(f.name);
      if (seen === undefined) byName.set(f.name, { ...f, values: [...f.values] });
      else seen.values.push(...f.values);
    }
  }
  return [...byName.values()];
}

module.exports = { format, mergeFamilies, CONTENT_TYPE };
