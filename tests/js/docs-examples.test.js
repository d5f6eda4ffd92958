'use strict';
// Runs the examples of docs/api.md, docs/tuning.md, docs/migration.md and
// docs/observability.md, so that the documentation cannot drift from the code.
//
// Every fenced block tagged ```js or ```mjs is taken, by its first line:
//   // not run          left out (it needs what a test does not have: a port,
//                       a package that is not installed...)
//   // file: <path>     not run: written as <path> (relative) next to every
//                       example, for the examples that use it (task modules)
//   anything else       an example: run in a fresh `node` process (its own
//                       default pool), in its own temporary directory (the
//                       working directory, where the file blocks are), and
//                       it passes if the process exits with code 0 within
//                       EXAMPLE_TIMEOUT_MS. Examples check themselves with
//                       node:assert.
// ```js examples are CommonJS run inside an async function (the docs use
// top-level await for brevity; the function starts on the block's first
// line, so the line numbers of a stack trace are the block's); ```mjs
// examples are ES modules, run as they are.
//
// `tasklets` resolves to this repository as an installed package would: the
// temporary directory holds node_modules/tasklets, a symlink to the
// repository root, so both require('tasklets') and import 'tasklets' go
// through package.json (main / exports). The pools the migration guide
// translates from and the optional peers the observability examples use
// (prom-client, @opentelemetry/*) resolve to this repository's dev copies.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { addonPath } = require('../../js/addon');

const root = path.join(__dirname, '..', '..');
// Each document, with the least it must hold (a guard against a parser that
// silently finds nothing).
const DOCS = [
  { name: 'api.md', minExamples: 20, minNotRun: 1 },
  { name: 'tuning.md', minExamples: 4, minNotRun: 0 },
  { name: 'migration.md', minExamples: 6, minNotRun: 0 },
  { name: 'observability.md', minExamples: 5, minNotRun: 0 },
];
const PEERS = ['piscina', 'tinypool', 'workerpool', 'poolifier', 'prom-client', '@opentelemetry'];
const EXAMPLE_TIMEOUT_MS = 30000;
const NOT_RUN = /^\/\/ not run\b/;
const FILE = /^\/\/ file: (\S+)\s*$/;

// Examples documented as designed that cannot pass yet, with why: `skip`
// (not run) or `todo` (run; a failure is reported but does not fail the
// suite). Remove an entry once what it waits for has landed.
const PENDING = [];

const built = fs.existsSync(addonPath());
const skipAll = built ? false : `the addon is not built (${addonPath()}): run ./tasklets.sh build or set TASKLETS_ADDON`;

// A document -> [{ lang, code, line, heading }] for the ```js and ```mjs blocks.
function codeBlocks(markdown, doc) {
  const lines = markdown.split('\n');
  const blocks = [];
  let heading = '(top)';
  let open = null;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (open === null) {
      const fence = /^```(\w*)\s*$/.exec(text);
      if (fence !== null) {
        open = { lang: fence[1], line: i + 2, heading, body: [] };
      } else if (/^#{1,6} /.test(text)) {
        heading = text.replace(/^#+ /, '');
      }
    } else if (/^```\s*$/.test(text)) {
      if (open.lang === 'js' || open.lang === 'mjs') {
        blocks.push({ lang: open.lang, code: open.body.join('\n'), line: open.line, heading: open.heading });
      }
      open = null;
    } else {
      open.body.push(text);
    }
  }
  assert.equal(open, null, `docs/${doc} ends inside a code block`);
  return blocks;
}

function classify(blocks, doc) {
  const files = [];
  const examples = [];
  let notRun = 0;
  for (const block of blocks) {
    const first = block.code.split('\n', 1)[0];
    const file = FILE.exec(first);
    if (NOT_RUN.test(first)) {
      notRun++;
    } else if (file !== null) {
      const rel = file[1];
      assert.ok(!path.isAbsolute(rel) && !rel.split(/[\\/]/).includes('..'),
                `docs/${doc}:${block.line}: a file block's path must stay inside the example directory: ${rel}`);
      files.push({ rel, code: `${block.code}\n` });
    } else {
      examples.push(block);
    }
  }
  return { files, examples, notRun };
}

function exampleSource(block) {
  if (block.lang === 'mjs') return `${block.code}\n`;
  // The function opens on the block's first line: line numbers stay the block's.
  return `(async () => { ${block.code}\n})().catch((err) => {\n  console.error(err);\n  process.exit(1);\n});\n`;
}

function runNode(file, cwd) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;   // the child is a plain script, not a test file
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], {
      cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: EXAMPLE_TIMEOUT_MS, killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

for (const { name: doc, minExamples, minNotRun } of DOCS) {
const markdown = fs.readFileSync(path.join(root, 'docs', doc), 'utf8');
const { files, examples, notRun } = classify(codeBlocks(markdown, doc), doc);

describe(`docs/${doc} examples`, { skip: skipAll }, () => {
  let base;

  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklets-docs-'));
    fs.mkdirSync(path.join(base, 'node_modules'));
    fs.symlinkSync(root, path.join(base, 'node_modules', 'tasklets'), 'dir');
    for (const peer of PEERS) {
      const installed = path.join(root, 'node_modules', peer);
      if (fs.existsSync(installed)) fs.symlinkSync(installed, path.join(base, 'node_modules', peer), 'dir');
    }
  });

  after(() => {
    if (base !== undefined) fs.rmSync(base, { recursive: true, force: true });
  });

  test('the document has examples, file blocks and no duplicate file', () => {
    assert.ok(examples.length >= minExamples, `only ${examples.length} runnable examples found`);
    assert.ok(notRun >= minNotRun);
    const paths = files.map((f) => f.rel);
    assert.deepEqual(paths, [...new Set(paths)], 'two file blocks write the same path');
  });

  examples.forEach((block, k) => {
    const name = `docs/${doc}:${block.line} (${block.heading})`;
    const { skip = false, todo = false } = PENDING.find((p) => p.match.test(block.code)) || {};
    test(name, { skip, todo, timeout: EXAMPLE_TIMEOUT_MS + 5000 }, async () => {
      const dir = path.join(base, `example-${String(k + 1).padStart(2, '0')}`);
      fs.mkdirSync(dir);
      for (const { rel, code } of files) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), code);
      }
      const file = path.join(dir, block.lang === 'mjs' ? 'example.mjs' : 'example.js');
      fs.writeFileSync(file, exampleSource(block));
      const r = await runNode(file, dir);
      const output = `--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
      assert.notEqual(r.signal, 'SIGKILL', `the example did not finish within ${EXAMPLE_TIMEOUT_MS} ms\n${output}`);
      assert.equal(r.code, 0, `the example exited with code ${r.code} (signal ${r.signal})\n${output}`);
    });
  });
});
}
