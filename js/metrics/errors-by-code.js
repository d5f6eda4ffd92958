'use strict';
// Settled tasks by outcome and failures by error code, with a bounded label
// set: the first MAX_CODES distinct codes keep their own label for the life
// of the pool; later ones are counted as 'other'. (Re-ranking to keep the
// top codes would move counts between labels, and a Prometheus counter must
// never go down.) The code of a failure is its `error.code`, else its class
// name (`error.name`, then the constructor's name), else 'unknown'.

const MAX_CODES = 20;
const OTHER = 'other';
const OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out'];

function codeOf(err) {
  if (err !== null && typeof err === 'object') {
    if (typeof err.code === 'string' && err.code.length > 0) return err.code;
    if (typeof err.name === 'string' && err.name.length > 0) return err.name;
    const ctor = err.constructor;
    if (typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name.length > 0) return ctor.name;
  }
  return 'unknown';
}

function outcomeOf(code) {
  if (code === 'ABORT_ERR') return 'cancelled';
  if (code === 'ERR_TASK_TIMEOUT') return 'timed_out';
  return 'failed';
}

class ErrorsByCode {
  constructor() {
    this.outcomes = { succeeded: 0, failed: 0, cancelled: 0, timed_out: 0 };
    this.codes = new Map();  // code (or OTHER) -> count, in order of first sight
    this.named = 0;          // codes with a label of their own
  }

  succeeded(n = 1) {
    this.outcomes.succeeded += n;
  }

  // A task rejected with `err`; `code` overrides codeOf(err) (a task whose
  // error is not built: a failed group's later failures).
  failed(err, code = codeOf(err)) {
    this.outcomes[outcomeOf(code)]++;
    const count = this.codes.get(code);
    if (count !== undefined) this.codes.set(code, count + 1);
    else if (this.named < MAX_CODES && code !== OTHER) {
      this.named++;
      this.codes.set(code, 1);
    } else {
      this.codes.set(OTHER, (this.codes.get(OTHER) || 0) + 1);
    }
  }

  // Plain copy: { outcomes: {...}, codes: { code: count } }.
  snapshot() {
    return { outcomes: { ...this.outcomes }, codes: Object.fromEntries(this.codes) };
  }
}

// `now` minus `before` (snapshots), for a window.
function difference(now, before) {
  const outcomes = {};
  for (const k of OUTCOMES) outcomes[k] = now.outcomes[k] - before.outcomes[k];
  const codes = {};
  for (const [code, n] of Object.entries(now.codes)) {
    const d = n - (before.codes[code] || 0);
    if (d > 0) codes[code] = d;
  }
  return { outcomes, codes };
}

module.exports = { ErrorsByCode, codeOf, difference, MAX_CODES, OTHER, OUTCOMES };
