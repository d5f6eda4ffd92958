'use strict';
// Task functions travel as source text, registered with the pool under an id
// (addon registerFunction) and compiled by each executor that runs them;
// both sides keep the functions.cacheSize most recently used (below).
//
// Accepted: arrow functions, function expressions and declarations, async
// and generator functions, and method shorthands (`foo(x) { ... }`,
// `async foo() {}`, static class methods), which are wrapped into an object
// literal to become an expression. Rejected: classes, bound and native
// functions (no source to send).
//
// The source is turned into one *expression* here, on the main thread, and
// checked by parsing it (`new Function` parses without running anything), so
// that an executor only ever compiles expressions that are known to parse.

const errors = require('./errors');

function parses(body) {
  try {
    // eslint-disable-next-line no-new-func
    new Function(body);
    return true;
  } catch {
    return false;
  }
}

// fn -> an expression whose value is an equivalent function. The newline
// before the closing parenthesis ends a trailing `// comment`.
function toExpression(fn) {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw errors.argValue('fn', 'a function written in JavaScript (bound and native functions have no source to send)', fn);
  }
  if (/^class\b/.test(source)) {
    throw errors.argValue('fn', 'a function, not a class', fn);
  }
  const direct = `(${source}\n)`;
  if (parses(`return ${direct}`)) return direct;
  const method = `Object.values({ ${source}\n })[0]`;
  if (parses(`return ${method}`)) return method;
  throw errors.argValue('fn', 'a function whose source can be compiled on its own', fn);
}

// The expression of the function a map() chunk runs: it applies the user's
// function to each item of the chunk (with the item's index in the whole
// input) and awaits the results when any of them is a promise.
function mapChunkExpression(userExpression) {
  return `((fn) => function taskletsMapChunk(chunk, start) {
  const out = new Array(chunk.length);
  let async = false;
  for (let i = 0; i < chunk.length; i++) {
    const r = fn(chunk[i], start + i);
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') async = true;
    out[i] = r;
  }
  return async ? Promise.all(out) : out;
})(${userExpression})`;
}

// Per pool: function object / source -> fnId, so a function is registered
// (and sent, and compiled) once, for as long as it stays among the
// `capacity` most recently used (functions.cacheSize). Beyond that the least
// recently used are evicted here and released in the addon, which frees
// each once no submitted task uses it (addon/protocol.md, "Functions"): a
// queued task never loses its function. A release is sent in a microtask,
// after flush() (the pool's: it submits the run() calls of this turn), so
// every task that got an evicted id in this turn (a runAll or map submits
// before it returns) was counted by the addon first. An evicted function
// used again is registered again (a new id, or the same one if the addon
// still had it: then it is not released).
//
// Recency is kept as a stamp per entry (the registration count when it was
// last used: eviction only happens at a registration, so that is fine
// enough), and eviction goes in batches of an eighth, oldest first: a
// sort per capacity / 8 registrations, one store per use.
class FunctionRegistry {
  // register(expression) -> fnId; release(Uint32Array of fnIds);
  // flush(): submit what is queued. capacity: entries kept.
  constructor(register, release = () => {}, capacity = Infinity, flush = () => {}) {
    this.register = register;
    this.release = release;
    this.flush = flush;
    this.capacity = capacity;
    this.byFunction = new WeakMap();   // fn -> entry
    this.byMapFunction = new WeakMap();
    this.byExpression = new Map();     // expression -> entry
    // Source text -> entry: a fresh closure per task (`items.map(i => ({ task:
    // x => x + 1 }))`) is a new object each time but the same source, and
    // parsing it again per task would cost more than running it.
    this.bySource = new Map();
    this.stamp = 0;
    this.lastFunction = undefined;
    this.lastEntry = null;
    this.evicted = [];                 // ids to release at the next microtask
    this.releaseSoon = () => this.releaseEvicted();
  }

  get size() {
    return this.byExpression.size;
  }

