'use strict';
// The files the dashboard page loads, all served by the dashboard itself:
// the page has no other source (its Content-Security-Policy says so), so it
// works without a network and leaks nothing to a CDN. uPlot comes from the
// `uplot` npm dependency, found with require.resolve.

const fs = require('node:fs');
const path = require('node:path');

const PUBLIC = path.join(__dirname, 'public');

// name under assets/ -> [file, content type]
const FILES = {
  'app.js': [path.join(PUBLIC, 'app.js'), 'text/javascript; charset=utf-8'],
  'charts.js': [path.join(PUBLIC, 'charts.js'), 'text/javascript; charset=utf-8'],
  'panels.js': [path.join(PUBLIC, 'panels.js'), 'text/javascript; charset=utf-8'],
  'style.css': [path.join(PUBLIC, 'style.css'), 'text/css; charset=utf-8'],
  'uPlot.js': [require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  'uPlot.css': [require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
};
const PAGE = [path.join(PUBLIC, 'index.html'), 'text/html; charset=utf-8'];

const cache = new Map();   // file -> Buffer: read once, on first use

function read(file) {
  let body = cache.get(file);
  if (body === undefined) {
    body = fs.readFileSync(file);
    cache.set(file, body);
  }
  return body;
}

// name -> { body, type }, or null for a name that is not an asset.
function asset(name) {
  const entry = Object.hasOwn(FILES, name) ? FILES[name] : null;
  return entry === null ? null : { body: read(entry[0]), type: entry[1] };
}

function page() {
  return { body: read(PAGE[0]), type: PAGE[1] };
}

module.exports = { asset, page, FILES };
