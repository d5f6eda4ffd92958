#!/usr/bin/env node
'use strict';
// The `tasklets` command: a dispatcher over subcommands, each in
// js/cli/<command>.js exporting main(argv) -> Promise<exit code | void>.
//
//   npx tasklets top <url>                        the dashboard's stream as a live terminal table
//   npx tasklets trace <script.js> -o trace.json  run a script with tracing on

const fs = require('node:fs');
const path = require('node:path');

const COMMANDS = {
  top: "top <url> [--pool NAME]           show a dashboard's live stream as a terminal table",
  trace: 'trace <script.js> -o trace.json   run a script with tracing on, write the trace file',
};
const USAGE = `usage: tasklets <command> [arguments]

commands:
${Object.values(COMMANDS).map((line) => `  ${line}`).join('\n')}

tasklets <command> --help for a command's options.
`;

function fail(message, code) {
  process.stderr.write(`tasklets: ${message}\n\n${USAGE}`);
  process.exitCode = code;
}

function main(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === undefined) return fail('no command given', 2);
  if (!Object.hasOwn(COMMANDS, command)) return fail(`unknown command '${command}'`, 2);
  const file = path.join(__dirname, '..', 'js', 'cli', `${command}.js`);
  if (!fs.existsSync(file)) return fail(`the '${command}' command is not part of this installation (${file} is missing)`, 1);
  // A command may also read its arguments from process.argv, as a script would.
  process.argv = [process.argv[0], file, ...rest];
  const exported = require(file);
  const run = typeof exported === 'function' ? exported : exported.main;
  if (typeof run !== 'function') return fail(`${file} exports no main(argv) function`, 1);
  return Promise.resolve()
    .then(() => run(rest))
    .then((code) => {
      if (Number.isInteger(code)) process.exitCode = code;
    }, (err) => {
      process.stderr.write(`tasklets ${command}: ${err && err.message}\n`);
      process.exitCode = 1;
    });
}

main(process.argv.slice(2));