  idOf(fn) {
    // The same function object as last time (a loop of run() calls, or
    // runAll over one function) costs one comparison.
    if (fn === this.lastFunction && this.lastEntry.live) {
      this.lastEntry.used = this.stamp;
      return this.lastEntry.id;
    }
    let entry = this.byFunction.get(fn);
    if (entry === undefined || !entry.live) {
      const stale = entry !== undefined;
      const source = Function.prototype.toString.call(fn);
      entry = this.bySource.get(source);
      if (entry === undefined) {
        entry = this.entryOf(toExpression(fn));
        entry.source = source;
        entry.name = fn.name;
        this.bySource.set(source, entry);
        // Only the first object of each source goes into the WeakMap: a
        // fresh closure per task would otherwise grow (and rehash) it on
        // every call, which costs more than looking the source up.
        this.byFunction.set(fn, entry);
      } else if (stale) {
        this.byFunction.set(fn, entry);
      }
    }
    entry.used = this.stamp;
    this.lastFunction = fn;
    this.lastEntry = entry;
    return entry.id;
  }

  idOfMap(fn) {
    let entry = this.byMapFunction.get(fn);
    if (entry === undefined || !entry.live) {
      entry = this.entryOf(mapChunkExpression(toExpression(fn)));
      entry.name = fn.name;
      this.byMapFunction.set(fn, entry);
    }
    entry.used = this.stamp;
    return entry.id;
  }

  idOfExpression(expression) {
    return this.entryOf(expression).id;
  }

  entryOf(expression) {
    let entry = this.byExpression.get(expression);
    if (entry === undefined) {
      const id = this.register(expression);
      // The addon still had it (released in a microtask not run yet, or
      // kept for a queued task): it is ours again.
      const at = this.evicted.indexOf(id);
      if (at !== -1) this.evicted.splice(at, 1);
      entry = { id, expression, source: null, name: '', used: ++this.stamp, live: true };
      this.byExpression.set(expression, entry);
      if (this.byExpression.size > this.capacity) this.evict();
    }
    entry.used = this.stamp;
    return entry;
  }

  // What a trace names function `id` by ({ expression, name }), while it
  // is registered; undefined otherwise. A scan: called once per function
  // and recording.
  describe(id) {
    for (const entry of this.byExpression.values()) {
      if (entry.id === id) return { expression: entry.expression, name: typeof entry.name === 'string' ? entry.name : '' };
    }
    return undefined;
  }

  // Changes the capacity (configure()); evicts at once if it shrank.
  resize(capacity) {
    this.capacity = capacity;
    if (this.byExpression.size > capacity) this.evict();
  }

  // Keeps the newest capacity - capacity / 8 entries (at least one).
  evict() {
    const keep = Math.max(1, this.capacity - (this.capacity >> 3));
    const entries = [...this.byExpression.values()].sort((a, b) => a.used - b.used);
    const drop = entries.length - keep;
    if (drop <= 0) return;
    if (this.evicted.length === 0) queueMicrotask(this.releaseSoon);
    for (let i = 0; i < drop; i++) {
      const entry = entries[i];
      entry.live = false;
      this.byExpression.delete(entry.expression);
      if (entry.source !== null) this.bySource.delete(entry.source);
      this.evicted.push(entry.id);
    }
    if (this.lastEntry !== null && !this.lastEntry.live) {
      this.lastFunction = undefined;
      this.lastEntry = null;
    }
  }

  releaseEvicted() {
    if (this.evicted.length === 0) return;
    const ids = Uint32Array.from(this.evicted);
    this.evicted = [];
    this.flush();
    this.release(ids);
  }
}

// Executor side: fnId -> what compiling its source gave, for at most
// `capacity` functions (the least recently used go first, a batch at a time
// as above; an evicted one is fetched from the addon and compiled again
// when a task needs it).
class CompiledCache {
  constructor(capacity) {
    this.capacity = capacity;
    this.map = new Map();
    this.stamp = 0;
  }

  get size() {
    return this.map.size;
  }

  get(fnId) {
    const entry = this.map.get(fnId);
    if (entry !== undefined) entry.used = this.stamp;
    return entry;
  }

  set(fnId, entry) {
    entry.used = ++this.stamp;
    this.map.set(fnId, entry);
    if (this.map.size > this.capacity) {
      const keep = Math.max(1, this.capacity - (this.capacity >> 3));
      const oldest = [...this.map].sort((a, b) => a[1].used - b[1].used);
      for (let i = 0; i < oldest.length - keep; i++) this.map.delete(oldest[i][0]);
    }
  }

  resize(capacity) {
    this.capacity = capacity;
  }
}

// Executor side: expression -> the function (throws what compiling throws).
function compile(expression) {
  // eslint-disable-next-line no-new-func
  return new Function(`return ${expression}`)();
}

module.exports = { toExpression, mapChunkExpression, FunctionRegistry, CompiledCache, compile };
