'use strict';
// The error record's traces (docs/api.md, "Errors"): `stackTrace`, the JS
// stack where a failure happened in JS; `nativeTrace`, the symbolized C++
// stack where native code failed or found the failure; each absent where
// there is none.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { addonPath, load } = require('../../js/addon');
const { Tasklets } = require('../../js/index');

const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;
const TIMEOUT = { timeout: 60000 };

// "#0 function+0x1f (/path/object+0x1234)" lines, innermost first.
function frames(nativeTrace) {
  assert.equal(typeof nativeTrace, 'string');
  const lines = nativeTrace.trimEnd().split('\n');
  // `name (object+0xoffset)`, or `?? (0xaddress)` for a frame in no object
  // the symbolizer can read (official Node binaries have such frames).
  for (const [i, line] of lines.entries()) assert.match(line, new RegExp(`^#${i} .+ \\((.+\\+0x[0-9a-f]+|0x[0-9a-f]+)\\)$`));
  return lines;
}

describe('error traces', { skip }, () => {
  test("a task's own error: stackTrace is its stack in the executor, with more than Node's default 10 frames; no nativeTrace", TIMEOUT, async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const failing = pool.run((depth) => {
        function descend(n) {
          if (n === 0) throw new TypeError('deep down');
          return descend(n - 1) + 1;
        }
        return descend(depth);
      }, { args: [30] });
      await assert.rejects(failing, (err) => {
        assert.ok(err instanceof TypeError);
        assert.equal(typeof err.stackTrace, 'string');
        assert.match(err.stackTrace, /^TypeError: deep down\n/);
        assert.ok(err.stackTrace.split('\n').filter((l) => /at descend /.test(l)).length >= 31, err.stackTrace);
        assert.equal(err.stackTrace, err.stack);
        assert.equal('nativeTrace' in err, false);
        return true;
      });
      // The closure hint changes `stack`'s message; stackTrace stays as thrown.
      const hidden = 1;
      await assert.rejects(pool.run(() => hidden), (err) => {
        assert.match(err.stack, /cannot see variables of the caller/);
        assert.match(err.stackTrace, /^ReferenceError: hidden is not defined\n/);
        return true;
      });
    } finally {
      await pool.shutdown();
    }
  });

  test('the main thread keeps its own stack limit', () => {
    assert.equal(Error.stackTraceLimit, 10);
  });

  test('a crashed executor: nativeTrace is where the addon saw the task end; no stackTrace', TIMEOUT, async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      const lost = pool.run(() => process.exit(3));
      await assert.rejects(lost, (err) => {
        assert.equal(err.code, 'ERR_WORKER_CRASHED');
        assert.match(err.message, /exited with code 3/);
        assert.doesNotMatch(err.message, /\u0000|#0 /);
        const lines = frames(err.nativeTrace);
        assert.match(lines[0], /^#0 tasklets_addon::.*set_native_error\(/);
        assert.ok(lines.some((l) => /tasklets_addon::/.test(l) && !/set_native_error/.test(l)), err.nativeTrace);
        assert.equal('stackTrace' in err, false);
        return true;
      });
      assert.equal(await pool.run(() => 'replaced'), 'replaced');
    } finally {
      await pool.shutdown();
    }
  });

  test('an error the runtime raises: nativeTrace is where it was raised, stackTrace the JS call that reached it', () => {
    const addon = load();
    function callsTheRuntime() {
      addon.createPool({ scaling: 'sideways' }, () => {}, () => {});
    }
    assert.throws(callsTheRuntime, (err) => {
      assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
      assert.match(err.message, /sideways/);
      const lines = frames(err.nativeTrace);
      const raised = lines.findIndex((l) => /tasklets::parse_scaling/.test(l));
      const converted = lines.findIndex((l) => /tasklets_addon::.*config_of\(/.test(l));
      assert.ok(raised >= 0 && converted > raised, err.nativeTrace);
      assert.equal(err.stackTrace, err.stack);
      assert.match(err.stackTrace, /at callsTheRuntime /);
      return true;
    });
  });

  test('errors from JS validation carry neither trace', TIMEOUT, async () => {
    const pool = new Tasklets({ workers: 1 });
    try {
      await assert.rejects(pool.run(42), (err) => {
        assert.equal(err.code, 'ERR_INVALID_ARG_TYPE');
        assert.equal('nativeTrace' in err, false);
        assert.equal('stackTrace' in err, false);
        return true;
      });
    } finally {
      await pool.shutdown();
    }
  });
});
