'use strict';
// A client for the dashboard's Server-Sent Events stream (js/dashboard/stream.js),
// for `tasklets top`: node:http(s) and the event-stream format's framing
// (blank-line separated blocks of `field: value` lines).

const http = require('node:http');
const https = require('node:https');

// Splits a growing text into complete events: push(chunk) -> [{ event, data }].
class EventParser {
  constructor() {
    this.buffer = '';
  }

  push(chunk) {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events = [];
    let end;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) events.push({ event, data: data.join('\n') });
    }
    return events;
  }
}

// Opens `url` and calls onEvent({ event, data }) for each event. Resolves
// to a handle { close() } once the server answered with an event stream;
// rejects with a readable error if it cannot be reached or is no dashboard.
// onEnd(err?) is called when an open stream ends.
function connect(url, onEvent, onEnd) {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const type = String(res.headers['content-type'] || '');
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        res.resume();
        reject(new Error(`${url.href} answered ${res.statusCode} ${type || '(no content type)'}: not a tasklets dashboard event stream`));
        return;
      }
      const parser = new EventParser();
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        for (const e of parser.push(chunk)) onEvent(e);
      });
      res.on('end', () => onEnd());
      res.on('error', (err) => onEnd(err));
      resolve({ close: () => req.destroy() });
    });
    req.on('error', (err) => reject(new Error(`cannot reach ${url.href}: ${err.message}`)));
  });
}

module.exports = { EventParser, connect };
