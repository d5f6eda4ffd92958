'use strict';
// tasklets.dashboard(): a small HTTP server with the live dashboard page;
// tasklets.dashboardHandler(): the same page for a server of your own
// (docs/observability.md, "Dashboard").

const http = require('node:http');
const { resolveServerOptions, resolveHandlerOptions } = require('./options');
const { createHandler } = require('./handler');

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const failed = (err) => reject(err);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

// Resolves to { url, host, port, close() } once the server listens; rejects
// with a typed error for a bad option, or with the listen error (EADDRINUSE,
// EADDRNOTAVAIL, EACCES) as node:net raises it.
async function dashboard(options) {
  const o = resolveServerOptions(options);
  const { handler, close: closeStreams } = createHandler(o, isLoopback(o.host));
  const server = http.createServer(handler);
  await listen(server, o.port, o.host);
  const { port } = server.address();
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closing = null;
  return {
    url: `http://${shownHost}:${port}/`,
    host: o.host,
    port,
    close() {
      if (closing === null) {
        closing = new Promise((resolve) => {
          closeStreams();
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
      return closing;
    },
  };
}

// A (req, res, next?) handler serving the dashboard under options.basePath
// (default: the root); requests outside it go to `next` (express), else 404.
// handler.close() ends its open event streams.
function dashboardHandler(options) {
  const o = resolveHandlerOptions(options);
  const { handler, close } = createHandler(o, false);
  const mounted = (req, res, next) => handler(req, res, next);
  mounted.close = close;
  return mounted;
}

module.exports = { dashboard, dashboardHandler };
