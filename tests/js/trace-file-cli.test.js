'use strict';
// `tasklets trace` (js/cli/trace.js): runs a script in a new process with
// its pools recorded and leaves one trace file; the script's exit code is
// the command's; bad arguments are typed errors and exit code 2.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { addonPath } = require('../../js/addon');
const { parseArgs } = require('../../js/cli/trace');
const { checkTraceDocument, runSlices } = require('./fixtures/trace-check');

const root = path.join(__dirname, '..', '..');
const skip = fs.existsSync(addonPath()) ? false : `the addon is not built (${addonPath()})`;
const SCRIPT = `'use strict';
const tasklets = require(${JSON.stringify(path.join(root, 'js', 'index.js'))});
function traceMe(x) {
  if (x === 7) throw new Error('seven');
  return x * 2;
}
(async () => {
  const pool = new tasklets.Tasklets({ workers: 2, metrics: { name: 'script' } });
  const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => pool.run(traceMe, { args: [i] })));
  await tasklets.run(() => 'on the default pool');
  await pool.shutdown();
  console.log('fulfilled', outcomes.filter((o) => o.status === 'fulfilled').length, process.argv.slice(2).join(','));
  process.exitCode = Number(process.argv[2] || 0);
})();
`;

// Runs `tasklets trace ...args` as the bin would: main(argv) in a node process.
function cli(args, cwd) {
  const code = `require(${JSON.stringify(path.join(root, 'js', 'cli', 'trace.js'))}).main(process.argv.slice(1)).then((c) => process.exit(c))`;
  return spawnSync(process.execPath, ['-e', code, '--', ...args], { cwd, encoding: 'utf8', timeout: 60000 });
}

describe('tasklets trace', { skip, timeout: 120000 }, () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-trace-cli-'));
    fs.writeFileSync(path.join(dir, 'script.js'), SCRIPT);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('records every pool of the script into the file given with -o', () => {
    const run = cli(['-o', 'out/trace.json', 'script.js', '0', 'extra'], dir);
    assert.equal(run.status, 2, 'the output directory must exist');
    fs.mkdirSync(path.join(dir, 'out'));
    const ok = cli(['-o', 'out/trace.json', 'script.js', '0', 'extra'], dir);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^fulfilled 29 0,extra$/m);
    assert.match(ok.stderr, /wrote .*trace\.json \(31 tasks of 2 pool\(s\), 0 events dropped\)/);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'trace.json'), 'utf8'));
    const tracks = checkTraceDocument(doc);
    assert.equal(doc.metadata.pools.length, 2);
    assert.deepEqual(doc.metadata.pools.map((p) => p.recordedTasks).sort(), [1, 30]);
    const slices = [...runSlices(doc).values()].flat();
    const mine = slices.filter((s) => s.name === 'traceMe');
    assert.equal(mine.length, 30);
    assert.ok(mine.every((s) => /^tasklets executor [01] \(pool script\)$/.test(tracks.get(s.tid))));
    assert.equal(mine.filter((s) => s.args.status === 'failed').length, 1);
  });

  test("the script's exit code is the command's, and the trace is written anyway", () => {
    const run = cli(['--capacity=20', 'script.js', '3'], dir);
    assert.equal(run.status, 3, run.stderr);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'trace.json'), 'utf8'));
    checkTraceDocument(doc);
    assert.ok(doc.metadata.droppedEvents > 0);
    assert.ok(doc.metadata.pools.every((p) => p.capacity === 20));
  });

  test('bad arguments: typed errors, usage and exit code 2', () => {
    const bad = [[], ['--output'], ['--capacity', 'x', 'script.js'], ['--capacity', '0', 'script.js'], ['--frob', 'script.js'], ['missing.js']];
    for (const args of bad) {
      assert.throws(() => parseArgs(args), { code: 'ERR_INVALID_ARG_VALUE' }, args.join(' '));
    }
    assert.throws(() => parseArgs('script.js'), { code: 'ERR_INVALID_ARG_TYPE' });
    const run = cli(['--frob', 'script.js'], dir);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /unknown option --frob/);
    assert.match(run.stderr, /Usage: tasklets trace/);
    const help = cli(['--help'], dir);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: tasklets trace/);
  });
});
