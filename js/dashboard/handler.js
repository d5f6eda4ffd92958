'use strict';
// The dashboard's routes, under an optional base path, as one node:http
// (or express) handler:
//
//   GET  /                   the page (public/index.html)
//   GET  /assets/<file>      its scripts and styles, uPlot included
//   GET  /events?pool=KEY    the Server-Sent Events stream (js/dashboard/stream.js)
//   GET  /snapshot?pool=KEY  one message of that stream, as JSON
//   POST /profile?pool=KEY&durationMs=N   CPU profiles to download (js/dashboard/profile.js)
//
// State-changing requests are POST only and same-origin only: a page of any
// other site can make a browser send a request to a loopback port (CSRF),
// and browsers mark such requests with Origin and Sec-Fetch-Site.

const { Stream } = require('./stream');
const { listPools } = require('./snapshot');
const { asset, page } = require('./assets');
const { profile, sendError } = require('./profile');

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

// Whether a POST comes from the dashboard's own page (or from a client that
// is not a browser: those send no Origin, and are not what CSRF abuses).
function sameOrigin(req) {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

// A Host header naming this machine's loopback. A server on loopback that
// answered any Host could be read by a page of another site whose name was
// made to resolve to 127.0.0.1 (DNS rebinding).
function loopbackHost(header) {
  if (typeof header !== 'string') return false;
  const name = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

function send(res, status, body, type, headers = {}) {
  res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS, ...headers });
  res.end(body);
}

function notFound(res) {
  send(res, 404, 'Not found\n', 'text/plain; charset=utf-8');
}

function methodNotAllowed(res, allow) {
  send(res, 405, `Method not allowed (${allow})\n`, 'text/plain; charset=utf-8', { allow });
}

// o: resolved options ({ pools, intervalMs, basePath }); checkHost: refuse
// Host headers that do not name loopback (dashboard() on loopback).
function createHandler(o, checkHost = false) {
  const stream = new Stream(o.pools, o.intervalMs);
  const base = o.basePath;

  // Answers the request, or returns false for a path that is not the
  // dashboard's (left to the next handler).
  function route(req, res, rel, query) {
    if (rel === '/profile') {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      if (!sameOrigin(req)) return sendError(res, 403, 'ERR_CROSS_ORIGIN', 'Cross-origin requests may not start a profile');
      const key = query.get('pool');
      const pools = listPools(o.pools);
      const entry = key === null ? pools[0] : pools.find((p) => p.key === key);
      return profile(res, entry, query.get('durationMs'));
    }
    const file = rel.startsWith('/assets/') ? asset(rel.slice('/assets/'.length)) : null;
    if (rel !== '/' && rel !== '/events' && rel !== '/snapshot' && file === null) return false;
    if (req.method !== 'GET' && (req.method !== 'HEAD' || rel === '/events')) return methodNotAllowed(res, 'GET');
    if (rel === '/events') return stream.add(res, query.get('pool'));
    if (rel === '/snapshot') {
      return send(res, 200, stream.current(query.get('pool')), 'application/json; charset=utf-8', { 'cache-control': 'no-store' });
    }
    if (file !== null) return send(res, 200, file.body, file.type, { 'cache-control': 'no-cache' });
    const p = page();
    return send(res, 200, p.body, p.type, { 'cache-control': 'no-store' });
  }

  function handler(req, res, next) {
    if (checkHost && !loopbackHost(req.headers.host)) {
      return send(res, 421, 'This dashboard answers only to a loopback host name\n', 'text/plain; charset=utf-8');
    }
    let url;
    try {
      url = new URL(req.url, 'http://dashboard.invalid');
    } catch {
      return send(res, 400, 'Bad request\n', 'text/plain; charset=utf-8');
    }
    const path = url.pathname;
    const pass = () => (typeof next === 'function' ? next() : notFound(res));
    if (base !== '' && path !== base && !path.startsWith(`${base}/`)) return pass();
    const rel = path.slice(base.length);
    // The page's URLs are relative: it must be loaded from a path that ends
    // with '/'. (express's app.use(prefix, ...) strips the prefix from req.url
    // but keeps it in req.originalUrl.)
    const shown = typeof req.originalUrl === 'string' ? new URL(req.originalUrl, 'http://dashboard.invalid').pathname : path;
    if ((rel === '' || rel === '/') && !shown.endsWith('/')) {
      res.writeHead(301, { location: `${shown}/${url.search}` });
      return res.end();
    }
    try {
      if (route(req, res, rel === '' ? '/' : rel, url.searchParams) === false) return pass();
      return undefined;
    } catch (err) {
      if (!res.headersSent) return sendError(res, 500, 'ERR_DASHBOARD', String(err && err.message));
      return res.destroy(err);
    }
  }

  return { handler, close: () => stream.close() };
}

module.exports = { createHandler, sameOrigin, loopbackHost };
