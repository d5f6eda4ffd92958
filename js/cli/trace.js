'use strict';
// `tasklets trace [-o trace.json] [--capacity N] <script> [args...]`: runs a
// script in a new Node process with every pool it creates recorded
// (js/cli/trace-preload.js), and leaves one trace file in the Chrome Trace
// Event format (docs/observability.md, "Trace files"). The exit code is the
// script's.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const errors = require('../errors');
const { resolveTraceOptions } = require('../trace-file-document');
const { FILE_VAR, CAPACITY_VAR } = require('./trace-preload');

const PRELOAD = path.join(__dirname, 'trace-preload.js');
const DEFAULT_OUTPUT = 'trace.json';
const USAGE = `Usage: tasklets trace [options] <script> [script arguments...]

Runs <script> with node, recording every tasklets pool it creates, and writes
one trace file (Chrome Trace Event format: open it in https://ui.perfetto.dev,
chrome://tracing or the Performance panel of Chrome DevTools).

Options:
  -o, --output <file>    the trace file (default: ${DEFAULT_OUTPUT})
  --capacity <events>    events kept per pool; the oldest tasks go first (default: 100000)
  -h, --help             this text
`;

function usageError(message) {
  return errors.optionConflict(`${message}\n\n${USAGE}`);
}

// argv (after `trace`) -> { help } or { output, capacity, script, args };
// throws ERR_INVALID_ARG_VALUE.
function parseArgs(argv) {
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string')) {
    throw errors.argType('argv', 'an array of strings', argv);
  }
  let output = DEFAULT_OUTPUT;
  let capacity;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name !== '-o' && name !== '--output' && name !== '--capacity') throw usageError(`unknown option ${arg}`);
    let value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw usageError(`${name} needs a value`);
    if (name === '--capacity') {
      if (!/^\d+$/.test(value)) throw usageError(`--capacity must be a positive integer, not ${value}`);
      value = Number(value);
      capacity = resolveTraceOptions({ capacity: value }).capacity;
    } else {
      output = value;
    }
  }
  if (i >= argv.length) throw usageError('no script given');
  const script = path.resolve(argv[i]);
  if (!fs.existsSync(script)) throw usageError(`no such script: ${argv[i]}`);
  return { output: resolveTraceOptions({ path: output }).path, capacity, script, args: argv.slice(i + 1) };
}

// Runs the script; resolves with its exit code (128 + the signal's number
// if a signal ended it).
function run({ output, capacity, script, args }) {
  const env = { ...process.env, [FILE_VAR]: output };
  if (capacity !== undefined) env[CAPACITY_VAR] = String(capacity);
  else delete env[CAPACITY_VAR];
  // What is there is from an earlier run: the summary must not read it.
  fs.rmSync(output, { force: true });
  const child = spawn(process.execPath, ['--require', PRELOAD, script, ...args], { stdio: 'inherit', env });
  // Ctrl-C reaches the script too: it writes the trace, then ends.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      resolve(code !== null ? code : 128 + (os.constants.signals[signal] || 0));
    });
  });
}

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`tasklets trace: ${err.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const code = await run(parsed);
  let summary;
  try {
    const { metadata } = JSON.parse(fs.readFileSync(parsed.output, 'utf8'));
    summary = `${metadata.recordedTasks} tasks of ${metadata.pools.length} pool(s), ${metadata.droppedEvents} events dropped`;
  } catch (err) {
    process.stderr.write(`tasklets trace: no trace was written to ${parsed.output} (${err.message})\n`);
    return code === 0 ? 1 : code;
  }
  process.stderr.write(`tasklets trace: wrote ${parsed.output} (${summary})\n`);
  return code;
}

module.exports = { main, parseArgs, USAGE };
