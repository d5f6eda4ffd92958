'use strict';
// POST /profile?pool=KEY&durationMs=N: CPU profiles of every executor of a
// pool (pool.profile(), one .cpuprofile document each), answered as a JSON
// file to download. Errors are JSON: { error: { code, message } }.

const DEFAULT_DURATION_MS = 2000;
const MAX_DURATION_MS = 60000;

function sendError(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { code, message } }));
}

function parseDuration(text) {
  if (text === null) return DEFAULT_DURATION_MS;
  const ms = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
  return ms >= 1 && ms <= MAX_DURATION_MS ? ms : null;
}

// entry: { key, pool } or undefined when no pool has that key.
async function profile(res, entry, durationText) {
  const durationMs = parseDuration(durationText);
  if (durationMs === null) {
    sendError(res, 400, 'ERR_INVALID_ARG_VALUE', `durationMs must be an integer from 1 to ${MAX_DURATION_MS}`);
    return;
  }
  if (entry === undefined) {
    sendError(res, 404, 'ERR_POOL_NOT_FOUND', 'No live pool has that name');
    return;
  }
  if (typeof entry.pool.profile !== 'function') {
    sendError(res, 501, 'ERR_PROFILE_UNSUPPORTED', 'This version of tasklets cannot profile a pool (pool.profile() is missing)');
    return;
  }
  let profiles;
  try {
    profiles = await entry.pool.profile({ durationMs });
  } catch (err) {
    sendError(res, 500, (err && err.code) || 'ERR_PROFILE_FAILED', String(err && err.message));
    return;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `tasklets-profile-${entry.key.replace(/[^\w.-]/g, '_')}-${stamp}.json`;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="${name}"`,
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(profiles));
}

module.exports = { profile, sendError, DEFAULT_DURATION_MS, MAX_DURATION_MS };
