'use strict';
// `tasklets top <url>`: a dashboard's event stream (tasklets.dashboard() or
// dashboardHandler()) as a live terminal table, redrawn in place about once
// a second, for servers without a browser. Keys: n = next pool, q or
// Ctrl-C = quit. Without a terminal (a pipe) it prints one frame per event;
// --once prints one frame and exits.

const { connect } = require('./sse');
const { render } = require('./top-render');

const USAGE = `usage: tasklets top <url> [--pool NAME] [--once]

  <url>        a tasklets dashboard: tasklets.dashboard()'s url, or the
               path dashboardHandler() is mounted under
  --pool NAME  the pool to show first (default: the dashboard's first)
  --once       print one frame and exit

keys: n  next pool    q, Ctrl-C  quit
`;
const ALT_SCREEN = '\x1b[?1049h\x1b[?25l';
const MAIN_SCREEN = '\x1b[?25h\x1b[?1049l';

class UsageError extends Error {}

function parseArgs(argv) {
  const o = { url: null, pool: null, once: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') o.help = true;
    else if (a === '--once') o.once = true;
    else if (a === '--pool') {
      if (i + 1 >= argv.length) throw new UsageError('--pool needs a pool name');
      o.pool = argv[++i];
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (o.url !== null) throw new UsageError(`unexpected argument ${a}`);
    else o.url = a;
  }
  if (o.help) return o;
  if (o.url === null) throw new UsageError('no dashboard url given');
  let url;
  try {
    url = new URL(o.url);
  } catch {
    throw new UsageError(`${o.url} is not a URL (e.g. http://127.0.0.1:9464/)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${o.url} is not an http(s) URL`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  o.url = url;
  return o;
}

function eventsUrl(base, pool) {
  const url = new URL('events', base);
  if (pool !== null) url.searchParams.set('pool', pool);
  return url;
}

async function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`tasklets top: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const out = process.stdout;
  const tty = Boolean(out.isTTY) && !o.once;
  const color = Boolean(out.isTTY) && !('NO_COLOR' in process.env);
  let key = o.pool;
  let last = null;
  let stream = null;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });

  const draw = (status = '') => {
    if (last === null) return;
    const lines = render(last, { source: o.url.href, columns: out.columns || 120, rows: out.rows || 50, color, status });
    if (tty) out.write(`\x1b[H${lines.join('\x1b[K\n')}\x1b[K\x1b[J`);
    else out.write(`${lines.join('\n')}\n\n`);
  };
  const onEvent = (e) => {
    if (e.event !== 'snapshot') return;
    last = JSON.parse(e.data);
    draw();
    if (o.once) finish(0);
  };
  const onEnd = (err) => {
    if (stream === null) return;   // replaced on purpose (next pool)
    process.stderr.write(`${tty ? MAIN_SCREEN : ''}tasklets top: the dashboard closed the stream${err ? ` (${err.message})` : ''}\n`);
    finish(1);
  };
  const open = async () => {
    const old = stream;
    stream = null;
    if (old !== null) old.close();
    stream = await connect(eventsUrl(o.url, key), onEvent, onEnd);
  };

  try {
    await open();
  } catch (err) {
    process.stderr.write(`tasklets top: ${err.message}\n`);
    return 1;
  }
  const stdin = process.stdin;
  const onKey = (data) => {
    const k = String(data);
    if (k === 'q' || k === '\x03') finish(0);
    else if (k === 'n' && last !== null && last.pools.length > 1) {
      const at = last.pools.indexOf(last.snapshot === null ? key : last.snapshot.pool);
      key = last.pools[(at + 1) % last.pools.length];
      open().catch((err) => {
        process.stderr.write(`${MAIN_SCREEN}tasklets top: ${err.message}\n`);
        finish(1);
      });
    }
  };
  const onSignal = () => finish(0);
  const onResize = () => draw();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (tty) {
    out.write(ALT_SCREEN);
    out.on('resize', onResize);
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      stdin.resume();
      stdin.on('data', onKey);
    }
  }
  const code = await done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (tty) {
    out.off('resize', onResize);
    if (stdin.isTTY) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
    if (code === 0) out.write(MAIN_SCREEN);
  }
  const s = stream;
  stream = null;
  if (s !== null) s.close();
  return code;
}

module.exports = { main, parseArgs, USAGE };
