'use strict';
// The runtime's log (js/logging.js): option validation, level filtering, the
// text and pino-compatible JSON lines, and the stderr / stdout / file
// destinations. No addon needed.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { resolveLogging, createLogger } = require('../../js/logging');
const { throwsOption } = require('./fixtures/assertions');

// Runs fn with process[stream].write captured; returns the text written.
function capture(stream, fn) {
  const target = process[stream];
  const original = target.write;
  let text = '';
  target.write = (chunk) => {
    text += String(chunk);
    return true;
  };
  try {
    fn();
  } finally {
    target.write = original;
  }
  return text;
}

describe('resolveLogging', () => {
  test('defaults, a level name, and an object with some keys', () => {
    assert.deepEqual(resolveLogging(undefined), { level: 'warn', format: 'text', destination: 'stderr' });
    assert.deepEqual(resolveLogging('debug'), { level: 'debug', format: 'text', destination: 'stderr' });
    assert.deepEqual(resolveLogging({ format: 'json' }), { level: 'warn', format: 'json', destination: 'stderr' });
    assert.deepEqual(resolveLogging({ level: 'off', destination: 'stdout' }), { level: 'off', format: 'text', destination: 'stdout' });
    for (const level of ['off', 'error', 'warn', 'info', 'debug', 'trace']) assert.equal(resolveLogging(level).level, level);
  });

  test('a file destination becomes an absolute path; a resolved object resolves to itself', () => {
    const r = resolveLogging({ destination: 'logs/tasklets.log' });
    assert.equal(r.destination, path.resolve('logs/tasklets.log'));
    assert.ok(path.isAbsolute(r.destination));
    assert.deepEqual(resolveLogging(r), r);
  });

  test('bad values throw ERR_INVALID_ARG_VALUE naming the option', () => {
    throwsOption(() => resolveLogging('verbose'), RangeError, /"logging"/);
    throwsOption(() => resolveLogging(3), TypeError, /"logging"/);
    throwsOption(() => resolveLogging(null), TypeError, /"logging"/);
    throwsOption(() => resolveLogging(['warn']), TypeError, /"logging"/);
    throwsOption(() => resolveLogging({ level: 'loud' }), RangeError, /"logging\.level"/);
    throwsOption(() => resolveLogging({ level: 2 }), TypeError, /"logging\.level"/);
    throwsOption(() => resolveLogging({ format: 'xml' }), RangeError, /"logging\.format"/);
    throwsOption(() => resolveLogging({ format: true }), TypeError, /"logging\.format"/);
    throwsOption(() => resolveLogging({ destination: '' }), RangeError, /"logging\.destination"/);
    throwsOption(() => resolveLogging({ destination: 'a\0b' }), RangeError, /"logging\.destination"/);
    throwsOption(() => resolveLogging({ destination: 1 }), TypeError, /"logging\.destination"/);
    throwsOption(() => resolveLogging({ level: 'warn', colour: true }), TypeError, /"logging\.colour"/);
  });

  test('the option name given is the one errors use', () => {
    throwsOption(() => resolveLogging({ format: 'xml' }, 'options.log'), RangeError, /"options\.log\.format"/);
    throwsOption(() => resolveLogging('x', 'options.log'), RangeError, /"options\.log"/);
  });
});

