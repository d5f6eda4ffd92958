'use strict';
// The terminal table: one block per workload, aligned columns, then the
// targets with PASS / MISS.

// Rows without a figure (skipped, failed, wrong) print their reason across
// the row instead of widening a column.
const isStatusRow = (r) => /^(skipped|no figure):/.test(String(r[1]));
const MAX_REASON = 110;

function table(columns, rows) {
  const figureRows = rows.filter((r) => !isStatusRow(r));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (i === 0 || !isStatusRow(r) ? String(r[i] ?? '').length : 0))));
  const line = (cells) => {
    if (isStatusRow(cells)) {
      const reason = String(cells[1]);
      return `${cells[0].padEnd(widths[0])}  ${reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 3)}...` : reason}`;
    }
    return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[0]) : String(c ?? '').padStart(widths[i]))).join('  ').trimEnd();
  };
  const body = rows.map(line);
  if (figureRows.length === 0 && rows.length === 0) body.push('(nothing measured)');
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...body].join('\n');
}

function render(summaries, cpp, targets) {
  const out = [];
  for (const s of summaries) {
    out.push('', `== ${s.title} (median of ${s.repetitions}) ==`, table(s.columns, s.rows));
    for (const h of s.headlines) out.push(`  ${h}`);
  }
  if (cpp) {
    out.push('', '== C++ lab (bench_core) ==');
    out.push(cpp.status === 'ok' ? cpp.targets.map((t) => `  ${t.verdict.padEnd(4)} ${t.text}`).join('\n') : `  ${cpp.status}: ${cpp.reason}`);
  }
  if (targets.length) {
    out.push('', '== Targets (issues 5 and 15) ==');
    for (const t of targets) out.push(`  ${t.verdict.padEnd(4)} ${t.text}: ${t.detail}`);
  }
  return `${out.join('\n')}\n`;
}

module.exports = { render, table };