describe('createLogger', () => {
  test('level filtering: enabled() and which calls write', () => {
    const log = createLogger({ level: 'info' });
    assert.equal(log.level, 'info');
    assert.deepEqual(['error', 'warn', 'info', 'debug', 'trace'].map((l) => log.enabled(l)), [true, true, true, false, false]);
    assert.equal(log.enabled('off'), false);
    assert.equal(log.enabled('nonsense'), false);
    const text = capture('stderr', () => {
      log.trace('t');
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
    });
    assert.deepEqual(text.trim().split('\n').map((l) => l.split(' ')[1]), ['INFO', 'WARN', 'ERROR']);
  });

  test('a disabled level does not look at its fields', () => {
    const log = createLogger('error');
    const fields = {};
    Object.defineProperty(fields, 'x', { enumerable: true, get() { throw new Error('formatted a disabled record'); } });
    const text = capture('stderr', () => log.warn('hidden', fields));
    assert.equal(text, '');
  });

  test("'off' writes nothing at any level and opens no file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-log-'));
    try {
      const file = path.join(dir, 'never.log');
      const log = createLogger({ level: 'off', destination: file });
      const text = capture('stderr', () => {
        for (const l of ['error', 'warn', 'info', 'debug', 'trace']) log[l]('x', { a: 1 });
      }) + capture('stdout', () => log.error('x'));
      assert.equal(text, '');
      assert.equal(fs.existsSync(file), false);
      assert.equal(log.enabled('error'), false);
      log.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('JSON lines carry pino fields, numeric levels and the given fields', () => {
    const log = createLogger({ level: 'trace', format: 'json' });
    const before = Date.now();
    const text = capture('stderr', () => {
      log.trace('t');
      log.debug('d');
      log.info('task done', { taskId: 7, worker: 1, durationMs: 2.5 });
      log.warn('w');
      log.error('e');
    });
    const after = Date.now();
    assert.ok(text.endsWith('\n'));
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.level), [10, 20, 30, 40, 50]);
    assert.deepEqual(lines.map((l) => l.msg), ['t', 'd', 'task done', 'w', 'e']);
    for (const line of lines) {
      assert.equal(line.name, 'tasklets');
      assert.equal(line.pid, process.pid);
      assert.equal(line.hostname, os.hostname());
      assert.equal(typeof line.time, 'number');
      assert.ok(line.time >= before && line.time <= after, `time ${line.time} within [${before}, ${after}]`);
    }
    assert.equal(lines[2].taskId, 7);
    assert.equal(lines[2].worker, 1);
    assert.equal(lines[2].durationMs, 2.5);
  });

  test('JSON: an Error field is { type, message, stack, code }; an Error as fields becomes err', () => {
    const log = createLogger({ level: 'warn', format: 'json' });
    const err = new RangeError('out of range');
    err.code = 'E_RANGE';
    const text = capture('stderr', () => {
      log.error('task failed', { taskId: 3, err });
      log.warn('bare error', new TypeError('bad'));
    });
    const [a, b] = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(a.err, { type: 'RangeError', message: 'out of range', stack: err.stack, code: 'E_RANGE' });
    assert.equal(a.taskId, 3);
    assert.equal(b.err.type, 'TypeError');
    assert.equal(b.err.message, 'bad');
    assert.match(b.err.stack, /^TypeError: bad/);
  });

  test('JSON: fields never replace the record keys, and unencodable fields do not throw', () => {
    const log = createLogger({ level: 'info', format: 'json' });
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    const text = capture('stderr', () => {
      log.info('m', { level: 'custom', name: 'mine', n: 10n });
      log.info('cyclic', { cyclic });
    });
    const [a, b] = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(a.level, 30);
    assert.equal(a.name, 'tasklets');
    assert.equal(a._level, 'custom');
    assert.equal(a._name, 'mine');
    assert.equal(a.n, '10');
    assert.equal(b.msg, 'cyclic');
    assert.equal(b.level, 30);
    assert.match(b.fieldsError, /could not be written/);
  });

  test('text lines: ISO time, LEVEL, tasklets:, message, key=value', () => {
    const log = createLogger('debug');
    const err = new Error('boom');
    err.code = 'E_BOOM';
    const text = capture('stderr', () => {
      log.warn('executor slow', { worker: 2, durationMs: 12.5, note: 'two words', ok: true });
      log.debug('multi\nline', { err });
    });
    const [a, b] = text.split('\n');
    assert.match(a, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN tasklets: executor slow worker=2 durationMs=12\.5 note="two words" ok=true$/);
    assert.ok(!Number.isNaN(Date.parse(a.split(' ')[0])));
    assert.match(b, /^\S+ DEBUG tasklets: multi\\nline err="Error: boom" err\.code=E_BOOM$/);
    assert.equal(text.split('\n').length, 3, 'two lines and the final newline');
  });

  test("destination 'stdout' writes to stdout, not stderr", () => {
    const log = createLogger({ level: 'info', destination: 'stdout' });
    let err = '';
    const out = capture('stdout', () => {
      err = capture('stderr', () => log.info('to stdout'));
    });
    assert.equal(err, '');
    assert.match(out, /INFO tasklets: to stdout\n$/);
  });

  describe('file destination', () => {
    let dir;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-log-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('appends lines synchronously, keeps what was there, writes nothing after close()', () => {
      const file = path.join(dir, 'tasklets.log');
      fs.writeFileSync(file, 'existing line\n');
      const log = createLogger({ level: 'info', format: 'json', destination: file });
      const out = capture('stderr', () => log.info('first', { taskId: 1 }));
      assert.equal(out, '', 'nothing on stderr');
      // Synchronous: on disk as soon as the call returned.
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      assert.equal(lines[0], 'existing line');
      assert.equal(JSON.parse(lines[1]).msg, 'first');
      log.warn('second');
      log.close();
      log.close();
      log.error('after close');
      const all = fs.readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(all.length, 3);
      assert.equal(JSON.parse(all[2]).msg, 'second');
    });

    test('a file that cannot be opened fails at createLogger with ERR_INVALID_ARG_VALUE', () => {
      const file = path.join(dir, 'missing-dir', 'x.log');
      throwsOption(() => createLogger({ level: 'warn', destination: file }), RangeError, /"logging\.destination".*missing-dir/);
      throwsOption(() => createLogger({ destination: dir }, 'opts.logging'), RangeError, /"opts\.logging\.destination"/);
    });
  });
});
